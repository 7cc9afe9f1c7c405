#!/usr/bin/env bash
# scripts/demo.sh: build mod_msgtrack, index the sample logs, serve it on
# 127.0.0.1:${MSGTRACK_PORT:-8080} in the foreground with demo Basic-auth users,
# ask it a few questions as alice, bob and helpdesk, and print example requests.
# On a fresh Debian 12 run it as root: it installs what is missing.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/scripts/debian-deps.sh"
PORT=${MSGTRACK_PORT:-8080}
DEMO=${MSGTRACK_DEMO_DIR:-$SRC/_demo}
HTTPD=${HTTPD:-/usr/sbin/apache2}

PACKAGES=(build-essential autoconf automake libtool pkg-config apache2 apache2-dev
          libapr1-dev libaprutil1-dev libxml2-dev libxml2-utils libdb-dev curl)

log() { printf '==> %s\n' "$*" >&2; }

install_missing demo.sh "${PACKAGES[@]}"
MODULES=$(apxs -q LIBEXECDIR)

log "building in $DEMO/build"
mkdir -p "$DEMO/build" "$DEMO/logs"
[ -x "$SRC/configure" ] || (cd "$SRC" && ./bootstrap >/dev/null 2>&1)
(cd "$DEMO/build" && "$SRC/configure" --enable-werror >configure.log 2>&1 && make -j"$(nproc)" >make.log 2>&1) \
    || { echo "demo.sh: build failed, see $DEMO/build/*.log" >&2; exit 1; }

# Demo users, all with password "demo": alice and bob are ordinary users,
# helpdesk gets the privileged view.
: >"$DEMO/htpasswd"
for u in alice bob helpdesk; do htpasswd -bB "$DEMO/htpasswd" "$u" demo 2>/dev/null; done

user_lines=""
if [ "$(id -u)" = 0 ]; then
    # httpd started as root drops to this user; it must read the demo tree.
    user_lines="User www-data
Group www-data"
    chmod -R a+rX "$DEMO" "$SRC/schemas"
fi

# The index, from the bundled sample logs (fictional, November 2026). The
# server's children read it as the server user, and Berkeley DB readers
# write lock state into the environment's region files (__db.*): the files
# must be readable and writable by that user. As a real deployment would:
# a directory of the server's group, setgid so that every file made in it
# belongs to that group, and the indexer run with umask 007 so that every
# file it makes (databases, region files, logs) is group read/write.
log "indexing the sample logs into $DEMO/db"
IDX="$DEMO/build/mod_msgtrack/msgtrack-index"
rm -rf "$DEMO/db"
if [ "$(id -u)" = 0 ]; then
    install -d -m 2770 -g www-data "$DEMO/db"
else
    install -d -m 0700 "$DEMO/db"
fi
(
    umask 007
    "$IDX" --db "$DEMO/db" ingest --year 2026 "$SRC/t/data/postfix/mail.log" \
        "$SRC/t/data/msgtrk/MSGTRK-2010.LOG" "$SRC/t/data/msgtrk/MSGTRK20261120-1.LOG"
    "$IDX" --db "$DEMO/db" ingest --year 2026 --host imap.example.org "$SRC/t/data/dovecot/dovecot.log"
)

cat >"$DEMO/httpd.conf" <<CONF
ServerRoot "$DEMO"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$DEMO/logs/httpd.pid"
ErrorLog /dev/stderr
LogLevel warn msgtrack:info
LogFormat "%h %u \"%r\" %>s %b" demo
CustomLog /dev/stdout demo
$user_lines
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule auth_basic_module $MODULES/mod_auth_basic.so
LoadModule msgtrack_module "$DEMO/build/mod_msgtrack/.libs/mod_msgtrack.so"
DocumentRoot "$DEMO"
MsgTrackSchemaDir "$SRC/schemas"
MsgTrackDatabase "$DEMO/db"
MsgTrackDomains example.org
<LocationMatch "(?i)^/ews/">
    SetHandler msgtrack
    AuthType Basic
    AuthName "mod_msgtrack demo"
    AuthBasicProvider file
    AuthUserFile "$DEMO/htpasswd"
    Require valid-user
    MsgTrackMailbox "%{REMOTE_USER}@example.org"
    MsgTrackPrivileged "%{REMOTE_USER} == 'helpdesk'"
    MsgTrackReadTracking On
