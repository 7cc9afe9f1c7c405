#!/usr/bin/env bash
# bench/stress.sh: live ingestion under load, and crashes, against one httpd
# started from the build tree (issue 5, items 2 and 3).
#
#   bench/stress.sh [--quick] [BUILD_DIR]    (default: _b, a configured build of this tree)
#
# 1. live    msgtrack-index follow ingests a log that a writer appends to at
#            RATE lines/s while wrk runs Find and Get at CONNECTIONS for
#            SECONDS: no 5xx, every answer NoError, no Berkeley DB error in
#            error_log, sampled answers valid against the bundled XSDs.
# 2. kills   the same, while an httpd child is killed with SIGKILL every
#            second: follow keeps ingesting, nothing hangs, afterwards the
#            server answers every request correctly and verify passes.
# 3. graceful  the same, with `httpd -k graceful` every few seconds: no 5xx.
#    Then the writer stops, follow catches up and stops, and its index
#    must dump exactly as an offline ingest of the same log does.
# 4. crash   msgtrack-index ingest of a large log killed with SIGKILL at
#            KILLS random moments (run again after each) while httpd reads
#            the index: the final index dumps exactly as an uninterrupted
#            ingest, verify passes, httpd answers as the command line does.
#
# Exits 1 when a check fails (a correctness check: statuses, response codes,
# schema validity, dumps, verify, hangs), never because of a rate. Prints
# the figures as it goes and a summary at the end.
#
#   --quick, MSGTRACK_STRESS_QUICK=1   the CI scale (scripts/test.sh): 10 s phases,
#                                      100000 lines for the crash test
#   MSGTRACK_STRESS_SECONDS=60         load seconds of the live phase
#   MSGTRACK_STRESS_KILL_SECONDS=30    seconds of the child-kill phase (one kill a second)
#   MSGTRACK_STRESS_GRACEFUL_SECONDS=30  seconds of the graceful phase
#   MSGTRACK_STRESS_GRACEFULS=6        graceful restarts in that phase
#   MSGTRACK_STRESS_RATE=6000          lines/s appended to the followed log
#   MSGTRACK_STRESS_CONNECTIONS=32     wrk concurrency
#   MSGTRACK_STRESS_LINES=1000000      lines of the crash test's log
#   MSGTRACK_STRESS_KILLS=20           indexer kills that must land mid-run
#   MSGTRACK_STRESS_SEED=1             generator seed
#   MSGTRACK_HTTPD=/usr/sbin/apache2   the server binary (a wrapper for ASan, say)
#   MSGTRACK_STRESS_KEEP=1             keep the work directory
#   TMPDIR=/tmp                        where the work directory goes
#
# Run as root, the server's children, follow and ingest run as www-data (the
# readers must be able to lock in the environment msgtrack-index creates).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
QUICK=${MSGTRACK_STRESS_QUICK:-0}
if [ "${1:-}" = --quick ]; then QUICK=1; shift; fi
BUILD=$(cd "${1:-$SRC/_b}" && pwd)
if [ "$QUICK" = 1 ]; then
    d_secs=10 d_kill=10 d_grace=10 d_gracefuls=3 d_lines=100000
else
    d_secs=60 d_kill=30 d_grace=30 d_gracefuls=6 d_lines=1000000
fi
SECS=${MSGTRACK_STRESS_SECONDS:-$d_secs}
KILL_SECS=${MSGTRACK_STRESS_KILL_SECONDS:-$d_kill}
GRACE_SECS=${MSGTRACK_STRESS_GRACEFUL_SECONDS:-$d_grace}
GRACEFULS=${MSGTRACK_STRESS_GRACEFULS:-$d_gracefuls}
RATE=${MSGTRACK_STRESS_RATE:-6000}
CONNS=${MSGTRACK_STRESS_CONNECTIONS:-32}
CRASH_LINES=${MSGTRACK_STRESS_LINES:-$d_lines}
KILLS=${MSGTRACK_STRESS_KILLS:-20}
SEED=${MSGTRACK_STRESS_SEED:-1}
HTTPD=${MSGTRACK_HTTPD:-/usr/sbin/apache2}
BIN="$BUILD/mod_msgtrack/msgtrack-index"
MOD="$BUILD/mod_msgtrack/.libs/mod_msgtrack.so"
FIRST=20000                       # lines in the followed log before the load starts
WINDOW_START=2026-11-01T00:00:00Z WINDOW_END=2026-11-02T00:00:00Z

