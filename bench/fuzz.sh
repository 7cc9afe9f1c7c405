#!/usr/bin/env bash
# bench/fuzz.sh: build the libFuzzer targets of t/fuzz and run each for SECONDS;
# print, per target, executions per second, coverage and crashes found.
#
#   bench/fuzz.sh [SECONDS]          default 60 per target, one target after another
#   MSGTRACK_FUZZ_TARGETS="soap msgtrk"   only these (default: all six)
#   MSGTRACK_FUZZ_DIR=DIR            work directory (default: a new one under
#                                    ${TMPDIR:-/tmp}); reuse one to go on from its corpus
#   MSGTRACK_FUZZ_ARGS="-jobs=..."   more libFuzzer options for every run
#   MSGTRACK_FUZZ_COVERAGE=0         no source coverage table (default: 1 when
#                                    llvm-profdata and llvm-cov are installed)
#   CC=clang-14                      the clang to build with (t/fuzz/build.sh)
#
# The work directory (printed first, kept afterwards) holds
#   bin/       the targets          seeds/<t>/    written by t/fuzz/seeds.sh
#   corpus/<t>/  what the fuzzer kept (seeds are read, never written)
#   crashes/<t>/ crash-*, leak-*, timeout-*, oom-* inputs   logs/<t>.log  its output
#   cov/       the targets built for coverage, and their profiles
# After the runs, the corpus and seeds of each target are replayed through a
# build for llvm-cov, which gives the share of lines and branches of the
# target's own source files that they reach.
# When a target crashes it is started again on its corpus for the rest of its
# SECONDS, so one run can find several crashes. Replay one with
#   DIR/bin/fuzz_<t> DIR/crashes/<t>/crash-...
# Exit status: 0, or 1 when any target crashed (or a command failed).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
case $SECONDS_EACH in ''|*[!0-9]*|0) echo "fuzz.sh: SECONDS must be a positive number, not '$SECONDS_EACH'" >&2; exit 2 ;; esac
ALL=(soap postfix dovecot msgtrk syslog rfc2047)
read -r -a TARGETS <<<"${MSGTRACK_FUZZ_TARGETS:-${ALL[*]}}"
read -r -a EXTRA <<<"${MSGTRACK_FUZZ_ARGS:-}"
for t in "${TARGETS[@]}"; do
    [[ " ${ALL[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (have: ${ALL[*]})" >&2; exit 2; }
done

if [ -n "${MSGTRACK_FUZZ_DIR:-}" ]; then
    W=$MSGTRACK_FUZZ_DIR
    mkdir -p "$W"
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/msgtrack-fuzz.XXXXXX")
fi
W=$(cd "$W" && pwd)
echo "fuzz.sh: work directory $W"

# Reports go to stderr, not to files; leaks are errors.
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

"$SRC/t/fuzz/build.sh" "$W/bin"
"$SRC/t/fuzz/seeds.sh" "$W/seeds" >/dev/null

# Largest input the fuzzer makes up: a SOAP body may be cut in 8 KiB pieces
# (fuzz_soap.c), so let it go past that; for the log parsers a few lines
# (MSGTRK rows come with their header lines, 2 KiB in t/data).
max_len() { case $1 in soap) echo 16384 ;; msgtrk) echo 8192 ;; *) echo 4096 ;; esac; }

# stat_of FILE NAME: the value of the last "stat::NAME: N" in a libFuzzer log
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

