#!/usr/bin/env bash
# tests/fuzz/fuzz.sh [--ci] SECONDS [TARGET...]: build the libFuzzer targets
# with clang in build-fuzz/, replay every saved crash input
# (tests/fuzz/crashes/<target>/*) as a regression test, then fuzz each target
# for SECONDS, one after the other, from the committed seed corpus
# (tests/fuzz/corpus/<target>, read only) plus a working corpus:
#   --ci   a fresh working corpus in a temporary directory (removed after)
#   else   build-fuzz/corpus/<target>, kept, so runs accumulate
# Logs: build-fuzz/logs/<target>.log; a crash input lands in
# build-fuzz/artifacts/. Prints one line per target (executions, coverage,
# corpus) and exits non-zero on a missing clang, a build failure, a failed
# replay or any crash, timeout (10 s per input), out-of-memory or
# sanitizer report. Run from the repository root (./run fuzz, ./run test).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ci=0
if [ "${1:-}" = --ci ]; then
    ci=1
    shift
fi
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
    targets=(fuzz_tcp_parse fuzz_tcp_options fuzz_frames fuzz_reass)
case $secs in
'' | *[!0-9]*)
    echo "fuzz: SECONDS must be a number, not '$secs'" >&2
    exit 2
    ;;
esac

dir=build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: FAILED: clang is not installed (scripts/deps installs it)" >&2
    exit 1
fi
echo "fuzz: building ${targets[*]} with clang in $dir/"
if ! CC=clang cmake -S . -B "$dir" -DSYNACK_FUZZ=ON -DSYNACK_TESTS=ON \
    -DSYNACK_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
    ! cmake --build "$dir" -j "$jobs" --target "${targets[@]}"; then
    echo "fuzz: FAILED: build" >&2
    exit 1
fi

mkdir -p "$dir/logs" "$dir/artifacts"
tmp=
if [ "$ci" = 1 ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-fuzz.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
fi

failed=0
summary=()
for t in "${targets[@]}"; do
    bin=$dir/tests/$t
    # 1. every saved crash input must now run clean
    shopt -s nullglob
    crashes=(tests/fuzz/crashes/"$t"/*)
    shopt -u nullglob
    if [ ${#crashes[@]} -gt 0 ]; then
        if "$bin" "${crashes[@]}" >"$dir/logs/$t.replay.log" 2>&1; then
            summary+=("$t: ${#crashes[@]} saved crash inputs replayed clean")
        else
            failed=1
            summary+=("$t: FAILED: a saved crash input still fails" \
                "    (log: $dir/logs/$t.replay.log)")
            continue
        fi
    fi
    # 2. fuzz
    if [ "$ci" = 1 ]; then
        work=$tmp/$t
    else
        work=$dir/corpus/$t
    fi
    mkdir -p "$work"
    log=$dir/logs/$t.log
    echo "fuzz: run $t for $secs s (log: $log)"
    rc=0
    nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
        "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' "$log" | tail -n 1)
    stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -n 1 |
        sed -n 's/.*\(cov: [0-9]* ft: [0-9]* corp: [0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    if [ "$rc" -eq 0 ]; then
        summary+=("$t: ${runs:-? executions}, $stats, no crash")
    else
        failed=1
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        summary+=("$t: FAILED (exit $rc) after ${runs:-? executions}: $(grep -m 1 -E 'ERROR|SUMMARY|deadly|timeout|out-of-memory' "$log" | cut -c1-160)")
        summary+=("    input: ${art:-(none written)}; log: $log")
        summary+=("    save it as a regression input: tests/fuzz/crashes/$t/")
    fi
done
echo
printf 'fuzz: %s\n' "${summary[@]}"
exit "$failed"