die() { echo "stress.sh: $*" >&2; exit 1; }
for v in SECS KILL_SECS GRACE_SECS GRACEFULS RATE CONNS CRASH_LINES KILLS SEED; do
    case ${!v} in ''|*[!0-9]*) die "$v must be a number, not '${!v}'" ;; esac
done
[ -x "$BIN" ] || die "no $BIN: build first"
[ -f "$MOD" ] || die "no module at $MOD: build first"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v python3 >/dev/null || die "python3 is needed"
perl -MXML::LibXML -e1 2>/dev/null || die "XML::LibXML is needed (apt-get install libxml-libxml-perl)"
MODULES=$(apxs -q LIBEXECDIR)

W=$(mktemp -d "${TMPDIR:-/tmp}/msgtrack-stress.XXXXXX")
chmod 755 "$W"
PIDS=()                           # processes this script started, for the cleanup
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ -f "$W/httpd.pid" ]; then
        kill -TERM "$(cat "$W/httpd.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -f "$W/httpd.pid" ] || break; sleep 0.1; done
    fi
    if [ "${MSGTRACK_STRESS_KEEP:-0}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# As root, msgtrack-index runs as the server's user; setpriv execs it in
# place, so that $! of "${AS_USER[@]}" CMD & is CMD itself (the kill test
# needs the pid of msgtrack-index, not of a shell around it).
if [ "$(id -u)" = 0 ]; then
    RUN_USER=www-data
    USER_LINES=$'User www-data\nGroup www-data'
    AS_USER=(setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups --)
else
    RUN_USER=$(id -un)
    USER_LINES=""
    AS_USER=(env)
fi
mkdir -p "$W/logs" "$W/samples" "$W/wrk"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$W" "$W/samples"
idx() { "${AS_USER[@]}" timeout 600 "$BIN" "$@"; }

# ------------------------------------------------------------------ results
FAILED=0
SUMMARY=()
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; FAILED=1; }
check() { # description condition-command...
    local d=$1; shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}
figure() { printf '  %-34s %s\n' "$1" "$2"; SUMMARY+=("$(printf '%-34s %s' "$1" "$2")"); }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${MSGTRACK_STRESS_PORT:-$(free_port)}
PORT2=$(free_port)
[ "$PORT2" = "$PORT" ] && PORT2=$(free_port)

# ------------------------------------------------------------------ logs
echo "mod_msgtrack stress: $( [ "$QUICK" = 1 ] && echo quick || echo full ) scale," \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
t=$(now)
LIVE_LINES=$((FIRST + RATE * (SECS + KILL_SECS + GRACE_SECS + 30)))
python3 "$SRC/bench/gen_logs.py" --format postfix --lines "$LIVE_LINES" --seed "$SEED" \
    -o "$W/live.src" 2>"$W/gen.err" || { cat "$W/gen.err" >&2; die "the generator failed"; }
python3 "$SRC/bench/gen_logs.py" --format postfix --lines "$CRASH_LINES" --seed $((SEED + 1)) \
    -o "$W/crash.log" 2>>"$W/gen.err" || { cat "$W/gen.err" >&2; die "the generator failed"; }
echo "generated $LIVE_LINES lines to follow and $CRASH_LINES to crash on in $(since "$t") s"

