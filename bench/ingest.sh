#!/usr/bin/env bash
# bench/ingest.sh: msgtrack-index ingestion on generated logs: throughput,
# index size and peak memory for a Postfix log and an Exchange MSGTRK log of
# N lines each, with grep -c over the same file as the reference measured in
# the same run (a shared machine is noisy: compare ratios, not absolutes),
# then find --sender against grep -c for the same sender.
#
#   bench/ingest.sh [BUILD_DIR [N]]   (default: _b, a configured build of this tree;
#                                      N lines per log, default 1000000)
#   MSGTRACK_INDEX=PATH               run this msgtrack-index instead of
#                                     BUILD_DIR/mod_msgtrack/msgtrack-index
#   MSGTRACK_BENCH_SEED=1             generator seed (same seed, same logs)
#   TMPDIR=/tmp                       where logs and indexes go: about 0.8 GB
#                                     per million lines of each, plus the indexes
#
# The logs come from bench/gen_logs.py (see its header): Postfix classic
# syslog from mx1 and mx2, read with --year 2026, and one Exchange 2016
# MSGTRK file; bench-needle@example.org sends about 1 message in 1000.
# Targets (printed next to the figures): Postfix ingest >= 150000 lines/s,
# index bytes <= raw log bytes, peak RSS < 100 MiB. Benches report, they do
# not assert: the exit status is non-zero only when a command fails.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/_b}
N=${2:-1000000}
SEED=${MSGTRACK_BENCH_SEED:-1}
NEEDLE=bench-needle@example.org
case $N in ''|*[!0-9]*) echo "ingest.sh: N must be a number of lines, not '$N'" >&2; exit 2 ;; esac
if [ -n "${MSGTRACK_INDEX:-}" ]; then
    BIN=$MSGTRACK_INDEX
else
    [ -d "$BUILD" ] || { echo "ingest.sh: no build directory $BUILD (configure and make first)" >&2; exit 1; }
    BIN=$(cd "$BUILD" && pwd)/mod_msgtrack/msgtrack-index
