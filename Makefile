# Thin wrapper: Meson + Ninja do the building; these targets are the entry points.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build check check-slow demo clean lab-shell install deb

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

# The Debian package (debian/, docs/install.md): dpkg-buildpackage in a copy
# of the tree (tracked and untracked files, not the ignored build
# directories), so that the tree stays clean and the .deb lands in DEBDIR.
# DEB_BUILD_OPTIONS (nocheck, parallel=N) is passed on.
DEBDIR ?= $(BUILD)/deb
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH = $(shell dpkg-architecture -q DEB_HOST_ARCH)

deb: deps
	rm -rf $(DEBDIR)/domus-$(DEB_VERSION)
	mkdir -p $(DEBDIR)/domus-$(DEB_VERSION)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar -c --null -T - -f - | tar -x -C $(DEBDIR)/domus-$(DEB_VERSION)
	cd $(DEBDIR)/domus-$(DEB_VERSION) && dpkg-buildpackage -b -us -uc
	rm -rf $(DEBDIR)/domus-$(DEB_VERSION)
	@echo "deb: $(abspath $(DEBDIR))/domus_$(DEB_VERSION)_$(DEB_ARCH).deb"

lab-shell: build
	@lab/lab shell

clean:
	rm -rf $(BUILD)
