# Thin wrapper: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
#
#   make run    build (Release, gcc), then run mgwd on the embedded default (ARGS="-c FILE")
#   make test   the whole suite: Release build with gcc (all tests), Release build with clang
#               (unit tests), ASan/UBSan build (all tests), ThreadSanitizer build (unit and
#               stress tests), fuzz build (corpus replay, then each fuzz target briefly)
#   make fuzz   each fuzz target for FUZZ_S seconds (default 60) from its corpus (clang)
BUILD       ?= build
BUILD_CLANG ?= build-clang
BUILD_ASAN  ?= build-asan
BUILD_TSAN  ?= build-tsan
BUILD_FUZZ  ?= build-fuzz
FUZZ_S      ?= 60
FUZZ_TEST_S ?= 10
JOBS        ?= $(shell nproc)

.PHONY: all deps build build-clang build-asan build-tsan run test test-release test-clang \
	test-asan test-tsan build-fuzz test-fuzz fuzz clean format

all: build

deps:
	@tools/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

$(BUILD_CLANG)/CMakeCache.txt: | deps
	@CC=clang cmake -S . -B $(BUILD_CLANG) -DCMAKE_BUILD_TYPE=Release >/dev/null

$(BUILD_ASAN)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DMGW_SANITIZE=ON >/dev/null

$(BUILD_TSAN)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DMGW_TSAN=ON >/dev/null

$(BUILD_FUZZ)/CMakeCache.txt: | deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMGW_FUZZ=ON >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

build-clang: deps $(BUILD_CLANG)/CMakeCache.txt
	@cmake --build $(BUILD_CLANG) -j $(JOBS)

build-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

build-tsan: deps $(BUILD_TSAN)/CMakeCache.txt
	@cmake --build $(BUILD_TSAN) -j $(JOBS)

build-fuzz: deps $(BUILD_FUZZ)/CMakeCache.txt
	@cmake $(BUILD_FUZZ) -DMGW_FUZZ_TEST_S=$(FUZZ_TEST_S) >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)

run: build
	$(BUILD)/bin/mgwd $(ARGS)

# Release: the unit tests and the fuzz corpus (the integration suite runs under ASan/UBSan,
# where it finds more, and would double the suite's time here)
test-release: build
	cd $(BUILD) && ctest --output-on-failure -L "unit|fuzz"

test-clang: build-clang
	cd $(BUILD_CLANG) && ctest --output-on-failure -L unit

test-asan: build-asan
	cd $(BUILD_ASAN) && ctest --output-on-failure

test-tsan: build-tsan
	cd $(BUILD_TSAN) && ctest --output-on-failure -L unit

test-fuzz: build-fuzz
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz

# Each fuzz target for FUZZ_S seconds (new inputs in $(BUILD_FUZZ)/fuzz-work, crashes in
# $(BUILD_FUZZ)/fuzz-artifacts; a crash worth keeping goes to tests/fuzz/corpus/<target>/).
fuzz:
	@$(MAKE) --no-print-directory build-fuzz FUZZ_TEST_S=$(FUZZ_S)
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz

# The whole suite, each build after the other (the integration tests run one at a time).
test: test-release test-clang test-asan test-tsan test-fuzz

clean:
	rm -rf $(BUILD) $(BUILD_CLANG) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
