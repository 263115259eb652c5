# Gavel: one-command set-up. Everything installs into this folder from the project's own pins:
#   .venv/         Python packages pinned in requirements.txt
#   node_modules/  Anvil, solc (WebAssembly), OpenZeppelin, Uniswap artifacts, Morpho Blue and its
#                  solc 0.8.19 (for `make gas`), locked in package-lock.json
#   .solcx/        a `solc-v<version>` command over the npm compiler, where py-solc-x looks for it
# A second run reuses what is installed (the stamp files below only change when the pins do).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SOLC_VERSION := $(shell node -p "require('./package.json').dependencies.solc" 2>/dev/null)

export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export APE_DISABLE_TELEMETRY := 1

LOCAL := ethereum:local:foundry
FORK := ethereum:mainnet-fork:foundry

.PHONY: install compile demo deploy keeper status test test-quick fork-test lint slither fuzz gas bench-keeper bench-crash clean

install: $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION)

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.solcx/solc-v$(SOLC_VERSION): tools/solc.js node_modules/.installed
	mkdir -p .solcx
	printf '#!/bin/sh\nexec node "%s/tools/solc.js" "$$@"\n' "$(CURDIR)" > $@
	chmod +x $@
	$@ --version | grep -q "Version: $(SOLC_VERSION)+"

# Compile first, on its own: `ape test` and `ape run` go on with the last good build when a
# contract fails to compile, and that must stop the run instead. Ape's incremental compile
# rebuilds only the files that changed, not the contracts that import or inherit them, so any
# change under contracts/ forces a full build; the stamp records the last good one.
CONTRACT_SOURCES := $(shell find contracts -name '*.sol')
compile: .build/.compiled
.build/.compiled: $(CONTRACT_SOURCES) ape-config.yaml $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION)
	ape compile --force
	touch $@

# The main job: the end-to-end demo on a throw-away Anvil (deploy, 200 borrowers, a crash, the
# keeper liquidating, a report). Exits non-zero if a liquidatable account is left.
demo: compile
	ape run demo $(ARGS)

# Deploy to a throw-away local Anvil and print the addresses.
deploy: compile
	ape run deploy --network $(LOCAL)

# The keeper and the status view against a running node, by default ethereum:local:node (the
# Anvil on port 8545 the README's by-hand block starts and deploys to): make keeper ARGS="--dry-run"
keeper: install
	python -m bots.keeper run $(ARGS)

status: install
	python -m bots.keeper status $(ARGS)

# Lint and Slither, then every test on Anvil (ape-foundry starts and stops it; the stateful
# fuzzer runs its fixed CI budget), then the fork tests.
test: compile lint slither
	ape test tests --network $(LOCAL)
	$(MAKE) --no-print-directory fork-test

# The tests that need no chain (marked `unit`: the keeper's logic, settings, docs, the crash
# bench's arithmetic, refused options, the fork suite's upstream): half a minute, no compile.
# Ape's plugin starts an Anvil for any run that collects tests, but nothing is deployed on it.
test-quick: install
	ape test tests -m unit --network $(LOCAL)

# The fork tests: against MAINNET_RPC_URL (optionally pinned with MAINNET_FORK_BLOCK) if set,
# else against the recorded mainnet block in tests/fork/mainnet-state, served by tests/fork/replay.py.
fork-test: compile
	ape test tests/fork --network $(FORK)

lint: install
	ruff check scripts tests bots tools
	ruff format --check scripts tests bots tools
	mypy bots

# Every Slither finding fixed or listed, with its reason, in slither.toml.
slither: install
	python tools/slither_check.py --solc .solcx/solc-v$(SOLC_VERSION)

# The stateful fuzzer searching new random sequences for FUZZ_SECONDS (default 10 minutes):
#   make fuzz FUZZ_SECONDS=3600 FUZZ_STEPS=50
FUZZ_SECONDS ?= 600
fuzz: compile
	FUZZ_SECONDS=$(FUZZ_SECONDS) ape test tests/protocol/test_fuzz.py --network $(LOCAL) -s

# Gas per entry point, Gavel beside Morpho Blue, as the tables in docs/benchmarks.md. Morpho Blue is
# compiled from npm with the compiler its sources pin (0.8.19), as its own build does.
MORPHO_BUILD := .build/morpho/morpho.json
gas: compile $(MORPHO_BUILD)
	ape run gas --network $(LOCAL)

# The keeper at 1,000 and 10,000 accounts (ARGS=--full adds 100,000), beside a naive and a
# batched-view keeper, on a fresh Anvil it starts itself; prints the table in docs/benchmarks.md.
bench-keeper: compile
	ape run bench_keeper $(ARGS)

bench-crash: compile $(MORPHO_BUILD)
	ape run bench_crash $(ARGS)

$(MORPHO_BUILD): tools/compile_morpho.js node_modules/.installed
	node tools/compile_morpho.js $@

clean:
	rm -rf .build contracts/.cache
