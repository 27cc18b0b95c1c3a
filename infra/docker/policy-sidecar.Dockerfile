# syntax=docker/dockerfile:1
# policy-sidecar: OPA-compatible REST API (/v1/data, /v1/policies, /health) on the project's own
# Rego engine. Build from the repository root:
#   docker build -f infra/docker/policy-sidecar.Dockerfile -t cloud-stack/policy-sidecar .
# The gateway's policies are baked in at /app/infra/policies; mount another directory there (or
# set POLICY_DIR) to serve different ones — the sidecar watches it and reloads on change.

FROM node:22-slim AS build
WORKDIR /src
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true
# The whole workspace: npm ci links every workspace package (.dockerignore beside this file keeps
# node_modules, dist and tests out of the context).
COPY package.json package-lock.json .npmrc nx.json tsconfig.base.json ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# Nx's build of this app alone: dist/apps/policy-sidecar (esbuild inlines the workspace libraries;
# npm packages stay external).
RUN npx nx run @cloud-stack/policy-sidecar:build --outputStyle=static
# Only the npm packages that bundle imports, and what they need, as package-lock.json has them.
COPY infra/docker/prod-deps.mjs ./infra/docker/
RUN node infra/docker/prod-deps.mjs dist/apps/policy-sidecar /deps

FROM node:22-slim
# No HOST: the API listens on loopback, as OPA's does, which is all a sidecar sharing the
# gateway's network namespace (a Cloud Run sidecar, a Kubernetes pod) needs. To serve other hosts set
# HOST=0.0.0.0 together with POLICY_AUTHENTICATION=token and POLICY_AUTHORIZATION=basic: in
# production PUT/DELETE /v1/policies are refused unless authorization is on.
ENV NODE_ENV=production \
    PORT=8181 \
    POLICY_DIR=/app/infra/policies
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/apps/policy-sidecar ./dist
COPY infra/policies ./infra/policies
USER node
EXPOSE 8181
# Liveness: /health answers 200 while the server evaluates; /health?bundles (used here) also
# waits for the policy directory's first successful load.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8181)+'/health?bundles').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.js starts OpenTelemetry before it imports the service (dist/chunks/), so http, express,
# pg and ioredis are instrumented; spans go out when OTEL_EXPORTER_OTLP_ENDPOINT is set.
# A fixed 32 MB young generation: decisions allocate short-lived objects, and rarer scavenges
# keep GC pauses out of most of the decision latency tail (apps/policy-sidecar/README.md: why 32).
CMD ["node", "--min-semi-space-size=32", "--max-semi-space-size=32", "--enable-source-maps", "dist/main.js"]
