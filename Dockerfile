# syntax=docker/dockerfile:1
# The HAsync add-on: the frontend and the backend built in their own
# stages (native modules compiled for the runtime's musl, Node and CPU), the
# launcher built static for the image's architecture, and an Alpine runtime
# with node, where the launcher is the entrypoint and PID 1 (config.yaml:
# init: false).
#
# The Supervisor builds this file as `docker buildx build --platform
# linux/<arch>` with BUILD_ARCH (amd64 or aarch64) and BUILD_VERSION, and
# nothing else. Node and Alpine are set once, here: the default is the newest
# pair Home Assistant's base images are built for whose Alpine `nodejs` is a
# Node LTS (Alpine 3.24 ships Node 24). Another pair is two build arguments
# away, e.g. the original, end-of-life one:
#   --build-arg ALPINE_VERSION=3.18 --build-arg NODE_VERSION=18
# (the backend then needs better-sqlite3 11: 12 requires Node 20 or newer).
# The backend builder must stay on the runtime's Alpine release, so musl
# matches, and on the Node major that release's nodejs package gives, so the
# ABI matches; addon/ tests both for every platform.
ARG NODE_VERSION=24
ARG ALPINE_VERSION=3.24
ARG GO_VERSION=1.26
ARG BUILD_FROM=ghcr.io/home-assistant/base:${ALPINE_VERSION}

# Static files only: built on the build machine, whatever the target.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS frontend-builder
WORKDIR /build
COPY rootfs/app/frontend/package.json rootfs/app/frontend/package-lock.json ./
RUN npm ci
COPY rootfs/app/frontend/ ./
RUN npm run build

# Native modules: built on the target platform (emulated when it is not the
# build machine's), against the runtime's musl and Node ABI.
FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS backend-builder
RUN apk add --no-cache python3 make g++
WORKDIR /build
COPY rootfs/app/backend/package.json rootfs/app/backend/package-lock.json ./
RUN npm ci
COPY rootfs/app/backend/tsconfig.json ./
COPY rootfs/app/backend/src/ ./src/
# Fail here, not at runtime, when the entry is missing or a native module
# does not load; then drop the dev dependencies.
RUN npm run build \
 && test -f dist/index.js \
 && node -e "require('bcrypt').hashSync('x', 4); new (require('better-sqlite3'))(':memory:').prepare('SELECT 1').get()" \
 && npm prune --omit=dev

# Go cross-compiles, so this stage runs on the build machine's platform and
# targets the image's: TARGETARCH has no default, so BuildKit sets it from
# --platform (a default would win over the platform and ship an amd64
# launcher in an aarch64 image).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS launcher-builder
ARG TARGETOS
ARG TARGETARCH
ARG BUILD_VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ ./cmd/
COPY launcher/ ./launcher/
COPY health/ ./health/
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X main.version=${BUILD_VERSION}" \
      -o /out/launcher ./cmd/launcher

FROM ${BUILD_FROM} AS runtime
ARG BUILD_VERSION=dev
ARG BUILD_ARCH
# node, and the C++ runtime the native modules link (better-sqlite3 bundles
# SQLite itself).
RUN apk add --no-cache nodejs libstdc++ libgcc
COPY --from=launcher-builder /out/launcher /usr/bin/launcher
COPY --from=backend-builder /build/package.json /app/backend/package.json
COPY --from=backend-builder /build/dist/ /app/backend/dist/
COPY --from=backend-builder /build/node_modules/ /app/backend/node_modules/
COPY rootfs/app/backend/db/ /app/backend/db/
COPY --from=frontend-builder /build/dist/ /app/frontend/dist/
ENV LAUNCHER_APP_DIR=/app/backend LAUNCHER_ENTRY=dist/index.js
# Prove, in this very image, that node will load the backend and every
# native module (ABI, musl, libstdc++, symbols, CPU), and that node and the
# launcher are built for the image's CPU: a bad image fails to build. On an
# emulated platform this runs under emulation, as it must, where a program
# of the build machine's CPU would run natively: the check refuses one.
RUN ["/usr/bin/launcher", "check", "--deep"]
ENTRYPOINT ["/usr/bin/launcher"]
# The Supervisor shows the add-on as starting, and its start, update and
# cold backup wait, until Docker first reports it healthy. Docker checks
# first one --interval after the start; --start-interval (Docker 25 and
# newer; older ones ignore it) checks every second until the first success,
# then every 30 s. --started holds that first success until the backend
# has answered its health route: "started" in Home Assistant means its web
# UI opens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=1s --retries=3 \
  CMD ["/usr/bin/launcher", "healthcheck", "--started"]
LABEL io.hass.name="HAsync" \
      io.hass.description="Syncs Home Assistant state with the HAsync backend" \
      io.hass.version="${BUILD_VERSION}" \
      io.hass.type="addon" \
      io.hass.arch="${BUILD_ARCH}" \
      io.hass.url="https://github.com/hasync/launcher"
