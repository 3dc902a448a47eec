# Developer entry points; the build itself is CMake.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build check demo bench format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLABDBG_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

# The whole test suite (what CI runs).
check: build
	ctest --test-dir $(BUILD) --output-on-failure

# The main demonstration.
demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	scripts/deps.sh --bench
	python3 bench/run.py --slabdbg $(BUILD)/libslabdbg.so

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD)
