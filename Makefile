# The two entry points for a newcomer: `make demo` and `make check`.
# `make check` builds twice: build/ (what users run) and build-asan/ (with -Werror and
# address/undefined sanitizers), and runs every test against the sanitized build.
BUILD ?= build
CHECK_BUILD ?= build-asan

.PHONY: all setup build build-check demo check clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) -Dwerror_ci=true -Db_sanitize=address,undefined -Db_lundef=false

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-check: setup $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)

demo: build
	scripts/demo.sh $(BUILD)

check: build build-check
	tests/run $(CHECK_BUILD)

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) .demo