fi
[ -x "$BIN" ] || { echo "ingest.sh: $BIN is not an executable: build first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "ingest.sh: python3 is needed for the generator" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
    # shellcheck source=/dev/null
    . "$SRC/scripts/debian-deps.sh"
    install_missing ingest.sh time
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/msgtrack-ingest.XXXXXX")
trap 'rm -rf "$W"' EXIT

# Seconds since the epoch with microseconds (bash 5), and a difference of two.
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.6f", b - a }'; }
fail() { echo "ingest.sh: $*" >&2; exit 1; }

# gen FORMAT FILE: write N lines; prints the generator's "lines=.. bytes=.. messages=.." line.
gen() {
    python3 "$SRC/bench/gen_logs.py" --format "$1" --lines "$N" --seed "$SEED" -o "$2" 2>"$W/gen.err" \
        || { cat "$W/gen.err" >&2; fail "the generator failed for $1"; }
    tail -n 1 "$W/gen.err"
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# grep_c FILE: "seconds count" of grep -c for the needle, best of three (count 0 is not an error).
grep_c() {
    local best="" t c rc
    for _ in 1 2 3; do
        t=$(now)
        rc=0; c=$(grep -c -F -- "$NEEDLE" "$1") || rc=$?
        [ "$rc" -le 1 ] || fail "grep -c failed on $1 (exit $rc)"
        t=$(since "$t")
        best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    echo "$best $c"
}

# find_c DB: "seconds rows" of find --sender --json, best of three.
find_c() {
    local best="" t
    for _ in 1 2 3; do
        t=$(now)
        "$BIN" --db "$1" find --sender "$NEEDLE" --start 2026-01-01T00:00:00Z --end 2027-01-01T00:00:00Z \
            --json >"$W/find.json" 2>"$W/find.err" \
            || { cat "$W/find.err" >&2; fail "find failed on $1"; }
        t=$(since "$t")
        best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    echo "$best $(python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' <"$W/find.json")"
}

row() { printf '  %-22s %s\n' "$1" "$2"; }

# bench NAME FORMAT FILE [INGEST OPTIONS]: ingest FILE into a fresh index, print the figures.
bench() {
    local name=$1 format=$2 file=$3 db="$W/db-$1" lines bytes secs rss ib gsecs
    shift 3
    lines=$(wc -l <"$file")
    bytes=$(stat -c %s "$file")
    read -r gsecs _ <<<"$(grep_c "$file")"
    if ! /usr/bin/time -f '%e %M %U %S' -o "$W/time.txt" \
            "$BIN" --db "$db" ingest --format "$format" "$@" "$file" >"$W/ingest.out" 2>"$W/ingest.err"; then
        tail -n 20 "$W/ingest.err" >&2
        # /usr/bin/time says how it ended: "Command exited with non-zero status N" or "... signal N"
        grep -v '^[0-9.]* [0-9]* [0-9.]* [0-9.]*$' "$W/time.txt" >&2 || true
        fail "ingest of the $name log failed: $BIN --db $db ingest --format $format${*:+ $*} $file"
    fi
    read -r secs rss usr sys < <(tail -n 1 "$W/time.txt")
    [ -d "$db" ] || fail "ingest left no index directory $db"
    ib=$(du -sb "$db" | cut -f1)
    # The environment's region files (__db.*: the shared cache, lock and log
    # buffers) have a fixed size whatever the index holds.
    eb=$(find "$db" -maxdepth 1 -name '__db.*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    echo "$name: $(basename "$file")"
    row "lines" "$lines"
    row "bytes" "$bytes"
    row "ingest seconds" "$secs"
    awk -v l="$lines" -v b="$bytes" -v s="$secs" -v ib="$ib" -v eb="$eb" -v rss="$rss" -v g="$gsecs" \
        -v cpu="$(awk -v u="$usr" -v y="$sys" 'BEGIN { print u + y }')" -v pf="$name" '
        function row(k, v) { printf "  %-22s %s\n", k, v }
        BEGIN {
            if (s <= 0) s = 0.005    # /usr/bin/time resolution
            row("ingest lines/s", sprintf("%.0f%s", l / s, pf == "postfix" ? "   (target >= 150000)" : ""))
            row("ingest CPU seconds", sprintf("%.2f   (user + system)", cpu))
            row("lines per CPU second", sprintf("%.0f", cpu > 0 ? l / cpu : 0))
            row("ingest MB/s", sprintf("%.1f", b / s / 1e6))
            row("index bytes", sprintf("%d   (databases and log %d, environment regions %d)", ib, ib - eb, eb))
            row("index / raw bytes", sprintf("%.2f   (target <= 1.0; without the regions %.2f)",
                                             b ? ib / b : 0, b ? (ib - eb) / b : 0))
            row("peak RSS", sprintf("%.1f MiB   (target < 100 MiB)", rss / 1024))
            row("grep -c lines/s", sprintf("%.0f   (reference: grep -c on the same file, best of 3)", (g > 0 ? l / g : 0)))
            row("ingest / grep -c", sprintf("%.4f", (g > 0 ? (l / s) / (l / g) : 0)))
        }'
    if [ -s "$W/ingest.err" ]; then
        echo "  msgtrack-index said:"
        head -n 5 "$W/ingest.err" | sed 's/^/    /'
    fi
}

echo "msgtrack-index ingest benchmark: $N lines per log, seed $SEED"
echo "  binary $BIN"
echo "  $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
t=$(now)
gp=$(gen postfix "$W/mail.log")
gm=$(gen msgtrk "$W/MSGTRK20261101-1.LOG")
echo "  generated in $(since "$t" | cut -d. -f1) s: postfix $(field messages "$gp") messages" \
     "($(field needle_messages "$gp") from $NEEDLE), msgtrk $(field messages "$gm") messages" \
     "($(field needle_messages "$gm") from $NEEDLE)"
echo
bench postfix postfix "$W/mail.log" --year 2026
bench msgtrk msgtrk "$W/MSGTRK20261101-1.LOG"
echo
echo "find --sender $NEEDLE (best of 3) next to grep -c on the raw log (best of 3)"
for name in postfix msgtrk; do
    [ "$name" = postfix ] && raw="$W/mail.log" || raw="$W/MSGTRK20261101-1.LOG"
    read -r fsecs frows <<<"$(find_c "$W/db-$name")"
    read -r gsecs glines <<<"$(grep_c "$raw")"
    awk -v n="$name" -v fs="$fsecs" -v fr="$frows" -v gs="$gsecs" -v gl="$glines" 'BEGIN {
        printf "  %-8s find %9.4f s %6d messages   grep -c %9.4f s %6d lines   find / grep %.3f\n",
               n, fs, fr, gs, gl, (gs > 0 ? fs / gs : 0) }'
done