# ------------------------------------------------------------------ httpd
cat >"$W/httpd.conf" <<CONF
ServerRoot "$W"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
Listen 127.0.0.1:$PORT2
PidFile "$W/httpd.pid"
ErrorLog "$W/logs/error_log"
LogLevel warn
$USER_LINES
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule msgtrack_module "$MOD"
# Four children of sixteen threads, all started at once and never reaped
# for being idle (the only children that end are those the test kills or a
# graceful restart replaces), so that killing one leaves the others
# serving. (mpm_event closes kept-alive connections of a child whose
# workers are all busy, and a client that has just sent a request on one
# sees it closed without a response: wrk counts a read error. Sixteen
# threads a child make that rarer on a busy machine, not impossible.)
StartServers 4
ServerLimit 16
ThreadLimit 16
ThreadsPerChild 16
MinSpareThreads 16
MaxSpareThreads 256
MaxRequestWorkers 64
MaxConnectionsPerChild 0
DocumentRoot "$W"
# A child that crashes leaves its core here (as root httpd makes its
# children dumpable only when this is set).
CoreDumpDirectory "$W/cores"
MsgTrackSchemaDir "$SRC/schemas"
MsgTrackDatabase "$W/live"
<Location /EWS>
    SetHandler msgtrack
    # Identity is cheap: every caller gets the help desk view.
    MsgTrackPrivileged true
</Location>
<VirtualHost 127.0.0.1:$PORT2>
    MsgTrackDatabase "$W/crash"
</VirtualHost>
CONF
URL="http://127.0.0.1:$PORT/EWS/Exchange.asmx"
URL2="http://127.0.0.1:$PORT2/EWS/Exchange.asmx"
mkdir -p "$W/cores"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$W/cores"
ulimit -c unlimited 2>/dev/null || true
"$HTTPD" -f "$W/httpd.conf" -k start || die "httpd did not start (see $W/logs/error_log)"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
httpd_pid() { cat "$W/httpd.pid"; }
children() { ps -o pid= --ppid "$(httpd_pid)" | tr -d ' '; }

# error_log lines since byte offset $1 that mention Berkeley DB, and crashes.
log_mark() { stat -c %s "$W/logs/error_log"; }
log_since() { tail -c +$(($1 + 1)) "$W/logs/error_log"; }
bdb_lines() { log_since "$1" | grep -c -E 'Berkeley DB|BDB[0-9]' || true; }
# show_bdb MARK: the first of those lines, for a check that failed.
show_bdb() { log_since "$1" | grep -E 'Berkeley DB|BDB[0-9]' | head -8 | cut -c1-400 | sed 's/^/    /' || true; }
crash_lines() { log_since "$1" | grep -c -E 'Segmentation fault|Aborted|exit signal' || true; }

