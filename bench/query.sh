#!/usr/bin/env bash
# bench/query.sh: the module answering from an index of N generated log lines,
# next to the same httpd serving a static file of the Find response's size,
# in one run on loopback: requests/s and latency for (a) a Find by sender
# returning about 20 messages, (b) a Get Summary of a message with five
# recipients, (c) the static file; then the growth of the httpd children's
# resident memory over 100000 more Find and Get requests.
#
#   bench/query.sh [BUILD_DIR [N]]   (default: _b, a configured build of this tree;
#                                     N lines of Postfix log, default 1000000)
#   MSGTRACK_BENCH_SECONDS=10        length of each timed wrk run
#   MSGTRACK_BENCH_ROUNDS=3          rounds of the three timed runs, the order
#                                    turned each round; the ratios and p99s
#                                    reported are the rounds' medians
#   MSGTRACK_BENCH_CONNECTIONS=16    wrk concurrency
#   MSGTRACK_BENCH_RSS_REQUESTS=100000
#                                    requests of the memory run
#   MSGTRACK_BENCH_PORT=             loopback port (default: a free one)
#   MSGTRACK_BENCH_SEED=1            generator seed (same seed, same logs)
#   MSGTRACK_BENCH_PERF=DIR          perf record -g the httpd children during
#                                    (a) and (b): DIR/find.perf.data, get.perf.data
#                                    and perf report --stdio of each (the
#                                    figures of those runs suffer)
#   MSGTRACK_BENCH_CALLGRIND=1       also count instructions per request with
#                                    callgrind (deterministic, unlike req/s);
#                                    =DIR also keeps DIR/find.callgrind.out,
#                                    get.callgrind.out, static.callgrind.out
#                                    (for callgrind_annotate)
#   MSGTRACK_BENCH_PICK=FILE         ask what FILE says instead of choosing (the
#                                    choice of a run with MSGTRACK_BENCH_CACHE is
#                                    kept in DIR/postfix-N-sSEED/pick): the same
#                                    questions of a larger index
#   MSGTRACK_BENCH_CACHE=DIR         keep the log and the index in DIR/postfix-N-sSEED
#                                    and use them again next time (an index
#                                    built by an older msgtrack-index may need
#                                    removing by hand)
#   TMPDIR=/tmp                      otherwise they go into a temporary
#                                    directory here, removed at the end: about
#                                    0.4 GB per million lines
#
# Targets (issue 4; printed next to the figures): (a) and (b) at least 0.5 of
# (c)'s requests/s, p99 under 10 ms, child RSS growing less than 20 MiB over
# the 100000 requests. Benches report, they do not assert: the exit status is
# non-zero only when a command fails (or a response is not what it should be).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/_b}
N=${2:-1000000}
SEED=${MSGTRACK_BENCH_SEED:-1}
SECS=${MSGTRACK_BENCH_SECONDS:-10}
CONNS=${MSGTRACK_BENCH_CONNECTIONS:-16}
ROUNDS=${MSGTRACK_BENCH_ROUNDS:-3}
RSS_REQUESTS=${MSGTRACK_BENCH_RSS_REQUESTS:-100000}
WANT=20                  # messages the Find should return
HTTPD=${HTTPD:-/usr/sbin/apache2}
fail() { echo "query.sh: $*" >&2; exit 1; }
case $N in ''|*[!0-9]*) echo "query.sh: N must be a number of lines, not '$N'" >&2; exit 2 ;; esac
case $ROUNDS in ''|0|*[!0-9]*) echo "query.sh: MSGTRACK_BENCH_ROUNDS must be a number of rounds, 1 or more" >&2; exit 2 ;; esac
[ -d "$BUILD" ] || fail "no build directory $BUILD (configure and make first)"
BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/mod_msgtrack/msgtrack-index
MOD=$BUILD/mod_msgtrack/.libs/mod_msgtrack.so
[ -x "$BIN" ] || fail "$BIN is not an executable: build first"
[ -f "$MOD" ] || fail "no module at $MOD: build first"
for c in wrk xmllint python3 apxs curl "$HTTPD"; do
    command -v "$c" >/dev/null || fail "$c is needed (Debian: wrk, libxml2-utils, python3, apache2-dev, curl, apache2)"
