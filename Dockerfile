# Production image of mcp-reconciler: the daemon, and the edge proxy (`edge` command).
# Multi-stage on the upstream Node 22 slim image. CI builds the same file from local bases:
#   docker build --build-arg NODE_IMAGE=local/node-build:22 --build-arg RUNTIME_IMAGE=local/node-base:22 \
#     --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt -t mcp-reconciler:0.1.0 .
ARG NODE_IMAGE=node:22-slim
ARG RUNTIME_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
# Only for machines whose registry access goes through a private CA; empty elsewhere.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src/ src/
COPY systemd/ systemd/
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production
# As the systemd unit: a 1 MiB young generation keeps the daemon's RSS ~25 MiB lower (bench daemon-memory).
ENV NODE_OPTIONS=--max-semi-space-size=1
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY systemd/ ./systemd/
# `add` reads its templates from here (docs/adr/0020).
COPY catalog/ ./catalog/
# The schemas `export` checks its manifests against (docs/adr/0018).
COPY schema/ ./schema/
# Unprivileged; give it the Docker socket's group at run time:
#   docker run --group-add "$(stat -c %g /var/run/docker.sock)" -v /var/run/docker.sock:/var/run/docker.sock ...
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MCP_RECONCILER_STATUS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["run"]