# ------------------------------------------------------------------ load
# run_wrk NAME SECONDS CONNECTIONS URL: wrk in the background; wrk_wait NAME reads its figures.
run_wrk() {
    local name=$1 secs=$2 conns=$3 url=$4 threads=2
    [ "$conns" -lt 2 ] && threads=1
    mkdir -p "$W/samples/$name"
    [ "$(id -u)" = 0 ] && chown "$RUN_USER" "$W/samples/$name"
    wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 30s -s "$SRC/bench/stress_load.lua" \
        "$url" -- "$W/bodies.xml" "$W/samples/$name" "${SAMPLE_EVERY:-200}" \
        >"$W/wrk/$name.out" 2>&1 &
    WRK_PID=$!
    PIDS+=("$WRK_PID")
}
wrk_wait() { wait "$WRK_PID" || true; }
wrk_get() { # NAME KEY [FIELD]: a figure from stress_load.lua's done()
    awk -v k="$2" -v f="${3:-2}" '$1 == k { print $f; found = 1 } END { if (!found) print 0 }' \
        "$W/wrk/$1.out" | head -1
}
wrk_status() { awk -v s="$2" '$1 == "status" && $2 == s { print $3; f = 1 } END { if (!f) print 0 }' "$W/wrk/$1.out"; }
wrk_5xx() { awk '$1 == "status" && $2 >= 500 { n += $3 } END { print n + 0 }' "$W/wrk/$1.out"; }
wrk_not_noerror() { awk '$1 == "code" && $2 != "NoError" { n += $3 } END { print n + 0 }' "$W/wrk/$1.out"; }
wrk_codes() { awk '$1 == "code" { printf "%s%s %s", sep, $2, $3; sep = ", " }' "$W/wrk/$1.out"; }
wrk_errors() { awk '$1 == "errors" { print "connect " $3 ", read " $5 ", write " $7 ", timeout " $11 }' "$W/wrk/$1.out"; }
wrk_socket_errors() { awk '$1 == "errors" { print $3 + $5 + $7 + $11 }' "$W/wrk/$1.out"; }
validate() { # NAME: validate the sampled answers; prints "valid N invalid M"
    local files
    files=$(find "$W/samples/$1" -name '*.xml' | wc -l)
    if [ "$files" = 0 ]; then echo "valid 0 invalid 0"; return 0; fi
    find "$W/samples/$1" -name '*.xml' -print0 |
        xargs -0 perl "$SRC/bench/stress_check.pl" "$SRC/schemas" >"$W/wrk/$1.check" 2>&1 || true
    grep -v '^valid ' "$W/wrk/$1.check" | head -5 | sed 's/^/    /' >&2 || true
    tail -n 1 "$W/wrk/$1.check"
}
# check_samples NAME: the figure and the check of a phase's sampled answers.
check_samples() {
    local v
    v=$(validate "$1"); figure "$1: sampled answers" "$v"
    check "$1: every sampled answer is schema-valid" [ "${v##* }" = 0 ]
}
# check_no_bdb NAME MARK: no Berkeley DB line in error_log since MARK (shown if any).
check_no_bdb() {
    local n
    n=$(bdb_lines "$2"); check "$1: no Berkeley DB error in error_log ($n)" [ "$n" = 0 ]
    [ "$n" = 0 ] || show_bdb "$2"
}

report_load() { # NAME: print a phase's load figures
    local n=$1
    figure "$n: requests" "$(wrk_get "$n" requests) ($(awk '/Requests\/sec:/ { print $2 }' "$W/wrk/$n.out") req/s)"
    figure "$n: HTTP statuses" "$(awk '$1 == "status" { printf "%s%s %s", s, $2, $3; s = ", " }' "$W/wrk/$n.out")"
    figure "$n: ResponseCodes" "$(wrk_codes "$n")"
    figure "$n: socket errors" "$(wrk_errors "$n")"
    figure "$n: spliced bodies" "$(wrk_get "$n" spliced) (wrk put the part of a response cut by the server in front of the next)"
    figure "$n: latency" "$(awk '$1 == "latency" { print "p50 " $3 " ms, p99 " $5 " ms, max " $7 " ms" }' "$W/wrk/$n.out")"
}

# ------------------------------------------------------------------ the followed index
stat_lines() { # DB: lines the index has read (nothing when it cannot be read now)
    local out rc=0
    out=$("${AS_USER[@]}" timeout 300 "$BIN" --db "$1" stats --json 2>/dev/null) || rc=$?
    [ "$rc" = 124 ] && echo "$(date +%T) stats --db $1 did not answer in 300 s" >>"$W/hung.txt"
    python3 -c 'import json, sys; print(json.load(sys.stdin)["lines"])' <<<"$out" 2>/dev/null || true
}
stat_lines0() { # DB: the same, trying for 10 s (the index may be being recovered), else 0
    local n i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        n=$(stat_lines "$1")
        [ -n "$n" ] && break
        sleep 1
    done
    echo "${n:-0}"
}
writer_lines() { sed -n 's/.*\blines=\([0-9]*\).*/\1/p' "$W/writer.status" 2>/dev/null || echo 0; }
follow_alive() { kill -0 "$FOLLOW_PID" 2>/dev/null; }
# How far follow got is read with `stats` at the start and end of a phase
# only: stats reads the whole index in one snapshot transaction, and on a
# big index that takes seconds, during which the writer must keep every
# page version it would need (MVCC): polled often, it slows follow down.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

