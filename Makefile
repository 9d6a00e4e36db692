# The two entry points for a newcomer: `make demo` and `make check`.
# `make check` builds twice: build/ (what users run) and build-asan/ (with -Werror and
# address/undefined sanitizers), and runs every test against the sanitized build.
BUILD ?= build
CHECK_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz

.PHONY: all setup build build-check build-fuzz demo check fuzz clean install deb

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

# the libFuzzer targets (tests/fuzz): clang, with ASan and UBSan
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

build-fuzz: setup $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

demo: build
	scripts/demo.sh $(BUILD)

# the check also runs each fuzz target a few seconds on its seeds (tests/integration/test_fuzz.py)
check: build build-check build-fuzz
	DOMUS_FUZZ_BUILD=$(FUZZ_BUILD) tests/run $(CHECK_BUILD)

# each fuzz target until 10^7 executions (FUZZ_RUNS) or FUZZ_SECONDS: see scripts/fuzz.sh
fuzz: setup build-fuzz
	FUZZ_BUILD=$(FUZZ_BUILD) scripts/fuzz.sh

# installs build/'s programs, library, man pages, sample domusd.conf and systemd units under
# prefix (default /usr/local; the Debian package uses /usr), into DESTDIR when given
prefix ?= /usr/local
install: build
	meson configure $(BUILD) -Dprefix=$(prefix)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --quiet

# the Debian packages (domusd, domus, libdomus0, libdomus-dev), in the parent directory
deb: setup
	dpkg-buildpackage -us -uc -b

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD) .demo
