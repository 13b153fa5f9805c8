# One image for every service; the command picks which one runs (see docker-compose.yml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Keeps each service inside its 200 MB RSS budget (V8 otherwise grows the heap lazily); measured in
# docs/benchmarks.md. Raise it together with the container's memory limit if you must.
ENV NODE_OPTIONS=--max-old-space-size=96
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemes ./schemes
COPY --from=build /app/package.json ./package.json
USER node
CMD ["node", "--optimize-for-size", "dist/apps/extractor/src/main.js"]