</LocationMatch>
CONF

"$HTTPD" -t -f "$DEMO/httpd.conf"

URL="http://127.0.0.1:$PORT/EWS/Exchange.asmx"
"$HTTPD" -DFOREGROUND -f "$DEMO/httpd.conf" &
HTTPD_PID=$!
trap 'kill -TERM $HTTPD_PID 2>/dev/null' INT TERM
for _ in $(seq 50); do
    curl -sf -o /dev/null -u alice:demo "$URL?wsdl" && break
    sleep 0.2
done

# ------------------------------------------------------------------ questions
NS='xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"'

# soap USER OPERATION-XML: the response document on stdout.
soap() {
    curl -s -u "$1:demo" -H 'Content-Type: text/xml; charset=utf-8' --data-binary @- "$URL" <<XML
<s:Envelope $NS><s:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></s:Header>
<s:Body>$2</s:Body></s:Envelope>
XML
}

# xp FILE XPATH: an XPath (1.0) over a response, elements by local name.
xp() { xmllint --xpath "$2" "$1" 2>/dev/null || true; }
el() { printf '*[local-name()="%s"]' "$1"; }
# xmllint prints the text nodes an XPath selects as XML: undo the escapes.
unxml() { sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'; }

code() { xp "$1" "string(//$(el ResponseCode))"; }

# The results of a Find: time, sender, recipients, subject.
show_found() {
    local f=$1 n i r
    echo "   $(code "$f"): $(xp "$f" "count(//$(el MessageTrackingSearchResult))") messages"
    n=$(xp "$f" "count(//$(el MessageTrackingSearchResult))")
    for i in $(seq 1 "$n"); do
        r="//$(el MessageTrackingSearchResult)[$i]"
        printf '   %s  %s -> %s  "%s"\n' "$(xp "$f" "string($r/$(el SubmittedTime))")" \
            "$(xp "$f" "string($r/$(el Sender)/$(el EmailAddress))")" \
            "$(xp "$f" "$r/$(el Recipients)/$(el Mailbox)/$(el EmailAddress)/text()" | unxml | paste -sd, -)" \
            "$(xp "$f" "string($r/$(el Subject))")"
    done
}

# The events of a Get: time, recipient, status, event, server, data.
show_events() {
    local f=$1 n i e
    echo "   $(code "$f")$(xp "$f" "string(//$(el MessageText))" | sed 's/^./: &/')"
    n=$(xp "$f" "count(//$(el RecipientTrackingEvent))")
    for i in $(seq 1 "$n"); do
        e="//$(el RecipientTrackingEvent)[$i]"
        printf '   %s  %-20s %-12s %-24s %-18s%s%s\n' "$(xp "$f" "string($e/$(el Date))")" \
            "$(xp "$f" "string($e/$(el Recipient)/$(el EmailAddress))")" \
            "$(xp "$f" "string($e/$(el DeliveryStatus))")" \
            "$(xp "$f" "string($e/$(el EventDescription))")" \
            "$(xp "$f" "string($e/$(el Server))")" \
            "$([ "$(xp "$f" "string($e/$(el BccRecipient))")" = true ] && echo ' Bcc')" \
            "$(xp "$f" "$e/$(el EventData)/$(el String)/text()" | unxml | paste -sd';' - | sed 's/^./  &/')"
    done
}

xml_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }

Q=$(mktemp -d)
find_alice='<m:FindMessageTrackingReport><m:Scope>Organization</m:Scope><m:Domain>example.org</m:Domain><m:Sender><t:EmailAddress>alice@example.org</t:EmailAddress></m:Sender><m:StartDateTime>2026-11-20T00:00:00Z</m:StartDateTime><m:EndDateTime>2026-11-21T00:00:00Z</m:EndDateTime></m:FindMessageTrackingReport>'
echo
echo "1. alice: what did I send on 20 November 2026, and to whom? (Find)"
soap alice "$find_alice" >"$Q/1"
show_found "$Q/1"

ID=$(xp "$Q/1" "string(//$(el MessageTrackingSearchResult)[$(el Subject)='Q3 results, final figures']/$(el MessageTrackingReportId))")
get_q3="<m:GetMessageTrackingReport><m:Scope>Organization</m:Scope><m:ReportTemplate>Summary</m:ReportTemplate><m:MessageTrackingReportId>$(printf '%s' "$ID" | xml_escape)</m:MessageTrackingReportId></m:GetMessageTrackingReport>"
echo
echo "2. alice: who got \"Q3 results, final figures\", and did they read it? (Get, Summary)"
soap alice "$get_q3" >"$Q/2"
show_events "$Q/2"

echo
echo "3. bob: what did alice send me? (Find naming the sender and himself)"
soap bob '<m:FindMessageTrackingReport><m:Scope>Organization</m:Scope><m:Domain>example.org</m:Domain><m:Sender><t:EmailAddress>alice@example.org</t:EmailAddress></m:Sender><m:Recipient><t:EmailAddress>bob@example.org</t:EmailAddress></m:Recipient><m:StartDateTime>2026-11-01T00:00:00Z</m:StartDateTime><m:EndDateTime>2026-12-01T00:00:00Z</m:EndDateTime></m:FindMessageTrackingReport>' >"$Q/3"
show_found "$Q/3"
echo "4. bob: the same report alice saw: only his own part of it (Get, Summary)"
soap bob "$get_q3" >"$Q/4"
show_events "$Q/4"

GREG=$(xp "$Q/1" "string(//$(el MessageTrackingSearchResult)[$(el Recipients)/$(el Mailbox)/$(el EmailAddress)='greg@example.com']/$(el MessageTrackingReportId))")
get_greg="<m:GetMessageTrackingReport><m:Scope>Organization</m:Scope><m:ReportTemplate>RecipientPath</m:ReportTemplate><m:RecipientFilter><t:EmailAddress>greg@example.com</t:EmailAddress></m:RecipientFilter><m:MessageTrackingReportId>$(printf '%s' "$GREG" | xml_escape)</m:MessageTrackingReportId><m:ReturnQueueEvents>true</m:ReturnQueueEvents></m:GetMessageTrackingReport>"
echo
echo "5. helpdesk: why did alice's proposal never reach greg@example.com? (Get, RecipientPath, queue events)"
soap helpdesk "$get_greg" >"$Q/5"
show_events "$Q/5"
echo "6. alice asks the same: no queue events for her, but the failure and the NDR she got"
soap alice "$get_greg" >"$Q/6"
show_events "$Q/6"
echo "7. bob asks about alice's message to greg: not his to see"
soap bob "$get_greg" >"$Q/7"
show_events "$Q/7"
rm -rf "$Q"

cat <<EOT

mod_msgtrack demo on $URL  (users alice, bob, helpdesk; password "demo")
The sample logs are indexed in $DEMO/db; ask it on the command line too:

  $IDX --db $DEMO/db stats
  $IDX --db $DEMO/db find --sender alice@example.org
  $IDX --db $DEMO/db report '<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10@example.org>' --recipient dave@example.org

Or send the requests yourself:

  # the WSDL, with this server's address in it
  curl -u alice:demo '$URL?wsdl'

  # FindMessageTrackingReport: what alice sent on 20 November 2026
  curl -u alice:demo -H 'Content-Type: text/xml' --data-binary @- '$URL' <<'XML'
<s:Envelope $NS>
  <s:Body>$find_alice</s:Body>
</s:Envelope>
XML

  # GetMessageTrackingReport: the report id comes from the Find answer
  curl -u alice:demo -H 'Content-Type: text/xml' --data-binary @- '$URL' <<'XML'
<s:Envelope $NS>
  <s:Body>$get_q3</s:Body>
</s:Envelope>
XML

  # a schema violation: a SOAP fault naming line, position and violation
  curl -u alice:demo -H 'Content-Type: text/xml' --data-binary \\
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:FindMessageTrackingReport xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>' '$URL'

Serving in the foreground; Ctrl-C stops.
EOT
wait "$HTTPD_PID"
