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
COPY package.json package-lock.json .npmrc ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# Workspace libraries are TypeScript: esbuild inlines them into dist/main.js and dist/cli.js;
# npm packages stay external and come from the pruned node_modules.
RUN npx tsx tools/dev/src/bundle.ts apps/audit-writer \
 && echo '{"type":"module"}' > dist/apps/audit-writer/package.json \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=8010 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/audit-writer ./dist
USER node
EXPOSE 8010
# /health: the process answers. /ready (not used here) also fails while PostgreSQL rejects writes
# or Redis is unreachable — wire it to the orchestrator's readiness probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8010)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: stop taking jobs, write what is held, drain HTTP, exit.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
