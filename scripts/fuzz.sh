#!/bin/sh
# make fuzz: builds build-fuzz (clang, libFuzzer, ASan+UBSan) and runs every target of
# tests/fuzz until FUZZ_RUNS executions (default 10^7) or FUZZ_SECONDS (default 900) each,
# on a corpus kept in build-fuzz/corpus/TARGET (seeded by tests/fuzz/seeds.py), then runs the
# grown corpus once more with the leak checker. Prints one line per target; fails on a crash,
# a sanitizer report or a leak (the input is kept in build-fuzz/crashes/TARGET).
set -eu
cd "$(dirname "$0")/.."
# GLib 2.74 hands out small blocks from its own slabs, where ASan sees no use after free
# and no leak: plain malloc for every block
export G_SLICE=always-malloc
BUILD=${FUZZ_BUILD:-build-fuzz}
RUNS=${FUZZ_RUNS:-10000000}
SECONDS_EACH=${FUZZ_SECONDS:-900}
TARGETS=${FUZZ_TARGETS:-"fuzz-rpc fuzz-domain-xml fuzz-storage-xml fuzz-network-xml fuzz-qmp fuzz-qga fuzz-saveimage"}

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        >/dev/null
fi
ninja -C "$BUILD" >/dev/null

status=0
for t in $TARGETS; do
    corpus="$BUILD/corpus/$t"
    crashes="$BUILD/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    /usr/bin/python3 tests/fuzz/seeds.py "$t" "$corpus"
    log="$BUILD/$t.log"
    start=$(date +%s)
    # leak checks after every input cost most of the time: they run on the corpus at the end
    if ! UBSAN_OPTIONS=halt_on_error=1 "$BUILD/tests/fuzz/$t" -runs="$RUNS" \
        -max_total_time="$SECONDS_EACH" -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1; then
        echo "$t: FAILED (see $log and $crashes)"
        status=1
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    took=$(($(date +%s) - start))
    if ! "$BUILD/tests/fuzz/$t" -runs=0 -detect_leaks=1 "$corpus" >"$log.leaks" 2>&1; then
        echo "$t: $runs executions in ${took} s; LEAK or crash replaying the corpus (see $log.leaks)"
        status=1
        continue
    fi
    echo "$t: $runs executions in ${took} s, $(ls "$corpus" | wc -l) inputs in the corpus, no crash, no leak"
done
exit $status