echo
echo "== 1. live ingestion under load: $SECS s, $CONNS connections, $RATE lines/s appended"
: >"$W/live.log"
python3 "$SRC/bench/stress_writer.py" "$W/live.src" "$W/live.log" --rate "$RATE" --first "$FIRST" \
    --seed "$SEED" --status "$W/writer.status" >"$W/writer.out" 2>&1 &
WRITER_PID=$!
PIDS+=("$WRITER_PID")
"${AS_USER[@]}" "$BIN" --db "$W/live" follow --year 2026 "$W/live.log" 2>"$W/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
t=$(now)
until [ "$(stat_lines0 "$W/live")" -ge "$FIRST" ]; do
    follow_alive || die "follow ended: $(cat "$W/follow.err")"
    [ "$(since "$t" | cut -d. -f1)" -lt 120 ] || die "follow did not read the first $FIRST lines in 120 s"
    sleep 0.5
done
idx --db "$W/live" find --start "$WINDOW_START" --end "$WINDOW_END" --json |
    python3 "$SRC/bench/stress_bodies.py" --count 2000 --seed "$SEED" \
        --start "$WINDOW_START" --end "$WINDOW_END" >"$W/bodies.xml"

mark=$(log_mark)
l0=$(stat_lines0 "$W/live"); w0=$(writer_lines); t0=$(now)
run_wrk live "$SECS" "$CONNS" "$URL"
wrk_wait
w1=$(writer_lines); el=$(since "$t0"); l1=$(stat_lines0 "$W/live")
report_load live
figure "live: lines appended" "$((w1 - w0)) in $el s ($(rate $((w1 - w0)) "$el") lines/s)"
figure "live: lines follow indexed" "$((l1 - l0)) in $el s ($(rate $((l1 - l0)) "$el") lines/s)"
figure "live: follow behind the writer" "$(( w1 > l1 ? w1 - l1 : 0 )) lines at the end of the load"
check "live: follow is running" follow_alive
check "live: requests were answered" [ "$(wrk_get live requests)" -gt 0 ]
check "live: no 5xx" [ "$(wrk_5xx live)" = 0 ]
check "live: every answer is a 200 NoError" [ "$(wrk_not_noerror live)" = 0 ]
check "live: no connection was cut mid-response (no spliced body)" [ "$(wrk_get live spliced)" = 0 ]
check_no_bdb live "$mark"
check_samples live

