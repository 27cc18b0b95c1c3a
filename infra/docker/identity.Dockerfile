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
# Manifests first, so the dependency layer is cached across source changes.
COPY package.json package-lock.json .npmrc ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# Workspace libraries are TypeScript: esbuild inlines them; npm packages stay external.
RUN npx tsx tools/dev/src/bundle.ts apps/identity \
 && echo '{"type":"module"}' > dist/apps/identity/package.json \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:22-slim
ENV NODE_ENV=production \
    PORT=3333 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/identity ./dist
USER node
EXPOSE 3333
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3333)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The service creates its database if missing and migrates at start-up.
CMD ["node", "--enable-source-maps", "dist/main.js"]