done
MODULES=$(apxs -q LIBEXECDIR)

W=$(mktemp -d "${TMPDIR:-/tmp}/msgtrack-query.XXXXXX")
cleanup() {
    if [ -f "$W/httpd.pid" ]; then
        kill "$(cat "$W/httpd.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -f "$W/httpd.pid" ] || break; sleep 0.1; done
    fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'echo "query.sh: a command failed at line $LINENO" >&2' ERR

now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# httpd started as root runs its children as www-data: they must read the
# schemas and the module, and read and write the index's region files (as
# scripts/demo.sh sets it up: a setgid directory of the server's group, the
# indexer run with umask 007).
as_root=0
[ "$(id -u)" = 0 ] && as_root=1
if [ $as_root = 1 ]; then
    chmod 755 "$W"
    chmod -R a+rX "$SRC/schemas"
fi

echo "mod_msgtrack query benchmark: $N Postfix lines, seed $SEED"
echo "  module $MOD"
echo "  $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"

# ------------------------------------------------------------------ the log and the index
if [ -n "${MSGTRACK_BENCH_CACHE:-}" ]; then
    D=$MSGTRACK_BENCH_CACHE/postfix-$N-s$SEED
    mkdir -p "$D"
    [ $as_root = 1 ] && chmod 755 "$MSGTRACK_BENCH_CACHE" "$D"
else
    D=$W
fi
LOG=$D/mail.log
DB=$D/db
if [ ! -s "$LOG" ] || [ ! -f "$D/gen.done" ]; then
    t=$(now)
    python3 "$SRC/bench/gen_logs.py" --format postfix --lines "$N" --seed "$SEED" -o "$LOG" 2>"$W/gen.err" \
        || { cat "$W/gen.err" >&2; fail "the generator failed"; }
    tail -n 1 "$W/gen.err" >"$D/gen.done"
    echo "  generated in $(since "$t") s: $(cut -d' ' -f1-4 "$D/gen.done")"
    rm -rf "$DB" "$D/index.done"
else
    echo "  log from $D: $(cut -d' ' -f1-4 "$D/gen.done")"
fi
if [ ! -f "$D/index.done" ] || [ ! -d "$DB" ]; then
    rm -rf "$DB"
    if [ $as_root = 1 ]; then
        install -d -m 2770 -g www-data "$DB"
    else
        install -d -m 0700 "$DB"
    fi
    t=$(now)
    (umask 007; "$BIN" --db "$DB" ingest --format postfix --year 2026 "$LOG" >"$W/ingest.out" 2>"$W/ingest.err") \
        || { tail -n 20 "$W/ingest.err" >&2; fail "ingest failed: $BIN --db $DB ingest --format postfix --year 2026 $LOG"; }
    echo "indexed in $(since "$t") s" >"$D/index.done"
    echo "  $(cat "$D/index.done")"
else
    echo "  index from $DB ($(cat "$D/index.done"))"
fi
# msgtrack-index as the indexer runs it (group read/write files).
idx() { (umask 007; "$BIN" --db "$DB" "$@"); }
idx stats | sed -n 's/^\(messages\|events\|oldest\|newest\)/  &/p'

# ------------------------------------------------------------------ what to ask
# (a) Senders submit with SASL (sasl_username= is the sender); the generator
# spreads messages evenly over about 3000 local senders, so each has about
# 20 per million lines. Take the sender whose count is nearest at or above
# 20 (ties by name), and when it has more than 20 messages (larger N) narrow
# StartDateTime to its 20 newest. (b) Among the same senders, in that order,
# the first message with five original recipients and five recipients in its
# report (no alias expanded).
if [ -n "${MSGTRACK_BENCH_PICK:-}" ]; then
    cp "$MSGTRACK_BENCH_PICK" "$W/pick" || fail "cannot read MSGTRACK_BENCH_PICK $MSGTRACK_BENCH_PICK"
