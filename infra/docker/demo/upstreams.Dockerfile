# syntax=docker/dockerfile:1
# The demo upstreams (tools/dev/src/demo-upstreams.ts): the small products behind the gateway in
# docker-compose's `demo` profile, on ports 9101-9105 of one container. Not a platform service and
# not deployed: it lives in infra/docker/demo/, outside the infra/docker/<app>.Dockerfile files CI
# deploys. It exists so the compose demo has something to route to. Build from the repository root:
#   docker build -f infra/docker/demo/upstreams.Dockerfile -t cloud-stack/demo-upstreams .

FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc nx.json tsconfig.base.json ./
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY tools/ ./tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
# One file, dist/demo-upstreams/main.js (the workspace's libraries inlined, npm packages external).
RUN npx tsx tools/dev/src/bundle-demo-upstreams.ts
COPY infra/docker/prod-deps.mjs ./infra/docker/
RUN node infra/docker/prod-deps.mjs dist/demo-upstreams /deps

FROM node:22-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist/demo-upstreams ./dist
USER node
EXPOSE 9101 9102 9103 9104 9105
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9101/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
