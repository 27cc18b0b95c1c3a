# syntax=docker/dockerfile:1
# identity: token issuing, introspection, JWKS, admin API.  Build from the repository root:
#   docker build -f infra/docker/identity.Dockerfile -t cloud-stack/identity .
# Run migrations/seed/key rotation with the same image. The image carries no seed (demo data has
# known passwords); mount one to load it, as compose's `demo` profile does:
#   docker run --rm -e DATABASE_URL=... -e SIGNING_KEY_SECRETS=... -v "$PWD/infra/seed:/seed:ro" \
#     cloud-stack/identity node dist/cli.js seed /seed/demo.json
# NODE_ENV=production: start-up refuses to run without SIGNING_KEY_SECRETS, DATABASE_URL and REDIS_URL.

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
# Nx's build of this app alone: dist/apps/identity (esbuild inlines the workspace libraries;
# npm packages stay external).
RUN npx nx run @cloud-stack/identity:build --outputStyle=static
# Only the npm packages that bundle imports, and what they need, as package-lock.json has them.
COPY infra/docker/prod-deps.mjs ./infra/docker/
RUN node infra/docker/prod-deps.mjs dist/apps/identity /deps

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=3333 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/apps/identity ./dist
USER node
EXPOSE 3333
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3333)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.js starts OpenTelemetry before it imports the service (dist/chunks/), so http, express,
# pg and ioredis are instrumented; spans go out when OTEL_EXPORTER_OTLP_ENDPOINT is set.
# The service creates its database if missing and migrates at start-up.
CMD ["node", "--enable-source-maps", "dist/main.js"]