else
    grep -o 'sasl_username=[^ ,]*' "$LOG" | cut -d= -f2 | sort | uniq -c \
        | awk -v w=$WANT '$1 >= w { printf "%d %s\n", $1 - w, $2 }' | sort -k1,1n -k2,2 | awk 'NR <= 200' \
        | cut -d' ' -f2 >"$W/senders"
    [ -s "$W/senders" ] || fail "no sender with $WANT messages in $LOG: N too small"
    python3 - "$W" $WANT "$BIN" "$DB" <<'PY' || fail "could not pick the requests (see above)"
import json, os, subprocess, sys
from datetime import datetime, timedelta
w, want = sys.argv[1], int(sys.argv[2])
idx = sys.argv[3:5]
idx.insert(1, "--db")
os.umask(0o007)
def run(*args):
    return json.loads(subprocess.run(idx + list(args), check=True, stdout=subprocess.PIPE).stdout)
senders = open(w + "/senders").read().split()
find = None
get = None
for s in senders:
    found = run("find", "--sender", s, "--start", "2000-01-01T00:00:00Z", "--end", "2100-01-01T00:00:00Z", "--json")
    found.sort(key=lambda m: m["submitted"], reverse=True)
    if find is None and len(found) >= want:
        newest = datetime.strptime(found[0]["submitted"], "%Y-%m-%dT%H:%M:%SZ")
        end = (newest + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        find = (s, found[want - 1]["submitted"], end, len(found))
    if get is None:
        for m in found:
            if len(m["recipients"]) != 5:
                continue
            r = run("report", m["report_id"], "--json")
            if len(r["original_recipients"]) == 5 and len({e["recipient"].lower() for e in r["events"]}) == 5:
                get = (s, m["report_id"], len(r["events"]))
                break
    if find and get:
        break
if not find or not get:
    sys.exit("query.sh: no sender with %d messages or no message with five recipients" % want)
with open(w + "/pick", "w") as f:
    f.write("FIND_SENDER=%s\nFIND_START=%s\nFIND_END=%s\nFIND_ALL=%d\n" % find)
    f.write("GET_SENDER=%s\nGET_ID='%s'\nGET_EVENTS=%d\n" % get)
PY
    [ "$D" = "$W" ] || cp "$W/pick" "$D/pick"
fi
# shellcheck source=/dev/null
. "$W/pick"

NS='xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"'
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<<"$1"; }
cat >"$W/find.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<s:Envelope $NS>
  <s:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></s:Header>
  <s:Body>
    <m:FindMessageTrackingReport>
      <m:Scope>Organization</m:Scope>
      <m:Domain>example.org</m:Domain>
      <m:Sender><t:EmailAddress>$FIND_SENDER</t:EmailAddress></m:Sender>
      <m:StartDateTime>$FIND_START</m:StartDateTime>
      <m:EndDateTime>$FIND_END</m:EndDateTime>
    </m:FindMessageTrackingReport>
  </s:Body>
</s:Envelope>
XML
cat >"$W/get.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<s:Envelope $NS>
  <s:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></s:Header>
  <s:Body>
    <m:GetMessageTrackingReport>
      <m:Scope>Organization</m:Scope>
      <m:ReportTemplate>Summary</m:ReportTemplate>
      <m:MessageTrackingReportId>$(xml_escape "$GET_ID")</m:MessageTrackingReportId>
    </m:GetMessageTrackingReport>
  </s:Body>
</s:Envelope>
XML

# ------------------------------------------------------------------ httpd
if [ -n "${MSGTRACK_BENCH_PORT:-}" ]; then
    PORT=$MSGTRACK_BENCH_PORT
