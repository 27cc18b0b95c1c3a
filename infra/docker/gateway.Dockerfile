# syntax=docker/dockerfile:1
# gateway: the platform's one public entry (authentication, policy, rate limits, budgets, proxy,
# audit). Build from the repository root:
#   docker build -f infra/docker/gateway.Dockerfile -t cloud-stack/gateway .
# NODE_ENV=production: start-up is expected to refuse missing secrets (IDENTITY_CLIENT_SECRET, and
# POLICY_TOKEN when the sidecar requires tokens), naming the variable; nothing secret is baked in.

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
# Nx's build of this app alone: dist/apps/gateway (esbuild inlines the workspace libraries;
# npm packages stay external).
RUN npx nx run @cloud-stack/gateway:build --outputStyle=static
# The operator console the gateway serves at /__gateway/console/ (static files, CONSOLE_DIR).
RUN npx nx run @cloud-stack/console:build --outputStyle=static
# Only the npm packages that bundle imports, and what they need, as package-lock.json has them.
COPY infra/docker/prod-deps.mjs ./infra/docker/
RUN node infra/docker/prod-deps.mjs dist/apps/gateway /deps

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/apps/gateway ./dist
COPY --from=build /src/apps/console/dist ./apps/console/dist
# The policies for POLICY_MODE=embedded (the sidecar mode asks the policy-sidecar instead).
COPY infra/policies ./infra/policies
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# main.js starts OpenTelemetry before it imports the service (dist/chunks/), so http, express,
# pg and ioredis are instrumented; spans go out when OTEL_EXPORTER_OTLP_ENDPOINT is set.
CMD ["node", "--enable-source-maps", "dist/main.js"]
