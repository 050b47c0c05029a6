# The launcher's build, tests and demo. Beyond Go and node, `make demo`
# needs g++, make and python3 (npm compiles better-sqlite3 where its
# prebuilt binary cannot be downloaded), `make test` also musl-tools,
# gcc-aarch64-linux-gnu, file, bsdutils and util-linux, network to the npm registry and Debian's
# archive, and about 2 GB under .fixtures; each target says within a
# second what is missing, with the apt-get line that brings it.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO       ?= go
BIN      := bin/launcher
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Each fuzz target's budget, in executions: a count, not a duration, because
# a duration can end a run with a spurious "context deadline exceeded" when a
# worker is busy at the deadline (golang/go#75804, fixed after Go 1.26).
FUZZEXECS ?= 100000

.PHONY: all build test vet unit fuzz static demo clean fixtures builtins bench-preflight bench-metrics \
	backend frontend backend-test e2e e2e-arm64 bench bench-smoke bench-deps soak

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/launcher

# Everything CI runs: vet, the race-enabled tests (real processes, PID
# namespaces, real node), a bounded fuzz run of each target, and a check
# that the binary is static.
test: prereqs-test fixtures vet unit fuzz static backend-test

prereqs-%:
	@bash testdata/prereqs.sh $*

# Real native binaries the preflight tests read (Node 18 from npm,
# better-sqlite3 built for two ABIs, musl objects): built once, kept in
# .fixtures. Needs g++, make, python3 and musl-tools.
fixtures:
	@bash testdata/native/build.sh $(CURDIR)/.fixtures

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

fuzz:
	@set -e; for pkg in ./launcher ./launcher/config ./launcher/http1 ./launcher/nodeopts ./launcher/builtins ./launcher/preflight ./launcher/disk ./launcher/listeners ./launcher/network ./launcher/sourcemap ./launcher/inspector; do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$target ($$pkg) for $(FUZZEXECS) inputs"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZEXECS)x -timeout 10m $$pkg; \
		done; \
	done

static: build
	@file $(BIN) | grep -q 'statically linked' || { file $(BIN); echo "$(BIN) is not static"; exit 1; }
	@echo "$(BIN): static, $$(stat -c %s $(BIN)) bytes"

# The reference backend (TypeScript, bcrypt, better-sqlite3) and the
# frontend, built as the Dockerfile's builder stages build them.
backend:
	@cd rootfs/app/backend && if [ ! -d node_modules ]; then \
		echo "backend: npm ci; npm compiles better-sqlite3 where its prebuilt binary cannot be downloaded (a minute or more; the compiler's lines follow)"; \
		npm ci --no-audit --no-fund --foreground-scripts; fi && npm run build

frontend:
	cd rootfs/app/frontend && npm ci --no-audit --no-fund && npm run build

backend-test: backend
	cd rootfs/app/backend && npm test

# The launcher supervising the reference backend, locally: the database in a
# fresh temporary folder, the demo's options as the add-on's options.
demo: prereqs-demo build backend frontend
	@db=$$(mktemp -d); trap 'rm -rf "$$db"' EXIT INT TERM; \
	echo; \
	echo "launcher supervises the reference backend (Ctrl-C stops it):"; \
	echo "  the add-on      http://127.0.0.1:8099  (GET /api/health)"; \
	echo "  health/metrics  http://127.0.0.1:8098/status  /metrics  /healthz"; \
	echo "  in a terminal   bin/launcher status"; \
	echo "                  LAUNCHER_APP_DIR=$(CURDIR)/rootfs/app/backend LAUNCHER_ENTRY=dist/index.js bin/launcher check"; \
	echo "  database        $$db/hasync.db (removed when the demo stops)"; \
	echo; \
	LAUNCHER_APP_DIR=$(CURDIR)/rootfs/app/backend LAUNCHER_ENTRY=dist/index.js \
	LAUNCHER_OPTIONS_FILE=$(CURDIR)/testdata/demo/options.json \
	FRONTEND_DIR=$(CURDIR)/rootfs/app/frontend/dist DATABASE_PATH=$$db/hasync.db HOST=127.0.0.1 \
	./$(BIN) run

# The add-on in a real container: an image assembled from scratch (the
# static launcher, the built backend, node from the host's /usr), run by
# podman with runc as ENTRYPOINT and PID 1.
e2e: prereqs-e2e build backend frontend
	$(GO) test -tags e2e -count=1 -v -skip Arm64 ./e2e

# The add-on on aarch64 under emulation (qemu-user-static and binfmt_misc,
# set up here): an arm64 image from scratch with Debian 12's arm64 node, the
# arm64 launcher as PID 1, and the backend's modules for arm64 (better-sqlite3
# cross-compiled, about two minutes the first time).
e2e-arm64: backend frontend fixtures
	@bash e2e/arm64.sh $(CURDIR)/.fixtures
	$(GO) test -tags e2e -count=1 -v -run Arm64 ./e2e

# Entrypoints compared (launcher, node, tini, dumb-init, pm2-runtime, the
# bash run.sh): needs tini, dumb-init, jq (apt) and pm2 (npm, into bench/pm2).
bench-deps:
	@[ -x bench/pm2/node_modules/.bin/pm2-runtime ] || npm install --prefix bench/pm2 --no-audit --no-fund pm2@7

bench: build backend frontend bench-deps
	$(GO) run ./bench/entrypoints | tee bench/last-run.md

# Two runs of everything, to prove the benchmark still runs (CI).
bench-smoke: build backend frontend bench-deps
	$(GO) run ./bench/entrypoints -runs 2 -signals 10 -idle 2s -orphans 100

# An hour of restarts, scrapes and signals; fails if the launcher's RSS
# drifts more than 1 MB. Not in CI.
soak: build backend
	$(GO) run ./bench/soak -duration $${SOAK_DURATION:-1h}

# The table of node's own modules, from every release of Node 18 and later
# on npm (about 9 GB fetched, a release at a time; kept answers make a
# second run fetch only new releases). Not in CI: run it when a node is out.
builtins:
	@bash testdata/builtins/build.sh

bench-preflight:
	bench/preflight.sh

bench-metrics:
	bench/metrics.sh

clean:
	rm -rf bin
