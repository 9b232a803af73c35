# Production image of mcp-reconciler (daemon and edge). Multi-stage on the upstream Node 22 slim
# image. CI builds it from the local base with --build-arg NODE_IMAGE=local/node-base:22-build.
ARG NODE_IMAGE=node:22-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src/ src/
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
# Runs as the unprivileged node user; give it the Docker socket's group at run time
# (docker run --group-add $(stat -c %g /var/run/docker.sock) ...).
USER node
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["run"]
