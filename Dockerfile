# One build, two targets (docker-compose.yml builds each once and reuses it):
#   runtime (default): the services, their CLIs and the console; production dependencies only.
#   sandbox: the same plus the WDT and Kingdee sandboxes and the dev dependencies they need (faker),
#            for the compose `sandbox` profile only.
# The build context holds no tests, tools or local state (.dockerignore).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS sandbox
ENV NODE_ENV=production
ENV NODE_OPTIONS=--max-old-space-size=96
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemes ./schemes
COPY --from=build /app/package.json ./package.json
USER node
CMD ["node", "dist/apps/wdt-sandbox/src/main.js"]

FROM build AS prune
RUN rm -rf dist/apps/wdt-sandbox dist/apps/kingdee-sandbox && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# The default heap cap for one-off commands (migrate, topics, CLIs). Every service is given its own,
# measured cap by its manifest (NODE_OPTIONS in deploy/k8s and docker-compose.yml, SERVICE_HEAP_MB,
# docs/benchmarks.md "Heap per service"); raise a cap together with that service's memory limit.
ENV NODE_OPTIONS=--max-old-space-size=96
WORKDIR /app
COPY --from=prune /app/node_modules ./node_modules
COPY --from=prune /app/dist ./dist
COPY --from=build /app/schemes ./schemes
COPY --from=build /app/package.json ./package.json
USER node
CMD ["node", "--optimize-for-size", "dist/apps/extractor/src/main.js"]