else
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
mkdir -p "$W/htdocs" "$W/logs"
user_lines=""
[ $as_root = 1 ] && user_lines=$'User www-data\nGroup www-data'
# No authentication module: the caller's mailbox comes from a request header
# (X-Bench-Mailbox), so the three cases pay the same for identity, nothing.
# Two children of 25 threads that live as long as the server: the memory
# run measures the same processes before and after.
cat >"$W/httpd.conf" <<CONF
ServerRoot "$W"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$W/httpd.pid"
ErrorLog "$W/logs/error_log"
LogLevel warn
$user_lines
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule msgtrack_module "$MOD"
StartServers 2
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
MinSpareThreads 25
MaxSpareThreads 75
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
DocumentRoot "$W/htdocs"
# As Debian's apache2.conf has it: no .htaccess files looked for (without
# it, strace shows httpd looking for one in every directory of the path,
# four or five failed opens per request, in every case).
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$W/htdocs">
    AllowOverride None
    Require all granted
</Directory>
MsgTrackSchemaDir "$SRC/schemas"
MsgTrackDatabase "$DB"
MsgTrackDomains example.org
<Location /EWS>
    SetHandler msgtrack
    MsgTrackMailbox "%{req:X-Bench-Mailbox}"
    MsgTrackSearchDays 3650
</Location>
CONF
"$HTTPD" -t -f "$W/httpd.conf" 2>"$W/configtest.err" || { cat "$W/configtest.err" >&2; fail "httpd -t failed"; }
"$HTTPD" -f "$W/httpd.conf" -k start
URL=http://127.0.0.1:$PORT/EWS/Exchange.asmx
for _ in $(seq 100); do curl -s -o /dev/null "$URL?wsdl" && break; sleep 0.1; done
curl -sf -o /dev/null "$URL?wsdl" || { cat "$W/logs/error_log" >&2; fail "httpd does not answer on port $PORT"; }

