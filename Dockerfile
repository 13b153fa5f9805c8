# One image for every service; the command picks which one runs (see docker-compose.yml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# The build context has no tests, tools or sandboxes' dev data (.dockerignore); the sandboxes' compiled
# code is dropped too: the image carries the services, their CLIs and the console only.
RUN npm run build && rm -rf dist/apps/wdt-sandbox dist/apps/kingdee-sandbox && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# The default heap cap for one-off commands (migrate, topics, CLIs). Every service is given its own,
# measured cap by its manifest (NODE_OPTIONS in deploy/k8s and docker-compose.yml, SERVICE_HEAP_MB,
# docs/benchmarks.md "Heap per service"); raise a cap together with that service's memory limit.
ENV NODE_OPTIONS=--max-old-space-size=96
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemes ./schemes
COPY --from=build /app/package.json ./package.json
USER node
CMD ["node", "--optimize-for-size", "dist/apps/extractor/src/main.js"]
