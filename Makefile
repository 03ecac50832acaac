# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:8080
DB         ?= sqlite:./checkout.db

.PHONY: all deps deps-test run test test-release test-asan bench fuzz screenshots soak clean

# `make run` builds only what it runs: no tests (they need cmocka), no benchmark.
all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target checkoutd checkoutctl

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

run: all
	@scripts/run.sh $(BUILD) $(LISTEN) $(DB)

test: deps-test
	@scripts/test.sh

test-release: deps-test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps-test
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON -DCK_TESTS=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The issue-16 matrix (bench/run.sh): whole journeys and ready placements at
# concurrency 32 on SQLite FULL, NORMAL and PostgreSQL (fsync on, its own
# server on port 25339, never the test server's), written into
# docs/benchmarks.md; then /healthz under hostile connections (bench/attack.sh),
# written into docs/security.md. bench_place stays built for one-off runs.
bench: deps-test
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=OFF >/dev/null
	@cmake --build build-bench -j $(JOBS) --target bench_journey disk_commit bench_place bench_lua bench_attack
	@build-bench/bench_lua 50000 2
	@bench/run.sh build-bench
	@bench/attack.sh build-bench

# libFuzzer over every target in fuzz/ (clang, ASan+UBSan, libcheckout
# instrumented), FUZZ_SECONDS each (default 60), from its corpus; fails on a
# crash, a leak or a timeout, and prints each target's runs (scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps.sh fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh build-fuzz

# The dashboard's pictures in docs/img/ (dashboard.png, dashboard-narrow.png),
# taken by its browser test (tests/dashboard) against real data, not drawn.
screenshots: deps-test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCK_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target checkoutd
	@bash tests/dashboard/run.sh $(BUILD)/checkoutd --screenshots

# The long crash soak (issue 17): test_soak with SOAK_JOURNEYS journeys and
# SOAK_KILLS crashes on SQLite, then on PostgreSQL (a throwaway server of
# its own); SOAK_SEED replays a run (scripts/soak.sh).
SOAK_JOURNEYS ?= 300
SOAK_KILLS    ?= 20
SOAK_SEED     ?=
soak: deps-test
	@CKT_SOAK_JOURNEYS=$(SOAK_JOURNEYS) CKT_SOAK_KILLS=$(SOAK_KILLS) CKT_SOAK_SEED=$(SOAK_SEED) scripts/soak.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-bench build-fuzz