# post FILE MAILBOX OUT: one request with curl; fails unless 200.
post() {
    local code
    code=$(curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: text/xml; charset=utf-8' \
               -H "X-Bench-Mailbox: $2" --data-binary @"$1" "$URL")
    [ "$code" = 200 ] || { head -c 2000 "$3" >&2; echo >&2; fail "$(basename "$1"): HTTP $code"; }
}
post "$W/find.xml" "$FIND_SENDER" "$W/find.out"
post "$W/get.xml" "$GET_SENDER" "$W/get.out"

# Validate both answers: the SOAP envelope's header and body entries against
# the bundled schemas (strict: each must be declared in messages.xsd or types.xsd).
cat >"$W/envelope.xsd" <<XSD
<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://schemas.xmlsoap.org/soap/envelope/" elementFormDefault="qualified">
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages"
             schemaLocation="file://$SRC/schemas/messages.xsd"/>
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/types"
             schemaLocation="file://$SRC/schemas/types.xsd"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header">
          <xs:complexType><xs:sequence>
            <xs:any namespace="##other" processContents="strict" maxOccurs="unbounded"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="Body">
          <xs:complexType><xs:sequence>
            <xs:any namespace="##other" processContents="strict"/>
          </xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
XSD
valid() {
    xmllint --noout --nonet --schema "$W/envelope.xsd" "$1" 2>"$W/xmllint.err" \
        || { cat "$W/xmllint.err" >&2; fail "$1 is not valid against schemas/messages.xsd"; }
    grep -q 'ResponseClass="Success"' "$1" || { head -c 2000 "$1" >&2; echo >&2; fail "$1: not a success"; }
}
valid "$W/find.out"
valid "$W/get.out"
count() { xmllint --xpath "count(//*[local-name()='$2'])" "$1"; }
found=$(count "$W/find.out" MessageTrackingSearchResult)
events=$(count "$W/get.out" RecipientTrackingEvent)
recips=$(xmllint --xpath "count(//*[local-name()='OriginalRecipients']/*)" "$W/get.out")

# (c): a static file of exactly the Find response's size (its own bytes).
cp "$W/find.out" "$W/htdocs/find.xml"
[ $as_root = 1 ] && chmod -R a+rX "$W/htdocs"
size=$(stat -c %s "$W/find.out")
gsize=$(stat -c %s "$W/get.out")
curl -sf -o "$W/static.out" "http://127.0.0.1:$PORT/find.xml" || fail "the static file is not served"
cmp -s "$W/static.out" "$W/find.out" || fail "the static file differs from the Find response"

echo
if [ -n "${MSGTRACK_BENCH_PICK:-}" ]; then
    echo "the questions of $MSGTRACK_BENCH_PICK:"
    FIND_ALL="asked of another index before"
else
    FIND_ALL="$FIND_ALL messages in all"
fi
echo "(a) Find: Sender $FIND_SENDER ($FIND_ALL), StartDateTime $FIND_START, EndDateTime $FIND_END"
echo "    $found results, $size bytes, valid against messages.xsd"
echo "(b) Get Summary as $GET_SENDER: $recips original recipients, $events events, $gsize bytes, valid against messages.xsd"
echo "    $GET_ID"
echo "(c) static file /find.xml, $size bytes"

# ------------------------------------------------------------------ wrk
# lua NAME METHOD BODYFILE MAILBOX [LIMIT]: a wrk script that sends one request
# and counts the answers that are not 200; with LIMIT, each thread stops after
# LIMIT answers. The answers are counted, never looked at, in all three cases.
children() { ps -o pid= --ppid "$(cat "$W/httpd.pid")" | tr -d ' ' | sort -n; }
lua_string() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$1" | awk '{ printf "%s\\n", $0 }'; }
lua() {
    local body=""
    [ "$3" != - ] && body=$(lua_string "$3")
    cat >"$W/$1.lua" <<LUA
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
    bad, answers, limit = 0, 0, ${5:-0}
    req = wrk.format("$2", nil, { ["Content-Type"] = "text/xml; charset=utf-8",
                                  ["X-Bench-Mailbox"] = "$4" }, $([ "$3" != - ] && echo "\"$body\"" || echo nil))
end
function request() return req end
function response(status, headers, body)
    if status ~= 200 then bad = bad + 1 end
    answers = answers + 1
    if limit > 0 and answers >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
    local b, n = 0, 0
    for _, t in ipairs(threads) do b = b + t:get("bad"); n = n + t:get("answers") end
    io.write(string.format("answers %d not200 %d\n", n, b))
end
LUA
}
lua find POST "$W/find.xml" "$FIND_SENDER"
lua get POST "$W/get.xml" "$GET_SENDER"
lua static GET - "$FIND_SENDER"

# CPU time (user + system, clock ticks) the httpd children have used.
ticks() {
    local p t=0
    for p in $(children); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo $t
}
HZ=$(getconf CLK_TCK)
run() {   # run NAME PATH SECONDS [perf]: wrk's report in $W/NAME.wrk, CPU ticks in NAME.cpu;
          # the requests of $W/NAME.lua, or of $W/$LUA.lua
    local perf_pid="" t0
    if [ -n "${MSGTRACK_BENCH_PERF:-}" ] && [ "${4:-}" = perf ]; then
        perf record -q -g -o "$MSGTRACK_BENCH_PERF/${LUA:-$1}.perf.data" -p "$(children | paste -sd,)" \
            -- sleep "$SECS" 2>"$W/perf.err" &
        perf_pid=$!
    fi
    t0=$(ticks)
    wrk -t"${THREADS:-2}" -c"${RUN_CONNS:-$CONNS}" -d"$3s" --latency -s "$W/${LUA:-$1}.lua" \
        "http://127.0.0.1:$PORT$2" >"$W/$1.wrk" 2>&1 || { cat "$W/$1.wrk" >&2; fail "wrk failed"; }
    echo $(($(ticks) - t0)) >"$W/$1.cpu"
    awk '/^answers/ && $4 != 0 { bad = 1 } /Socket errors/ { bad = 1 } END { exit bad }' "$W/$1.wrk" \
        || { cat "$W/$1.wrk" >&2; fail "$1: some answers were not 200, or sockets failed"; }
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || { cat "$W/perf.err" >&2; fail "perf record failed"; }
        perf report -i "$MSGTRACK_BENCH_PERF/${LUA:-$1}.perf.data" --stdio --no-children --percent-limit 0.5 \
            >"$MSGTRACK_BENCH_PERF/${LUA:-$1}.report.txt" 2>/dev/null || true
    fi
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$W/$1.wrk"; }
# pct NAME P: latency percentile P (50, 99) in ms
pct() {
    awk -v p="$2%" '/Latency Distribution/ { on = 1; next }
        on && $1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                        print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v); exit }' "$W/$1.wrk"
}
answers() { awk '/^answers/ { print $2 }' "$W/$1.wrk"; }
# cpu NAME: the children's CPU microseconds per answer
cpu() { awk -v t="$(cat "$W/$1.cpu")" -v n="$(answers "$1")" -v hz="$HZ" 'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }'; }

