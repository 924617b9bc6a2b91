# Thin wrapper: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps build build-asan run test test-release test-asan clean format

all: build

deps:
	@tools/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD_ASAN)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DMGW_SANITIZE=ON >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	$(BUILD)/bin/mgwd $(ARGS)

test-release: build
	cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan
	cd $(BUILD_ASAN) && ctest --output-on-failure

# The whole suite: release build, then the same suite against the ASan/UBSan build.
test: test-release test-asan

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

format:
	clang-format -i $$(git ls-files "*.c" "*.h")
