# Everything a newcomer needs: `make demo` (the main job) and `make test` (every test).
# Only the Rust toolchain is required; cargo fetches the crates.

CARGO    ?= cargo
BUILD    ?= build
# Release binaries are static and not position-independent: a charm then starts without the
# dynamic loader, its library lookups and its relocations. On a linux-gnu host they are built for
# the host's musl target where rustup has it or can add it (asked once, and only by the targets
# that build release binaries, never by `make test`): glibc's start-up alone (CPU feature and cache
# probing, each CPUID a trap in a virtual machine) costs about 0.3 ms of CPU per hook that musl's
# does not (`make bench`). Without the musl target the build falls back to static glibc. `--target`
# keeps these flags off build scripts and proc macros (those stay dynamic); the binaries go to
# target/<target>/release.
HOST     := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
MUSL     := $(if $(findstring -linux-gnu,$(HOST)),$(subst -linux-gnu,-linux-musl,$(HOST)))
RELEASE_TARGET = $(eval RELEASE_TARGET := $(shell \
  if [ -n "$(MUSL)" ] && { rustup target list --installed 2>/dev/null | grep -qx '$(MUSL)' || \
       timeout 300 rustup target add '$(MUSL)' >&2; }; then echo '$(MUSL)'; else echo '$(HOST)'; fi))$(RELEASE_TARGET)
RELEASE_FLAGS = $(if $(findstring -linux-musl,$(RELEASE_TARGET)),-C relocation-model=static,$(if \
  $(findstring -linux-gnu,$(RELEASE_TARGET)),-C target-feature=+crt-static -C relocation-model=static))
# httparse (the Pebble client's response heads) otherwise picks its SIMD code at run time, and
# std's CPU feature detection behind that is about ten CPUIDs, 60-130 us of a hook's CPU in a VM
# for heads of a few hundred bytes (`make bench`). Its build script reads this cfg.
NO_SIMD_HTTP := --cfg=httparse_disable_simd="1"
RELEASE_BUILD = RUSTFLAGS='$(RELEASE_FLAGS) $(NO_SIMD_HTTP)' $(CARGO) build --release --target $(RELEASE_TARGET)
RELEASE  = $(or $(CARGO_TARGET_DIR),target)/$(RELEASE_TARGET)/release
DEMOS    := $(sort $(wildcard demo/*.yaml))
PYTHON   ?= python3
# The Python peers of the contract tests (real `ops` charms using published libraries).
VENV     := $(BUILD)/python-venv
PY_REQS  := interface-tests/python/requirements.txt
# Release builds make only what is shipped or run: every charm (its package and binary are named
# after its directory) and the packer; the demo also runs the local model and the test doubles its
# stories name (found on PATH by name). Benchmarks, probes and the Pebble server are left out.
CHARMS      := $(notdir $(patsubst %/Cargo.toml,%,$(wildcard charms/*/Cargo.toml)))
CHARM_BINS  := $(foreach c,$(CHARMS),-p $(c) --bin $(c)) -p charm-pack --bin charm-pack
DEMO_BINS   := -p juju-local --bin juju-local -p pebble-server --bin pebble-server \
               -p cephfs-contract --bin fake-ceph-mount \
               -p filesystem_info-contract --bin fake-mount \
               -p token_distributor-contract --bin fake-microcluster
PACK         = $(RELEASE)/charm-pack --charms charms --bin-dir $(RELEASE) --out $(BUILD)

.PHONY: all test toolchain fmt-check lint doc unit python-peers charms charmcraft-src demo bench clean help

all: test

help:
	@echo "make demo    build the charms and run each story in demo/ through a local Juju model"
	@echo "make test    fmt check, clippy (warnings denied), build, every test"
	@echo "make charms  build/charms/<name>/ and build/<name>.charm for every charm in charms/"
	@echo "make bench   own CPU per hook against a C floor, per-dispatch cost, harness runs per second"
	@echo "             (BENCH_ARGS=\"--repeat 3 --only cpu\" for a quick look at the first)"
	@echo "make python-peers   $(VENV): ops and the published charm libraries, for the Python peer tests"
	@echo "make charmcraft-src CHARM=<name>   a source tree for 'charmcraft pack'"

test: fmt-check lint doc unit

