# make test is the one command that runs every test. It installs what the
# tests need by itself: the pinned Azure IoT Node SDKs (npm ci in interop/).

GO ?= go

.PHONY: test interop-deps vet race fuzz build

test: interop-deps vet
	$(GO) test -count=1 ./...

interop-deps:
	@command -v npm >/dev/null || { echo "make test: npm is missing (Debian: apt-get install nodejs npm)"; exit 1; }
	cd interop && npm ci --no-audit --no-fund --loglevel=error

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

# Run each fuzz target for FUZZTIME (default 30s); the seed corpora under
# testdata/fuzz run as ordinary tests in make test.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) ./sas
	$(GO) test -run '^$$' -fuzz '^FuzzParseConnectionString$$' -fuzztime $(FUZZTIME) ./sas
	$(GO) test -run '^$$' -fuzz '^FuzzSession$$' -fuzztime $(FUZZTIME) ./internal/gateway
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/kql/syntax
	$(GO) test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./internal/kql
	$(GO) test -run '^$$' -fuzz '^FuzzLogin$$' -fuzztime $(FUZZTIME) ./internal/portal

build:
	$(GO) build -o bin/tether ./cmd/tether