# Warm up (the index pages and both children), then ROUNDS rounds of the
# three runs back to back, each round starting one case later: what else
# the machine does changes from minute to minute, and each case gets the
# first, the middle and the last place of a round.
run find /EWS/Exchange.asmx 2
run get /EWS/Exchange.asmx 2
path() { [ "$1" = static ] && echo /find.xml || echo /EWS/Exchange.asmx; }
cases=(find get static)
for r in $(seq "$ROUNDS"); do
    for i in 0 1 2; do
        c=${cases[$(( (r - 1 + i) % 3 ))]}
        LUA=$c run "$c$r" "$(path $c)" "$SECS" "$([ "$r" = 1 ] && [ $c != static ] && echo perf)"
    done
done
# One connection: the time to answer, without waiting behind 15 others.
for c in find get static; do
    LUA=$c THREADS=1 RUN_CONNS=1 run "$c-1" "$(path $c)" 5
done
# median OF VALUES...: the middle one (of an even count, the mean of the two)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# each FUNCTION CASE [ARG]: FUNCTION's value for every round of CASE
each() { local r; for r in $(seq "$ROUNDS"); do "$1" "$2$r" ${3:+"$3"}; done; }
over() {   # over FUNCTION A B: FUNCTION's value for A over B's, round by round
    local r; for r in $(seq "$ROUNDS"); do
        awk -v a="$("$1" "$2$r")" -v b="$("$1" "$3$r")" 'BEGIN { printf "%.2f\n", a / b }'; done; }

echo
echo "wrk -t2 -c$CONNS -d${SECS}s --latency, every answer 200; $ROUNDS round(s), the cases in turn:"
printf '  %-18s %9s %8s %8s %8s %9s\n' "" "req/s" "p50 ms" "p99 ms" "answers" "httpd CPU"
printf '  %-18s %9s %8s %8s %8s %9s\n' "" "" "" "" "" "us/req"
for r in $(seq "$ROUNDS"); do
    echo "  round $r"
    for c in find get static; do
        case $c in find) l="(a) Find" ;; get) l="(b) Get Summary" ;; static) l="(c) static file" ;; esac
        printf '  %-18s %9.1f %8.2f %8.2f %8d %9d\n' "$l" "$(rps $c$r)" "$(pct $c$r 50)" \
            "$(pct $c$r 99)" "$(answers $c$r)" "$(cpu $c$r)"
    done
done
echo "  one connection (wrk -t1 -c1 -d5s): p50 ms, p99 ms"
for c in find get static; do
    case $c in find) l="(a) Find" ;; get) l="(b) Get Summary" ;; static) l="(c) static file" ;; esac
    printf '  %-18s %9.2f %8.2f\n' "$l" "$(pct "$c-1" 50)" "$(pct "$c-1" 99)"
done
echo "  median of the rounds (each round's own figures after the colon):"
ra=$(over rps find static); rb=$(over rps get static)
ca=$(over cpu static find); cb=$(over cpu static get)
pa=$(each pct find 99); pb=$(each pct get 99); pc=$(each pct static 99)
printf '  (a) / (c)          %5.2f   (target >= 0.5): %s; by httpd CPU per request %.2f\n' \
    "$(median $ra)" "$(echo $ra)" "$(median $ca)"
printf '  (b) / (c)          %5.2f   (target >= 0.5): %s; by httpd CPU per request %.2f\n' \
    "$(median $rb)" "$(echo $rb)" "$(median $cb)"
