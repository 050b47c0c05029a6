# The launcher's build, tests and demo. `make demo` and `make test` do all
# the set-up a fresh machine needs beyond Go and node.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO       ?= go
BIN      := bin/launcher
LDFLAGS  := -s -w -X github.com/hasync/launcher/launcher.Version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build test vet unit fuzz static demo clean fixtures bench-preflight bench-metrics

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/launcher

# Everything CI runs: vet, the race-enabled tests (real processes, PID
# namespaces, real node), a bounded fuzz run of each target, and a check
# that the binary is static.
test: fixtures vet unit fuzz static

# Real native binaries the preflight tests read (Node 18 from npm,
# better-sqlite3 built for two ABIs, musl objects): built once, kept in
# .fixtures. Needs g++, make, python3 and musl-tools.
fixtures:
	@bash testdata/native/build.sh $(CURDIR)/.fixtures

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

fuzz:
	@set -e; for target in $$($(GO) test -list '^Fuzz' ./launcher | grep '^Fuzz'); do \
		echo "fuzz $$target for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./launcher; \
	done

static: build
	@file $(BIN) | grep -q 'statically linked' || { file $(BIN); echo "$(BIN) is not static"; exit 1; }
	@echo "$(BIN): static, $$(stat -c %s $(BIN)) bytes"

# The launcher supervising a small node server (testdata/demo) on :8099.
demo: build
	@echo "launcher supervises node testdata/demo/index.js: http://127.0.0.1:8099 (Ctrl-C stops)"
	LAUNCHER_APP_DIR=$(CURDIR)/testdata/demo LAUNCHER_NATIVE_MODULES= \
	LAUNCHER_OPTIONS_FILE=$(CURDIR)/testdata/demo/options.json \
	./$(BIN) run

bench-preflight:
	bench/preflight.sh

bench-metrics:
	bench/metrics.sh

clean:
	rm -rf bin
