# Two commands on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds the demo programs, runs the main demo (out/)
#   make test   installs what is missing, builds the tests and programs, runs every test with ctest
# Both build portably (no -march=native): the binaries run on any x86-64 machine and compute
# what a find_package user's build computes. `make bench` builds the benchmarks tuned for this
# machine (preset native, build/native).
PRESET ?= release
JOBS   ?= $(shell nproc)
OUT    ?= out

.PHONY: all deps configure build test demo gallery bench clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) > build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
	@rm -f build-configure.log

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

demo: configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target demo_programs
	./scripts/demo.sh build/$(PRESET) $(OUT)

# Regenerate docs/gallery.md and its PNGs from a demo run.
gallery: demo
	build/$(PRESET)/examples/make_report --out $(OUT) --gallery docs --intro "$$(cat $(OUT)/intro.txt)"

bench:
	$(MAKE) PRESET=native build
	./scripts/bench.sh build/native

clean:
	rm -rf build out
