# syntax=docker/dockerfile:1.7
# The images of tce-platform, built by `make images` (scripts/build-images.sh):
#   --target platform → ghcr.io/tce-dev/tce-platform  every service; the operator's
#                        Deployments choose the entrypoint (dist/services/<name>/src/main.js)
#   --target operator → ghcr.io/tce-dev/tce-operator  dist/operator/src/main.js
# Dev dependencies, the compiler and the IDL toolchain stay in the build stage;
# the runtime images are distroless (node only: no shell, no package manager)
# and run as the unprivileged user 65532. test/unit/images/dockerfile.test.ts
# checks that every COPY source exists and every entrypoint has its source.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# ---------------------------------------------------------------- build
# Generates the gRPC code from the IDL (proto/gen), then compiles to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts/gen-proto.sh scripts/lib.sh ./scripts/
COPY proto ./proto
COPY services ./services
COPY operator ./operator
RUN scripts/gen-proto.sh \
 && npx tsc -p tsconfig.build.json \
 # The services load the descriptor set (reflection, strict decoding) relative to their compiled files.
 && cp proto/gen/descriptors.binpb dist/proto/gen/descriptors.binpb

# ---------------------------------------------------------------- deps
# Production dependencies only; no install scripts run (none is needed at run time).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------- platform
FROM ${RUNTIME_IMAGE} AS platform
WORKDIR /app
ENV NODE_ENV=production
# package.json: "type": "module" makes dist/**/*.js ES modules.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
EXPOSE 8080 8081 9090 50051 50052 50053
# The image's entrypoint is node; the operator sets the component's script as args.
CMD ["--enable-source-maps", "dist/services/gateway/src/main.js"]

# ---------------------------------------------------------------- operator
FROM ${RUNTIME_IMAGE} AS operator
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
EXPOSE 9090
CMD ["--enable-source-maps", "dist/operator/src/main.js"]
