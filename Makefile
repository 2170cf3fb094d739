# Two commands on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, runs the main demo, writes figures under out/
#   make test   installs what is missing, builds and runs every test with ctest
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

demo: build
	./scripts/demo.sh build/$(PRESET) $(OUT)

# Regenerate docs/gallery.md and its PNGs from a demo run.
gallery: demo
	build/$(PRESET)/examples/make_report --out $(OUT) --gallery docs --intro "$$(cat $(OUT)/intro.txt)"

bench: build
	./scripts/bench.sh build/$(PRESET)

clean:
	rm -rf build out
