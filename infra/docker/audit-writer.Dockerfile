# syntax=docker/dockerfile:1
# audit-writer: consumes the BullMQ queue `audit`, writes events into the partitioned audit table,
# seals and retains them, serves /v1/audit. Build from the repository root:
#   docker build -f infra/docker/audit-writer.Dockerfile -t cloud-stack/audit-writer .
# Migrations run at start (AUDIT_MIGRATE_ON_START=true); or run them as a job with
#   docker run --rm -e DATABASE_URL=… cloud-stack/audit-writer node dist/cli.js migrate
# NODE_ENV=production: start-up refuses to run without AUDIT_INTROSPECTION_CLIENT_SECRET (no default
# anywhere), DATABASE_URL and REDIS_URL; the queue prefix is AUDIT_QUEUE_PREFIX, as for the producers.

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
# Nx's build of this app alone: dist/apps/audit-writer (esbuild inlines the workspace libraries;
# npm packages stay external).
RUN npx nx run @cloud-stack/audit-writer:build --outputStyle=static
# Only the npm packages that bundle imports, and what they need, as package-lock.json has them.
COPY infra/docker/prod-deps.mjs ./infra/docker/
RUN node infra/docker/prod-deps.mjs dist/apps/audit-writer /deps

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=8010 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/apps/audit-writer ./dist
USER node
EXPOSE 8010
# /health: the process answers. /ready (not used here) also fails while PostgreSQL rejects writes
# or Redis is unreachable — wire it to the orchestrator's readiness probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8010)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: stop taking jobs, write what is held, drain HTTP, exit.
STOPSIGNAL SIGTERM
# main.js starts OpenTelemetry before it imports the service (dist/chunks/), so http, express,
# pg and ioredis are instrumented; spans go out when OTEL_EXPORTER_OTLP_ENDPOINT is set.
CMD ["node", "--enable-source-maps", "dist/main.js"]
