# Thin wrapper over CMake + Ninja + CTest. The two commands a user needs:
#   make sim    generate (or reuse) the default market and simulate it
#   make test   every test and gate: lint, ASan+UBSan, coverage >= 90 %
# Both install missing Debian packages first (scripts/install-deps).

JOBS   ?= 2
BUILD  ?= build
PREFIX ?= /usr/local

.PHONY: all deps build sim test test-fast asan coverage lint bench fuzz install clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

sim: build
	./$(BUILD)/coce --mode sim

test: deps
	@scripts/run-tests

test-fast: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

asan: deps
	@scripts/run-tests asan

coverage: deps
	@scripts/run-tests coverage

lint: build
	BUILD_DIR=$(BUILD) scripts/lint

bench: build
	@scripts/bench

fuzz: deps
	@scripts/fuzz

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-cov build-fuzz
