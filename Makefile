# Targets are what CI runs: build test lint bench fuzz demo release-check.
GO        ?= go
BIN       := bin/auditlens
PKG       := github.com/auditlens/auditlens
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT) -X $(PKG)/internal/version.Date=$(DATE)
FUZZTIME  ?= 20s
GOLANGCI  ?= $(shell command -v golangci-lint 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/golangci-lint)
GORELEASER_VERSION := v2.15.1
GORELEASER ?= $(shell command -v goreleaser 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/goreleaser)
export CGO_ENABLED = 1

.PHONY: all build test lint bench fuzz demo release-check clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/auditlens

# Unit, corpus, fuzz-seed, end-to-end and CLI (testscript) tests.
test: build
	AUDITLENS_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m ./...

lint:
	$(GO) vet ./...
	$(GOLANGCI) run ./...

# Benchmarks with their figures against the goals (events/s, ms per query, bytes/event).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

# Runs every Fuzz* target for FUZZTIME with the real corpus as seeds.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# A realistic case through the real sync path, then the explorer.
demo: build
	./$(BIN) demo

# goreleaser config check and a snapshot build for this machine's target.
release-check:
	@test -x $(GORELEASER) || GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	$(GORELEASER) check
	$(GORELEASER) build --snapshot --clean --single-target --id linux-$(shell $(GO) env GOARCH)

clean:
	rm -rf bin dist
