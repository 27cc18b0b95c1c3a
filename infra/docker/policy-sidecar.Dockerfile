# syntax=docker/dockerfile:1
# policy-sidecar: OPA-compatible REST API (/v1/data, /v1/policies, /health) on the project's own
# Rego engine. Build from the repository root:
#   docker build -f infra/docker/policy-sidecar.Dockerfile -t cloud-stack/policy-sidecar .
# The gateway's policies are baked in at /app/infra/policies; mount another directory there (or
# set POLICY_DIR) to serve different ones — the sidecar watches it and reloads on change.

FROM node:22-slim AS build
WORKDIR /src
# Manifests first, so the dependency layer is cached across source changes.
COPY package.json package-lock.json .npmrc ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# Workspace libraries are TypeScript: esbuild inlines them (the Rego engine included); npm
# packages stay external and come from the pruned node_modules.
RUN npx tsx tools/dev/src/bundle.ts apps/policy-sidecar \
 && echo '{"type":"module"}' > dist/apps/policy-sidecar/package.json \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:22-slim
# No HOST: the API listens on loopback, as OPA's does, which is all a sidecar sharing the
# gateway's network namespace (a Cloud Run sidecar, a Kubernetes pod) needs. To serve other hosts set
# HOST=0.0.0.0 together with POLICY_AUTHENTICATION=token and POLICY_AUTHORIZATION=basic: in
# production PUT/DELETE /v1/policies are refused unless authorization is on.
ENV NODE_ENV=production \
    PORT=8181 \
    POLICY_DIR=/app/infra/policies
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/policy-sidecar ./dist
COPY infra/policies ./infra/policies
USER node
EXPOSE 8181
# Liveness: /health answers 200 while the server evaluates; /health?bundles (used here) also
# waits for the policy directory's first successful load.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8181)+'/health?bundles').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# A fixed 64 MB young generation: decisions allocate short-lived objects (~19 KB each), and
# rarer scavenges keep GC pauses out of most of the decision latency tail.
CMD ["node", "--min-semi-space-size=64", "--max-semi-space-size=64", "--enable-source-maps", "dist/main.js"]
