# syntax=docker/dockerfile:1
# The HAsync add-on: the frontend and the backend built in their own
# stages (native modules compiled for the runtime's musl and Node), the
# launcher built static, and an Alpine runtime with node, where the
# launcher is the entrypoint and PID 1 (config.yaml: init: false).
#
# Node and Alpine are set once, here. The upgrade path is one edit of these
# two lines: Node 20 on Alpine 3.20, Node 22 on Alpine 3.21. The backend
# builder must stay on the runtime's Alpine release, so musl matches, and on
# the Node major that Alpine's nodejs package gives, so the ABI matches.
ARG NODE_VERSION=18
ARG ALPINE_VERSION=3.18
ARG GO_VERSION=1.26
ARG BUILD_ARCH=amd64
ARG BUILD_FROM=ghcr.io/home-assistant/${BUILD_ARCH}-base:${ALPINE_VERSION}

FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS frontend-builder
WORKDIR /build
COPY rootfs/app/frontend/package.json rootfs/app/frontend/package-lock.json ./
RUN npm ci
COPY rootfs/app/frontend/ ./
RUN npm run build

FROM node:${NODE_VERSION}-alpine${ALPINE_VERSION} AS backend-builder
RUN apk add --no-cache python3 make g++ sqlite-dev
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

# Go cross-compiles, so this stage runs on the build machine's platform.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS launcher-builder
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG BUILD_VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ ./cmd/
COPY launcher/ ./launcher/
COPY health/ ./health/
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X github.com/hasync/launcher/launcher.Version=${BUILD_VERSION}" \
      -o /out/launcher ./cmd/launcher

FROM ${BUILD_FROM} AS runtime
ARG BUILD_VERSION=dev
ARG BUILD_ARCH=amd64
RUN apk add --no-cache nodejs sqlite-libs libstdc++ libgcc
COPY --from=launcher-builder /out/launcher /usr/bin/launcher
COPY --from=backend-builder /build/dist/ /app/backend/
COPY --from=backend-builder /build/node_modules/ /app/backend/node_modules/
COPY --from=backend-builder /build/package.json /app/backend/package.json
COPY rootfs/app/backend/db/ /app/backend/db/
COPY --from=frontend-builder /build/dist/ /app/frontend/dist/
ENV LAUNCHER_APP_DIR=/app/backend
# Prove, in this very image, that node will load the backend and every
# native module (ABI, musl, libstdc++, symbols): a bad image fails to build.
RUN ["/usr/bin/launcher", "check", "--deep"]
ENTRYPOINT ["/usr/bin/launcher"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/bin/launcher", "healthcheck"]
LABEL io.hass.name="HAsync" \
      io.hass.description="Syncs Home Assistant state with the HAsync backend" \
      io.hass.version="${BUILD_VERSION}" \
      io.hass.type="addon" \
      io.hass.arch="${BUILD_ARCH}" \
      io.hass.url="https://github.com/hasync/launcher"
