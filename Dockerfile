# syntax=docker/dockerfile:1
# remediator's image: `serve` by default, `exporter` (or `validate`, `schema`) as the command.

# Build: every dependency, compile src/ to dist/, then drop the dev dependencies.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts are esbuild's (tsx, unused here) and msgpackr-extract's, whose
# prebuilt binary comes as an optional package anyway and is loaded without the script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: production dependencies, dist/ and the playbooks; owned by root, so the process cannot change them.
FROM node:20.20.2-bookworm-slim AS runtime
# HOST: the container's port is reached from outside it (publish it on 127.0.0.1 on the host, as compose does).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=9095 REMEDIATIONS_DIR=/app/remediations
# A young generation of 8 MiB semi-spaces instead of V8's 16: an alert storm's garbage is short-lived, and this
# keeps its peak resident set under 200 MB (190 instead of 203) at the same drain time, for 5-10 % more CPU per
# webhook (docs/benchmarks.md; the bench reads this line).
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# main.js reads its version from package.json.
COPY package.json ./
COPY remediations ./remediations
# The image's own user (uid 1000), not root.
USER node
EXPOSE 9095
# Liveness only (/readyz also needs Redis); the exporter, on EXPORTER_PORT, brings its own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9095) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
