# Zoryx — build, run and test the bot host and its plugins.
#
#   make run     build the host and the plugins, then start the host
#   make test    build the test fixtures and run every test
#   make bench   print the benchmark figures
#   make lint    rustfmt check, clippy and rustdoc with warnings as errors
#   make image-test  build the Dockerfile's final stage with podman and run it
#   make market-index KEY=FILE  the first-party plugins' signed marketplace folder (target/market)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PROFILE ?= release
EXT := $(shell if [ "$$(uname)" = Darwin ]; then echo dylib; else echo so; fi)
PLUGINS := $(notdir $(wildcard plugins/*))
# Every build names zoryx-host among its packages: the host's feature pins (host/Cargo.toml)
# then give each crate the same features in every target, so nothing is compiled twice.

.PHONY: all plugins host run test fixtures bench lint fmt clean image-test market-index

all: host plugins

host:
	$(CARGO) build --$(PROFILE) -p zoryx-host

# Build every crate in plugins/ as a cdylib and publish into extensions/ the libraries whose
# bytes changed (atomically: a hidden temp copy renamed over the old file); unchanged ones are
# left alone, so a running host does not reload them.
plugins:
	$(CARGO) build --$(PROFILE) -p zoryx-host $(addprefix -p ,$(PLUGINS))
	bash scripts/publish-plugins.sh target/$(PROFILE) extensions $(EXT) $(PLUGINS)

# The first-party plugins' marketplace folder, signed with the secret key file KEY
# (`zoryx market keygen --secret FILE` makes one): upload target/market to a static server.
market-index: host plugins
	@test -n "$(KEY)" || { echo "usage: make market-index KEY=secret-key-file" >&2; exit 2; }
	rm -rf target/market
	bash scripts/market-index.sh "$(KEY)" target/market target/$(PROFILE) $(EXT)

run: host plugins
	./target/$(PROFILE)/zoryx run

fixtures:
	bash test-fixtures/build.sh

test: fixtures
	$(CARGO) build --release -p zoryx-host
	$(CARGO) test --workspace --release

bench: plugins
	bash test-fixtures/build.sh bench
	$(CARGO) bench -p zoryx-host --bench host
	$(CARGO) bench -p zoryx-host --bench atomic
	$(CARGO) bench -p zoryx-host --bench database
	$(CARGO) bench -p zoryx-host --bench discord
	$(CARGO) bench -p zoryx-host --bench dashboard
	$(CARGO) bench -p zoryx-host --bench isolation
	$(CARGO) bench -p zoryx-host --bench scale

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps -p zoryx-plugin-api -p zoryx-host -p zoryx-plugin-test

# The container image: its final stage built and run with podman (deploy/test-image.sh).
image-test:
	bash deploy/test-image.sh

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
