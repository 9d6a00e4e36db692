# The two entry points for a newcomer: `make demo` and `make check`.
BUILD ?= build

.PHONY: all setup build demo check clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

check: build
	tests/run $(BUILD)

clean:
	rm -rf $(BUILD) .demo
