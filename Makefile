# The duckdb_arrow build tag enables DuckDB's Arrow interface; cgo builds
# DuckDB. Use these targets and never type the tag yourself.
GO       ?= go
TAGS     := duckdb_arrow
BIN      := bin/cdp
export CGO_ENABLED := 1

.PHONY: build demo test vet docs bench bench-unify install clean

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/cdp

# The whole job end to end on embedded defaults: leaves a project in ./cdp-demo.
demo: build
	./$(BIN) demo

# Formatting, vet and every test (real DuckDB files, kfake broker on 127.0.0.1).
# Test binaries are linked without debug information (-s -w): each of the
# ~20 that link DuckDB then links in about 3 s instead of 4.7 s; panics
# still print their stacks.
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -ldflags='-s -w' -count=1 -timeout 30m ./...

vet:
	$(GO) vet -tags $(TAGS) ./...

# The command reference, docs/commands, from the CLI itself (a test checks it is current).
docs: build
	./$(BIN) docs --out docs/commands
	./$(BIN) contract docs --out docs/contracts.md

# Ingest throughput against DuckDB's own readers and memory at 1x/10x.
bench: build
	./$(BIN) bench ingest --memory

# Identity unification of 1M source records, full and one incremental day.
bench-unify: build
	./$(BIN) bench unify --records 1000000

install:
	$(GO) install -tags $(TAGS) ./cmd/cdp

clean:
	rm -rf bin cdp-demo