printf '  p99 (a), (b)       %.2f ms, %.2f ms   (target < 10 ms): %s; %s\n' \
    "$(median $pa)" "$(median $pb)" "$(echo $pa)" "$(echo $pb)"
printf '  p99 (c)            %.2f ms   (the same wait for a CPU, without the module): %s\n' \
    "$(median $pc)" "$(echo $pc)"

# ------------------------------------------------------------------ memory
# The children's VmRSS before and after RSS_REQUESTS more requests, Find and
# Get alternating on each connection, and of it RssAnon, the process's own
# memory: the rest is mostly pages of Berkeley DB's shared cache (mapped
# __db.00N files) that the child touched for the first time, which are the
# same pages in every child. wrk runs for as long as -d says even
# when its threads stop early, so it runs in slices sized from the rates
# measured above, each thread stopping once the slice's share is answered.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mix_lua() {   # mix_lua LIMIT: each of the two threads stops after LIMIT answers
    cat >"$W/mix.lua" <<LUA
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
    bad, answers, n, limit = 0, 0, 0, $1
    reqs = {
        wrk.format("POST", nil, { ["Content-Type"] = "text/xml; charset=utf-8",
                                  ["X-Bench-Mailbox"] = "$FIND_SENDER" }, "$(lua_string "$W/find.xml")"),
        wrk.format("POST", nil, { ["Content-Type"] = "text/xml; charset=utf-8",
                                  ["X-Bench-Mailbox"] = "$GET_SENDER" }, "$(lua_string "$W/get.xml")") }
end
function request() n = n + 1; return reqs[n % 2 + 1] end
function response(status, headers, body)
    if status ~= 200 then bad = bad + 1 end
    answers = answers + 1
    if answers >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
    local b, n = 0, 0
    for _, t in ipairs(threads) do b = b + t:get("bad"); n = n + t:get("answers") end
    io.write(string.format("answers %d not200 %d\n", n, b))
end
LUA
}
before=$(children)
declare -A rss0 anon0
for p in $before; do rss0[$p]=$(rss "$p"); anon0[$p]=$(anon "$p"); done
t=$(now)
done_n=0
# requests/s of the mix: the harmonic mean of (a) and (b)
mix_rate=$(awk -v a="$(median $(each rps find))" -v b="$(median $(each rps get))" 'BEGIN { r = 2 / (1 / a + 1 / b); print (r < 50 ? 50 : int(r)) }')
while [ $done_n -lt "$RSS_REQUESTS" ]; do
    left=$((RSS_REQUESTS - done_n))
    mix_lua $(( (left + 1) / 2 ))
    run mix /EWS/Exchange.asmx $(( left * 5 / 4 / mix_rate + 2 ))
    done_n=$((done_n + $(answers mix)))
done
mt=$(since "$t")
after=$(children)
echo
echo "httpd children over $done_n more requests (Find and Get alternating, $mt s):"
[ "$before" = "$after" ] || echo "  the children changed: before $(paste -sd" " <<<"$before"), after $(paste -sd" " <<<"$after")"
grow_max=0
agrow_max=0
for p in $after; do
    r1=$(rss "$p")
    a1=$(anon "$p")
    if [ -n "${rss0[$p]:-}" ]; then
        g=$((r1 - rss0[$p]))
        ag=$((a1 - anon0[$p]))
        [ $g -gt $grow_max ] && grow_max=$g
        [ $ag -gt $agrow_max ] && agrow_max=$ag
        printf '  pid %-8s VmRSS %7s MiB -> %7s MiB   %+.1f MiB   (RssAnon %s -> %s MiB)\n' "$p" \
            "$(mib "${rss0[$p]}")" "$(mib "$r1")" "$(mib $g)" "$(mib "${anon0[$p]}")" "$(mib "$a1")"
    fi
done
awk -v g=$grow_max -v a=$agrow_max 'BEGIN {
    printf "  largest growth         %.1f MiB   (target < 20 MiB; of RssAnon %.1f MiB)\n", g / 1024, a / 1024 }'
if grep -q -v -e ':notice\]' -e '^$' "$W/logs/error_log"; then
    echo "error_log:"
    grep -v -e ':notice\]' -e '^$' "$W/logs/error_log" | tail -n 5 | sed 's/^/  /'
