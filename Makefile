# Thin wrapper: Meson + Ninja do the building; these targets are the entry points.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build check check-slow demo clean lab-shell install

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

# meson install (docs/install.md): PREFIX=/usr/local unless given (it is
# kept in the build directory's configuration), DESTDIR honoured.
install: deps $(BUILD)/build.ninja
	$(if $(PREFIX),meson configure $(BUILD) -Dprefix=$(PREFIX))
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir $(DESTDIR))

lab-shell: build
	@lab/lab shell

clean:
	rm -rf $(BUILD)
