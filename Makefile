# Developer entry points; the build itself is CMake.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build check check-package demo bench bench-triage bench-report format clean install deb

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLABDBG_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

# The whole test suite (what CI runs).
check: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# Installs under PREFIX (staged under DESTDIR when set): the command, the
# library (libslabdbg.so.0 and its -dev link), the header, slabdbg.pc and the
# manual pages.  cmake --install does the same.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Debian packages (libslabdbg0, libslabdbg-dev, slabdbg) in the parent
# directory, from debian/.
deb:
	scripts/deps.sh --package
	dpkg-buildpackage -us -uc -b

# The Debian packages built and checked (opt-in: it compiles everything
# again; the test install.deb skips itself without SLABDBG_TEST_PACKAGE=1).
check-package: build
	scripts/deps.sh --package
	SLABDBG_TEST_PACKAGE=1 ctest --test-dir $(BUILD) -L package --output-on-failure

# The main demonstration.
demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	scripts/deps.sh --bench
	python3 bench/run.py --slabdbg $(BUILD)/libslabdbg.so

# slabdbg triage on 10,000 JSON reports of 2,000 processes (and as syslog).
bench-triage: build
	python3 bench/triage_bench.py --build $(BUILD)

# What one report adds to a process's time and peak RSS (G, FZPU, sampling).
bench-report: build
	python3 bench/report_cost.py --build-dir $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf $(BUILD)
