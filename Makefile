# The README's first screen uses `make run` and `make test`.
GO      ?= go
BIN     := bin/sluice
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test test-short vet fmt lint lint-deploy bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sluice

# exec: the server replaces the shell, so Ctrl-C (the terminal signals
# make and the server), SIGTERM to make (which passes SIGTERM alone on to
# its children) or a signal to make's child stops the server itself (go
# run would leave its child running). A SIGINT to make's PID alone is not
# passed on: make waits for the server.
run: build
	exec ./$(BIN) serve

# Rebuild the web UI into internal/ui/dist (committed, so `go build` needs no
# Node.js) and run its browser tests; see docs/ui.md.
.PHONY: web web-e2e
web:
	cd web && npm ci && npm run build

web-e2e: build
	cd web && npm ci && SLUICE_BIN=../$(BIN) npm run test:e2e

# The whole suite: formatting, vet, unit, fuzz-seed, end-to-end and crash
# tests, with deploy/'s tests beside them, then the web UI's browser tests
# when Node.js and Chromium are there (.ci/run installs Chromium; see
# docs/ui.md).
test: fmt vet
	@$(MAKE) --no-print-directory -j2 test-go test-deploy
	@if command -v node >/dev/null && [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then \
	  $(MAKE) --no-print-directory web-e2e; \
	else \
	  echo "SKIPPED: web UI browser tests (need node and /usr/bin/chromium; .ci/run installs them)"; \
	fi

# The end-to-end tests in cmd/sluice mostly wait (for start-ups, flushes,
# rebalances), so up to E2E_PARALLEL of them run at once (t.Parallel; the
# rest of the suite has no parallel tests). deploy/'s tests, mostly
# compilation, run beside them as test-deploy, on the CPU they leave idle.
# -vet=off: test runs vet first, whose analyzers include go test's subset.
E2E_PARALLEL ?= 8
.PHONY: test-go test-deploy
test-go:
	$(GO) test -count=1 -vet=off -timeout 25m -parallel $(E2E_PARALLEL) ./...

test-deploy:
	cd deploy && $(GO) test -count=1 -vet=off ./...

# Unit tests only (skips the end-to-end tests that build and run the binary).
test-short:
	$(GO) test -short -count=1 ./...
	cd deploy && $(GO) test -short -count=1 ./...

# deploy/ is a module of its own (the Dockerfile, compose and Helm chart
# tests and their Helm and Kubernetes libraries, which the binary must not
# depend on): every Go target runs there too.
vet:
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# staticcheck of deploy/'s tests: kept out of lint (and CI) because it
# analyses Helm's and Kubernetes' packages too (about 50 s of CPU cold).
lint-deploy:
	cd deploy && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

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