# rustfmt and clippy come with rustup's default profile; add them if a minimal toolchain lacks them.
toolchain:
	@$(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1 || \
	  rustup component add rustfmt clippy

fmt-check: toolchain
	$(CARGO) fmt --all -- --check

lint: toolchain
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# API docs with warnings denied (a broken intra-doc link fails). README snippets are doc-tests (run
# by `unit`): every library README is included by its crate, and no snippet is `ignore`d.
doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps
	@for readme in libs/*/README.md; do \
	  grep -q 'include_str!("../README.md")' $$(dirname $$readme)/src/lib.rs || { \
	    echo "$$readme: not compiled as a doc-test (add #[doc = include_str!(\"../README.md\")] to src/lib.rs)" >&2; exit 1; }; \
	done
	@! grep -rn --include='*.md' --include='*.rs' -e '```[a-z_,]*ignore' README.md libs charms tools interface-tests \
	  || { echo "ignored snippets above: use no_run (or compile_fail) so that they compile" >&2; exit 1; }

# Contract tests run the charm binaries and juju-local: build every binary first. The Python peer
# tests find the virtualenv through PYTHON_PEERS_VENV (default: build/python-venv).
unit: python-peers
	$(CARGO) build --workspace --bins
	PYTHON_PEERS_VENV="$(abspath $(VENV))" $(CARGO) test --workspace

# The virtualenv, from the hash-pinned requirements; reinstalled only when they change (the stamp),
# so no network is needed once it is there.
python-peers: $(VENV)/.installed

$(VENV)/.installed: $(PY_REQS)
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "make python-peers: '$(PYTHON)' not found. The Python peer tests need Python >= 3.10 with the venv module" >&2; \
	  echo "  (Debian/Ubuntu: apt-get install python3 python3-venv; or make PYTHON=/path/to/python3)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	  echo "make python-peers: $$($(PYTHON) --version 2>&1) is too old: ops 3.9 needs Python >= 3.10 (make PYTHON=...)" >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "make python-peers: $(PYTHON) has no venv/ensurepip module (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-input --require-hashes -r $(PY_REQS)
	touch $@

charms:
	$(RELEASE_BUILD) $(CHARM_BINS)
	$(PACK)

# A self-contained source tree for `charmcraft pack` (its container sees only the project dir).
charmcraft-src:
	@test -n "$(CHARM)" -a -f charms/$(CHARM)/charmcraft.yaml || { echo "usage: make charmcraft-src CHARM=<name>"; exit 2; }
	rm -rf $(BUILD)/charmcraft/$(CHARM)
	mkdir -p $(BUILD)/charmcraft/$(CHARM)/charms
	cp -r libs Cargo.lock $(BUILD)/charmcraft/$(CHARM)/
	cp -r charms/$(CHARM) $(BUILD)/charmcraft/$(CHARM)/charms/
	sed 's|^members = .*|members = ["libs/*", "charms/$(CHARM)"]|' Cargo.toml > $(BUILD)/charmcraft/$(CHARM)/Cargo.toml
	cd charms/$(CHARM) && cp charmcraft.yaml $$(ls metadata.yaml config.yaml actions.yaml 2>/dev/null) ../../$(BUILD)/charmcraft/$(CHARM)/
	@echo "now: cd $(BUILD)/charmcraft/$(CHARM) && charmcraft pack"

# One cargo invocation for everything the demo needs, so that it all builds in parallel.
demo:
	$(RELEASE_BUILD) $(CHARM_BINS) $(DEMO_BINS)
	$(PACK)
	@for story in $(DEMOS); do \
	  name=$$(basename $$story .yaml); \
	  rm -rf $(BUILD)/demo/$$name; \
	  PATH="$(abspath $(RELEASE)):$$PATH" $(RELEASE)/juju-local --model $(BUILD)/demo/$$name scenario $$story --story || exit 1; \
	done

# The stub hook tool that reads its caller's CPU clock, and the floor program charms are
# compared with (tools/charm-bench/c): small C programs, built with the system's C compiler.
CC       ?= cc
BENCH_C  := $(BUILD)/bench

$(BENCH_C)/cpu-stub: tools/charm-bench/c/cpu-stub.c
	@mkdir -p $(@D)
	$(CC) -O2 -static -o $@ $<

$(BENCH_C)/floor: tools/charm-bench/c/floor.c
	@mkdir -p $(@D)
	$(CC) -O2 -o $@ $<

bench: $(BENCH_C)/cpu-stub $(BENCH_C)/floor
	$(RELEASE_BUILD) $(CHARM_BINS) $(DEMO_BINS) -p charm-bench --bin charm-bench
	$(PACK)
	PATH="$(abspath $(RELEASE)):$$PATH" JUJU_LOCAL_PEBBLE_SERVER="$(abspath $(RELEASE))/pebble-server" \
	  $(RELEASE)/charm-bench --charms $(BUILD)/charms --juju-local $(RELEASE)/juju-local \
	  --cpu-stub $(BENCH_C)/cpu-stub --floor $(BENCH_C)/floor $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
