# syntax=docker/dockerfile:1

# The image that runs `sweep <job>`: docker run <image> send-delay-notifications,
# docker run <image> migrate. Build: docker build -t sweep:$(node -p "require('./package.json').version") .

# Every stage on the same Node line, so the modules installed in one run in the other.
# 22 is a maintained LTS line; package.json asks for >= 20.12.
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the only ones that matter here build testcontainers' optional
# native extras (ssh2, cpu-features), which the compiler never needs and slim has no
# toolchain for.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY seeds ./seeds
RUN npm run build

# Production modules in a stage of their own, so npm's cache and the dev tools stay
# out of the final layers.
FROM ${NODE_IMAGE} AS production-modules
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# seed refuses to run under production, and libraries skip their development paths.
ENV NODE_ENV=production
# A sweep's live heap stays near 20 MB (65 MB at --concurrency 1024 --page-size 10000),
# but with no limit V8 lets garbage reach about 100 MB before a full collection: peak RSS
# 180 MB where 120 MB does (npm run bench, docs/performance.md). 256 MB is a ceiling
# for the garbage, not a budget the sweep needs; the pod's env can override it.
ENV NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
# Everything is owned by root and read-only for the user that runs: the job can write
# nothing in its own code, and the pods mount the root file system read-only as well.
COPY --from=production-modules /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# src/cli.ts reads the version from here (two levels above dist/src/cli.js).
COPY package.json ./
# `sweep` on the PATH, so the runbooks' commands (sweep runs, sweep deliveries retry …) run
# as written in a pod: kubectl exec <pod> -- sweep runs. A link to bin/sweep.js (mode
# 755, #!/usr/bin/env node); node resolves it, so bin/sweep.js still finds ../dist.
RUN ln -s /app/bin/sweep.js /usr/local/bin/sweep
# Numeric on purpose: the kubelet can only enforce runAsNonRoot on a numeric user.
# 1000 is the image's own `node` user.
USER 1000:1000
# node is PID 1: main.ts handles SIGTERM itself (finish in-flight requests within
# --grace-seconds, release the rest) and sweep starts no child processes to reap,
# so no init process is needed in between.
ENTRYPOINT ["node", "bin/sweep.js"]
CMD ["--help"]
