# The README's first screen uses `make run` and `make test`.
GO      ?= go
BIN     := bin/sluice
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test test-short vet fmt lint bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sluice

run:
	$(GO) run ./cmd/sluice serve

# The whole suite: formatting, vet, unit, fuzz-seed, end-to-end and crash tests.
test: fmt vet
	$(GO) test -count=1 -timeout 20m ./...

# Unit tests only (skips the end-to-end tests that build and run the binary).
test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

# Ingest N records into the real binary and measure it (see docs/benchmarks.md).
N ?= 1000000
bench: build
	$(GO) run ./bench/cmd/sluice-bench -binary $(BIN) -n $(N)

# Run every fuzz test for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin sluice-data
