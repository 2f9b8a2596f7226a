# Zoryx — build, run and test the bot host and its plugins.
#
#   make run     build the host and the plugins, then start the host
#   make test    build the test fixtures and run every test
#   make bench   print the benchmark figures
#   make lint    rustfmt check, clippy and rustdoc with warnings as errors

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
PROFILE ?= release
EXT := $(shell if [ "$$(uname)" = Darwin ]; then echo dylib; else echo so; fi)
PLUGINS := $(notdir $(wildcard plugins/*))

.PHONY: all plugins host run test fixtures bench lint fmt clean

all: host plugins

host:
	$(CARGO) build --$(PROFILE) -p zoryx-host

# Build every crate in plugins/ as a cdylib and publish it into extensions/ atomically:
# copy to a hidden temp name in the same folder, then rename over the old file.
plugins:
	$(CARGO) build --$(PROFILE) $(addprefix -p ,$(PLUGINS))
	@mkdir -p extensions
	@for p in $(PLUGINS); do \
	  lib="target/$(PROFILE)/lib$${p//-/_}.$(EXT)"; \
	  tmp="extensions/.$$p.$(EXT).tmp"; \
	  cp "$$lib" "$$tmp" && mv -f "$$tmp" "extensions/$$p.$(EXT)"; \
	  echo "published extensions/$$p.$(EXT)"; \
	done

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
	$(CARGO) bench -p zoryx-host --bench isolation

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p zoryx-plugin-api -p zoryx-host -p zoryx-plugin-test

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
