# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, ship production dependencies only,
# run as the unprivileged "node" user with a health check on /healthz.
# Base image: the current Node LTS line (24), pinned to a full version tag so a rebuild does not
# silently change Node; bump it deliberately (the service also runs on Node 20.19+ and 22, see
# package.json "engines"; CI and development use Node 20).
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 (the embedded store) installs a prebuilt binary when it can download one, and
# otherwise compiles against the image's Node headers: the toolchain stays in this stage only.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The SMART app (vite) is built into dist/smart-app by the same npm run build.
COPY smart-app ./smart-app
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The clinical knowledge is data, validated at start-up: a bad file stops the container.
COPY --chown=node:node hooks ./hooks
COPY --chown=node:node fhir-mappings ./fhir-mappings
COPY --chown=node:node rules ./rules
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# /metrics only, when CDS_METRICS_PORT=9464 is set (the Kubernetes manifests do).
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
CMD ["node", "dist/server.js"]