fi

# ------------------------------------------------------------------ instructions
# With MSGTRACK_BENCH_CALLGRIND, the user-space instructions per request of
# each case, counted by callgrind in a one-process httpd (-X) on its own port
# and counted only inside requests: unlike req/s and CPU time, the same
# whatever else the machine does.
if [ -n "${MSGTRACK_BENCH_CALLGRIND:-}" ]; then
    command -v valgrind >/dev/null || fail "valgrind is needed for MSGTRACK_BENCH_CALLGRIND"
    CG_N=200
    CGD=$W/callgrind
    mkdir -p "$CGD"
    chmod 777 "$CGD"
    CG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # The same configuration, one process, run as the server user itself.
    sed -e "s#^Listen .*#Listen 127.0.0.1:$CG_PORT#" -e "s#^PidFile .*#PidFile \"$CGD/httpd.pid\"#" \
        -e "s#^ErrorLog .*#ErrorLog \"$CGD/error_log\"#" -e '/^User /d' -e '/^Group /d' \
        "$W/httpd.conf" >"$CGD/httpd.conf"
    as_server=()
    [ $as_root = 1 ] && as_server=(runuser -u www-data --)
    echo
    echo "instructions per request (callgrind, httpd -X, $CG_N requests on one connection, inside requests only;"
    echo "without: less Berkeley DB's failchk, which the index runs every few seconds, not per request):"
    printf '  %-18s %12s %12s\n' "" "all" "without"
    for c in find get static; do
        rm -f "$CGD/httpd.pid" "$CGD/$c.out"
        "${as_server[@]}" valgrind --tool=callgrind --toggle-collect=ap_process_async_request \
            --callgrind-out-file="$CGD/$c.out" "$HTTPD" -X -f "$CGD/httpd.conf" >"$CGD/valgrind.log" 2>&1 &
        vg=$!
        python3 - "$CG_PORT" "$CG_N" "$c" "$W" "$FIND_SENDER" "$GET_SENDER" <<'PY' \
            || { kill "$vg" 2>/dev/null; fail "the callgrind run of $c failed"; }
import http.client, socket, sys, time
port, n, kind, w, fs, gs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        break
    except OSError:
        time.sleep(0.1)
req = {"find": ("POST", "/EWS/Exchange.asmx", open(w + "/find.xml", "rb").read(), fs),
       "get": ("POST", "/EWS/Exchange.asmx", open(w + "/get.xml", "rb").read(), gs),
       "static": ("GET", "/find.xml", None, fs)}[kind]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(n):
    c.request(req[0], req[1], req[2], {"Content-Type": "text/xml; charset=utf-8", "X-Bench-Mailbox": req[3]})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("%s: HTTP %d" % (kind, r.status))
PY
        kill -TERM "$(cat "$CGD/httpd.pid")"
        wait "$vg" || true
        ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$CGD/$c.out")
        [ -n "$ir" ] || { cat "$CGD/valgrind.log" >&2; fail "callgrind wrote no totals for $c"; }
        case $c in find) l="(a) Find" ;; get) l="(b) Get Summary" ;; static) l="(c) static file" ;; esac
        # The dead-reader check (mt_index.c) runs as often as the clock says,
        # and under callgrind the clock is slow: its share varies run to run.
        fc=$(callgrind_annotate --inclusive=yes --threshold=100 "$CGD/$c.out" 2>/dev/null \
                 | awk '/__env_failchk_pp/ && !n++ { gsub(/,/, "", $1); print $1 }')
        awk -v l="$l" -v ir="$ir" -v fc="${fc:-0}" -v n=$CG_N \
            'BEGIN { printf "  %-18s %12.0f %12.0f\n", l, ir / n, (ir - fc) / n }'
        if [ -d "$MSGTRACK_BENCH_CALLGRIND" ]; then
            cp "$CGD/$c.out" "$MSGTRACK_BENCH_CALLGRIND/$c.callgrind.out"
        fi
    done
fi
