#!/usr/bin/env bash
# bench/fault_rps.sh: requests per second for a schema-invalid SOAP request
# (read body, parse, validate, render the fault) next to httpd serving a static
# file of the same size as the fault, in the same run, on loopback.
#
#   bench/fault_rps.sh [BUILD_DIR]     (default: _b, a configured build of this tree)
#   MSGTRACK_BENCH_SECONDS=10 MSGTRACK_BENCH_CONNECTIONS=16 MSGTRACK_BENCH_PORT=18180
#
# httpd drops the connection after any 500 response (ap_status_drops_connection),
# so every fault costs a TCP connection; the static file is measured both with
# keep-alive and with "Connection: close", and both ratios are printed.
# Target (issue 2): fault / static >= 0.5.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/_b}" && pwd)
SECS=${MSGTRACK_BENCH_SECONDS:-10}
CONNS=${MSGTRACK_BENCH_CONNECTIONS:-16}
PORT=${MSGTRACK_BENCH_PORT:-18180}
MOD="$BUILD/mod_msgtrack/.libs/mod_msgtrack.so"
MODULES=$(apxs -q LIBEXECDIR)
command -v wrk >/dev/null || { echo "fault_rps.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -f "$MOD" ] || { echo "fault_rps.sh: no module at $MOD: build first" >&2; exit 1; }

W=$(mktemp -d /tmp/msgtrack-bench.XXXXXX)
trap '[ -f "$W/httpd.pid" ] && kill "$(cat "$W/httpd.pid")" 2>/dev/null; sleep 1; rm -rf "$W"' EXIT
mkdir -p "$W/htdocs" "$W/logs"
user_lines=""
if [ "$(id -u)" = 0 ]; then
    user_lines=$'User www-data\nGroup www-data'
    chmod 755 "$W"
fi
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
MaxKeepAliveRequests 0
MsgTrackSchemaDir "$SRC/schemas"
<Location /EWS>
    SetHandler msgtrack
</Location>
CONF

# A realistic request with one schema violation (an unknown element).
cat >"$W/request.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
               xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
               xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <soap:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></soap:Header>
  <soap:Body>
    <m:FindMessageTrackingReport>
      <m:Scope>Organization</m:Scope>
      <m:Domain>example.org</m:Domain>
      <m:Sender><t:EmailAddress>alice@example.org</t:EmailAddress></m:Sender>
      <m:StartDateTime>2026-11-01T00:00:00Z</m:StartDateTime>
      <m:Unexpected>1</m:Unexpected>
    </m:FindMessageTrackingReport>
  </soap:Body>
</soap:Envelope>
XML
# The same request without the violation: parsed, validated and decoded, then
# answered 200 (the index is not there yet) on a kept-alive connection.
grep -v '<m:Unexpected>' "$W/request.xml" >"$W/valid.xml"
lua_string() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$1" | awk '{printf "%s\\n", $0}'; }
cat >"$W/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.body = "$(lua_string "$W/request.xml")"
LUA

cat >"$W/valid.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.body = "$(lua_string "$W/valid.xml")"
LUA

/usr/sbin/apache2 -f "$W/httpd.conf" -k start
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

# The static file is the fault response itself, byte for byte.
curl -s -H 'Content-Type: text/xml' --data-binary @"$W/request.xml" \
    "http://127.0.0.1:$PORT/EWS/Exchange.asmx" >"$W/htdocs/fault.xml"
size=$(stat -c %s "$W/htdocs/fault.xml")
grep -q 'ErrorSchemaValidation' "$W/htdocs/fault.xml" || { echo "no fault from the module" >&2; exit 1; }

rps() { awk '/^Requests\/sec:/ {print $2}'; }
run() { wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" 2>&1; }

# Warm-up, then the three measurements back to back.
wrk -t2 -c"$CONNS" -d2s -s "$W/post.lua" "http://127.0.0.1:$PORT/EWS/Exchange.asmx" >/dev/null 2>&1
fault=$(run -s "$W/post.lua" "http://127.0.0.1:$PORT/EWS/Exchange.asmx")
static_ka=$(run "http://127.0.0.1:$PORT/fault.xml")
static_close=$(run -H 'Connection: close' "http://127.0.0.1:$PORT/fault.xml")
valid=$(run -s "$W/valid.lua" "http://127.0.0.1:$PORT/EWS/Exchange.asmx")

f=$(echo "$fault" | rps); s1=$(echo "$static_ka" | rps); s2=$(echo "$static_close" | rps)
v=$(echo "$valid" | rps)
non2xx=$(echo "$fault" | awk '/Non-2xx/ {print $NF}')
printf 'response size                  %d bytes\n' "$size"
printf 'schema-invalid SOAP -> fault   %10.1f req/s  (all %s answers are the 500 fault)\n' "$f" "${non2xx:-?}"
printf 'static file, keep-alive        %10.1f req/s\n' "$s1"
printf 'static file, Connection: close %10.1f req/s\n' "$s2"
printf 'valid SOAP -> 200, keep-alive %10.1f req/s\n' "$v"
awk -v f="$f" -v a="$s1" -v b="$s2" -v v="$v" 'BEGIN {
    printf "ratio fault/static keep-alive  %.2f\nratio fault/static close      %.2f   (target >= 0.5)\n", f/a, f/b
    printf "ratio valid/static keep-alive  %.2f\n", v/a }'
echo "$fault" | awk '/Latency Distribution/ {on=1} on && /99%/ {print "fault p99 latency             ", $2; exit}'