echo
echo "== 2. kill -9 httpd children under load: $KILL_SECS s, one kill a second"
mark=$(log_mark)
l0=$(stat_lines0 "$W/live"); w0=$(writer_lines); t0=$(now)
run_wrk kills "$KILL_SECS" "$CONNS" "$URL"
child_kills=0
end=$(awk -v a="$(now)" -v s="$KILL_SECS" 'BEGIN { printf "%.0f", a + s - 1 }')
while [ "$(now | cut -d. -f1)" -lt "$end" ]; do
    sleep 1
    mapfile -t kids < <(children)
    [ "${#kids[@]}" -gt 0 ] || continue
    victim=${kids[RANDOM % ${#kids[@]}]}
    if kill -9 "$victim" 2>/dev/null; then child_kills=$((child_kills + 1)); last_kill=$(now); fi
done
wrk_wait
w1=$(writer_lines); el=$(since "$t0"); l1=$(stat_lines0 "$W/live")
report_load kills
figure "kills: children killed" "$child_kills"
figure "kills: lines appended" "$((w1 - w0)) in $el s ($(rate $((w1 - w0)) "$el") lines/s)"
figure "kills: lines follow indexed" "$((l1 - l0)) in $el s ($(rate $((l1 - l0)) "$el") lines/s)"
check "kills: follow kept running" follow_alive
check "kills: follow kept ingesting" [ "$l1" -gt "$l0" ]
check "kills: no 5xx" [ "$(wrk_5xx kills)" = 0 ]
check "kills: no request timed out (nothing hung)" [ "$(wrk_get kills errors 11)" = 0 ]
check_samples kills
# Afterwards every request is answered from the index again, once follow has
# recovered it (when a child died inside Berkeley DB) and the children
# stuck in the old environment have left (10 s, mt_index_watch): 2 s of
# load at a time until one is all NoError, for a minute at most.
t0=$(now)
settled=""
while [ "$(since "$t0" | cut -d. -f1)" -lt 60 ]; do
    run_wrk after-kills 2 8 "$URL"
    wrk_wait
    if [ "$(wrk_not_noerror after-kills)" = 0 ] && [ "$(wrk_5xx after-kills)" = 0 ] &&
       [ "$(wrk_get after-kills requests)" -gt 0 ]; then
        settled=$(since "${last_kill:-$t0}"); break
    fi
done
report_load after-kills
figure "kills: answering correctly again" "${settled:-never} s after the last kill"
check "after kills: every answer is a 200 NoError again" [ -n "$settled" ]
# What the kills cost is logged until the last child stuck on a killed
# child's mutex has left, and a child that leaves so can leave another stuck
# until follow has recovered the index: the watch ends a request in a failed
# index 10 s after it began. The phase ends when error_log has had no new
# Berkeley DB line for 12 s, so that those lines count here (as a figure,
# not a check) and not in the next phase; within 90 s, or the kills left
# the server unsettled.
t0=$(now); quiet_since=$t0; seen=$(bdb_lines "$mark"); quiet=""
while [ "$(since "$t0" | cut -d. -f1)" -lt 90 ]; do
    sleep 0.5
    n=$(bdb_lines "$mark")
    if [ "$n" != "$seen" ]; then seen=$n; quiet_since=$(now); fi
    if [ "$(since "$quiet_since" | cut -d. -f1)" -ge 12 ]; then quiet=$(since "$t0"); break; fi
done
figure "kills: error_log quiet again" "${quiet:-never} s after answers were correct again"
check "kills: no new Berkeley DB line for 12 s, within 90 s" [ -n "$quiet" ]
n=$(bdb_lines "$mark"); figure "kills: Berkeley DB lines in error_log" "$n"
log_since "$mark" | grep -E 'Berkeley DB|BDB[0-9]' | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' || true

echo
echo "== 3. graceful restarts under load: $GRACEFULS in $GRACE_SECS s"
mark=$(log_mark)
run_wrk graceful "$GRACE_SECS" "$CONNS" "$URL"
for i in $(seq "$GRACEFULS"); do
    sleep "$(awk -v s="$GRACE_SECS" -v n="$GRACEFULS" 'BEGIN { printf "%.2f", s / (n + 1) }')"
    # A graceful restart that does not return is a failure, not a hang.
    timeout 60 "$HTTPD" -f "$W/httpd.conf" -k graceful || bad "graceful restart $i failed (or took over 60 s)"
done
wrk_wait
report_load graceful
check "graceful: no 5xx" [ "$(wrk_5xx graceful)" = 0 ]
check "graceful: every answer is a 200 NoError" [ "$(wrk_not_noerror graceful)" = 0 ]
figure "graceful: failed requests (socket)" "$(wrk_socket_errors graceful)"
check_no_bdb graceful "$mark"
check_samples graceful

echo
echo "== the followed index against an offline ingest of the same log"
kill -TERM "$WRITER_PID" 2>/dev/null || true
wait "$WRITER_PID" || true
figure "writer" "$(tail -n 1 "$W/writer.out")"
total=$(wc -l <"$W/live.log")
t=$(now)
until [ "$(stat_lines0 "$W/live")" -ge "$total" ]; do
    follow_alive || break
    [ "$(since "$t" | cut -d. -f1)" -lt 600 ] || break
    sleep 2
done
figure "follow caught up" "$(since "$t") s after the writer stopped"
kill -TERM "$FOLLOW_PID" 2>/dev/null || true
rc=0
for _ in $(seq 600); do follow_alive || break; sleep 0.1; done
if follow_alive; then
    bad "follow did not end within 60 s of SIGTERM"; kill -9 "$FOLLOW_PID" || true
fi
wait "$FOLLOW_PID" || rc=$?
check "follow ended cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]
[ -s "$W/follow.err" ] && sed 's/^/    follow: /' "$W/follow.err" | head -5
check "verify passes on the followed index" idx --db "$W/live" verify
idx --db "$W/live" dump >"$W/live.dump"
idx --db "$W/offline" ingest --year 2026 "$W/live.log" 2>/dev/null
idx --db "$W/offline" dump >"$W/offline.dump"
figure "followed index" "$(grep -c '^hop ' "$W/live.dump") messages, $(grep -c '^  event ' "$W/live.dump") events, $total lines"
if cmp -s "$W/live.dump" "$W/offline.dump"; then
    ok "the followed index dumps exactly as an offline ingest of the same log"
else
    bad "the followed index differs from an offline ingest of the same log"
    diff "$W/live.dump" "$W/offline.dump" | head -20
fi

echo
echo "== 4. kill -9 the indexer at $KILLS random moments of a $CRASH_LINES-line ingest"
# Batches of 2000 lines: ten times the commits of the default, so that kills
# land before, inside and after commits, and in the runs' recoveries.
export MSGTRACK_BATCH_LINES=2000
t=$(now)
idx --db "$W/crash-ref" ingest --year 2026 "$W/crash.log"
ref_secs=$(since "$t")
figure "uninterrupted ingest" "$ref_secs s ($(awk -v n="$CRASH_LINES" -v s="$ref_secs" 'BEGIN { printf "%.0f", n / s }') lines/s, batches of $MSGTRACK_BATCH_LINES lines)"
t=$(now)
idx --db "$W/crash-ref" ingest --year 2026 "$W/crash.log"
idle_secs=$(since "$t")       # a run with nothing to read: start-up and the end
idx --db "$W/crash-ref" dump >"$W/crash-ref.dump"
# bodies for this index, and a light load on it through the second port
idx --db "$W/crash-ref" find --start "$WINDOW_START" --end "$WINDOW_END" --json |
    python3 "$SRC/bench/stress_bodies.py" --count 500 --seed "$SEED" \
        --start "$WINDOW_START" --end "$WINDOW_END" >"$W/bodies.xml"
mark=$(log_mark)
run_wrk crash 3600 4 "$URL2"
# Each run is killed after a random delay of up to its start-up time plus the
# uninterrupted time / kills: on average about half of the ingest happens
# between the kills, so they spread over the whole of it, and some land in
# start-up and recovery.
max_ms=$(awk -v s="$ref_secs" -v i="$idle_secs" -v k="$KILLS" 'BEGIN { m = int(1000 * (i + s / k)); print (m < 20 ? 20 : m) }')
landed=0 finished=0 runs=0
RANDOM=$SEED
while [ "$landed" -lt "$KILLS" ] && [ "$runs" -lt $((KILLS * 3)) ]; do
    runs=$((runs + 1))
    delay=$(awk -v r=$((RANDOM * 32768 + RANDOM)) -v m="$max_ms" 'BEGIN { printf "%.3f", (r % m) / 1000 }')
    "${AS_USER[@]}" "$BIN" --db "$W/crash" ingest --year 2026 "$W/crash.log" 2>>"$W/crash.err" &
    ipid=$!
    sleep "$delay"
    kill -9 "$ipid" 2>/dev/null || true
    rc=0; { wait "$ipid"; } 2>/dev/null || rc=$?
    if [ "$rc" = 137 ]; then
        landed=$((landed + 1))
    else
        finished=$((finished + 1))
        [ "$rc" = 0 ] || bad "ingest run $runs failed (exit $rc): $(tail -n 3 "$W/crash.err")"
    fi
    echo "  run $runs: kill -9 after ${delay} s: $( [ "$rc" = 137 ] && echo "killed mid-run" || echo "had finished (exit $rc)")"
done
idx --db "$W/crash" ingest --year 2026 "$W/crash.log" 2>>"$W/crash.err" || bad "the final ingest failed: $(tail -n 3 "$W/crash.err")"
unset MSGTRACK_BATCH_LINES
figure "indexer kills that landed mid-run" "$landed of $runs runs ($finished finished first)"
check "at least $KILLS kills landed mid-run" [ "$landed" -ge "$KILLS" ]
check "verify passes after the kills" idx --db "$W/crash" verify
idx --db "$W/crash" dump >"$W/crash.dump"
if cmp -s "$W/crash.dump" "$W/crash-ref.dump"; then
    ok "after the kills the index dumps exactly as an uninterrupted ingest"
else
    bad "after the kills the index differs from an uninterrupted ingest"
    diff "$W/crash.dump" "$W/crash-ref.dump" | head -20
fi
# httpd read the index through every recovery: it answers as the command line does.
sleep 2
kill -INT "$WRK_PID" 2>/dev/null || true
wrk_wait
report_load crash
check "crash: no 5xx while the indexer was killed" [ "$(wrk_5xx crash)" = 0 ]
figure "crash: Berkeley DB lines in error_log" "$(bdb_lines "$mark")"
needle=bench-needle@example.org
want=$(idx --db "$W/crash" find --sender "$needle" --start "$WINDOW_START" --end "$WINDOW_END" --json |
       python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
python3 "$SRC/bench/stress_bodies.py" --count 1 --start "$WINDOW_START" --end "$WINDOW_END" \
    <<<"[{\"sender\": \"$needle\", \"report_id\": \"x\", \"recipients\": []}]" >"$W/needle.xml"
# Children that were opening the index when an ingest was killed may be
# stuck in it until their watch ends them (10 to 20 s): ask until the
# answer is right, for a minute at most, and say how long it took.
t=$(now); got=0
while :; do
    got=$( { curl -s --max-time 30 -H 'Content-Type: text/xml' --data-binary @"$W/needle.xml" "$URL2" || true; } |
          { grep -o '<t:MessageTrackingSearchResult>' || true; } | wc -l)
    [ "$got" = "$want" ] || [ "$(since "$t" | cut -d. -f1)" -ge 60 ] && break
    sleep 1
done
figure "crash: httpd answering the kills' index correctly" "$(since "$t") s after the last run"
check "after the kills httpd finds what the command line finds ($got of $want)" [ "$got" = "$want" -a "$want" -gt 0 ]
n=$(crash_lines 0); check "no httpd child crashed in the whole run ($n)" [ "$n" = 0 ]
[ "$n" = 0 ] || { log_since 0 | grep -E 'Segmentation fault|Aborted|exit signal' | head -5 | sed 's/^/    /'
                  ls "$W/cores" | sed 's/^/    core: /'; }
# Opening an index may write to it (failchk logs what it releases): the
# server's parent, root here, must never have done so.
n=$(find "$W/live" "$W/crash" ! -user "$RUN_USER" | wc -l)
check "every file of the indexes belongs to $RUN_USER ($n do not)" [ "$n" = 0 ]
n=0; [ -f "$W/hung.txt" ] && n=$(wc -l <"$W/hung.txt")
check "no command-line reader hung ($n)" [ "$n" = 0 ]
[ "$n" = 0 ] || sed 's/^/    /' "$W/hung.txt"
n=$(grep -c 'this child process exits now' "$W/logs/error_log" || true)
figure "children that left, stuck in a failed index" "$n"

echo
echo "== summary"
printf '%s\n' "${SUMMARY[@]}"
[ "$FAILED" = 0 ] && echo "stress: all checks passed" || echo "stress: SOME CHECKS FAILED"
exit "$FAILED"