rc=0
rows=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$W/corpus/$t" "$W/crashes/$t" "$W/logs"
    log=$W/logs/$t.log
    : >"$log"
    start=$(date +%s)
    execs=0 crashes=0 runs=0
    while :; do
        left=$((SECONDS_EACH - ($(date +%s) - start)))
        [ "$left" -gt 0 ] && [ "$runs" -lt 20 ] || break
        runs=$((runs + 1))
        part=$W/logs/$t.part
        set +e
        "$W/bin/fuzz_$t" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
            -max_len="$(max_len "$t")" -dict="$SRC/t/fuzz/dict/$t.dict" \
            -print_final_stats=1 -artifact_prefix="$W/crashes/$t/" ${EXTRA[@]+"${EXTRA[@]}"} \
            "$W/corpus/$t" "$W/seeds/$t" >"$part" 2>&1
        status=$?
        set -e
        cat "$part" >>"$log"
        n=$(stat_of "$part" number_of_executed_units)
        execs=$((execs + ${n:-0}))
        if [ "$status" != 0 ]; then
            crashes=$((crashes + 1))
            rc=1
            grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|artifact_prefix)' "$part" \
                | sed "s/^/fuzz.sh: $t: /" >&2 || true
            # a crash while reading the corpus and seeds would only come back
            if ! grep -q 'INITED' "$part"; then
                echo "fuzz.sh: $t: the crash is in its seeds or corpus: not started again" >&2
                break
            fi
        fi
    done
    rm -f "$W/logs/$t.part"
    secs=$(($(date +%s) - start))
    [ "$secs" -gt 0 ] || secs=1
    total=$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters.*/\1/p' "$log" | head -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corpus=$(find "$W/corpus/$t" -type f | wc -l)
    rows+=("$(printf '%-8s %7s %10s %9s %7s/%-6s %6s %7s %7s' "$t" "$secs" "$execs" \
        "$((execs / secs))" "${cov:-?}" "${total:-?}" "${ft:-?}" "$corpus" "$crashes")")
done

echo
printf '%-8s %7s %10s %9s %14s %6s %7s %7s\n' target seconds execs execs/s 'cov/edges' ft corpus crashes
printf '%s\n' "${rows[@]}"
echo
echo "cov: edges of the target's code reached (of those instrumented); ft: libFuzzer's features"

# The source files each target is about (its coverage table rows).
sources() {
    case $1 in
        soap) echo mt_soap mt_schema mt_request ;;
        postfix) echo mt_parse_postfix mt_syslog mt_rfc2047 ;;
        dovecot) echo mt_parse_dovecot mt_syslog ;;
        msgtrk) echo mt_parse_msgtrk ;;
        syslog) echo mt_syslog mt_time ;;
        rfc2047) echo mt_rfc2047 mt_utf8 ;;
    esac
}

if [ "${MSGTRACK_FUZZ_COVERAGE:-1}" = 1 ] && command -v llvm-profdata >/dev/null \
    && command -v llvm-cov >/dev/null; then
    "$SRC/t/fuzz/build.sh" "$W/cov" coverage 2>/dev/null
    echo
    printf '%-8s %-20s %14s %16s %16s\n' target file lines branches functions
    for t in "${TARGETS[@]}"; do
        rm -f "$W/cov/$t".prof*
        LLVM_PROFILE_FILE="$W/cov/$t.profraw" "$W/cov/fuzz_$t" -runs=0 \
            "$W/corpus/$t" "$W/seeds/$t" >"$W/logs/$t.cov.log" 2>&1 || true
        llvm-profdata merge -sparse -o "$W/cov/$t.profdata" "$W/cov/$t.profraw"
        files=()
        for f in $(sources "$t"); do files+=("$SRC/mod_msgtrack/$f.c"); done
        # llvm-cov report: Filename Regions Missed Cover Functions Missed Executed
        #                  Lines Missed Cover Branches Missed Cover
        llvm-cov report "$W/cov/fuzz_$t" -instr-profile="$W/cov/$t.profdata" "${files[@]}" \
            | awk -v t="$t" '$1 ~ /\.c$/ {
                  f = $1; sub(/.*\//, "", f)
                  printf "%-8s %-20s %6s of %5s %8s of %5s %8s of %5s\n", t, f,
                         $10, $8, $13, $11, $7, $5 }'
    done
    echo
    echo "lines, branches, functions: the share of the file's reached by the corpus and seeds"
fi
echo "corpus:  $W/corpus    crashes: $W/crashes    logs: $W/logs"
exit $rc
