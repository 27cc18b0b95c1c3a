# syntax=docker/dockerfile:1
# gateway: the platform's one public entry (authentication, policy, rate limits, budgets, proxy,
# audit). Build from the repository root:
#   docker build -f infra/docker/gateway.Dockerfile -t cloud-stack/gateway .
# NODE_ENV=production: start-up is expected to refuse missing secrets (IDENTITY_CLIENT_SECRET, and
# POLICY_TOKEN when the sidecar requires tokens), naming the variable; nothing secret is baked in.

FROM node:22-slim AS build
WORKDIR /src
# Manifests first, so the dependency layer is cached across source changes.
COPY package.json package-lock.json .npmrc ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# Workspace libraries are TypeScript: esbuild inlines them; npm packages stay external.
RUN npx tsx tools/dev/src/bundle.ts apps/gateway \
 && echo '{"type":"module"}' > dist/apps/gateway/package.json \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/gateway ./dist
# The policies for POLICY_MODE=embedded (the sidecar mode asks the policy-sidecar instead).
COPY infra/policies ./infra/policies
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
