# Thin wrapper: Meson + Ninja do the building; these targets are the entry points.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build check check-slow demo clean lab-shell

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

check: build
	@tests/check $(BUILD)

# Long lab runs (tests/lab/meson.build, suite lab-slow), before resolving
# the issues they belong to.
check-slow: build
	@tests/check $(BUILD) --slow

demo: build
	@scripts/demo $(BUILD)

lab-shell: build
	@lab/lab shell

clean:
	rm -rf $(BUILD)
