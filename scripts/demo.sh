#!/usr/bin/env bash
# scripts/demo.sh: build mod_msgtrack and serve it on 127.0.0.1:${MSGTRACK_PORT:-8080}
# in the foreground, with demo Basic-auth users, printing example requests.
# On a fresh Debian 12 run it as root: it installs what is missing.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/scripts/debian-deps.sh"
PORT=${MSGTRACK_PORT:-8080}
DEMO=${MSGTRACK_DEMO_DIR:-$SRC/_demo}
HTTPD=${HTTPD:-/usr/sbin/apache2}

PACKAGES=(build-essential autoconf automake libtool pkg-config apache2 apache2-dev
          libapr1-dev libaprutil1-dev libxml2-dev libdb-dev curl)

log() { printf '==> %s\n' "$*" >&2; }

install_missing demo.sh "${PACKAGES[@]}"
MODULES=$(apxs -q LIBEXECDIR)

log "building in $DEMO/build"
mkdir -p "$DEMO/build" "$DEMO/logs"
[ -x "$SRC/configure" ] || (cd "$SRC" && ./bootstrap >/dev/null 2>&1)
(cd "$DEMO/build" && "$SRC/configure" --enable-werror >configure.log 2>&1 && make -j"$(nproc)" >make.log 2>&1) \
    || { echo "demo.sh: build failed, see $DEMO/build/*.log" >&2; exit 1; }

# The index, from the bundled sample logs (fictional, 20 November 2026).
log "indexing the sample logs into $DEMO/db"
IDX="$DEMO/build/mod_msgtrack/msgtrack-index"
rm -rf "$DEMO/db"
"$IDX" --db "$DEMO/db" ingest --year 2026 "$SRC/t/data/postfix/mail.log" \
    "$SRC/t/data/msgtrk/MSGTRK-2010.LOG" "$SRC/t/data/msgtrk/MSGTRK20261120-1.LOG"
"$IDX" --db "$DEMO/db" ingest --year 2026 --host imap.example.org "$SRC/t/data/dovecot/dovecot.log"

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
</LocationMatch>
CONF

"$HTTPD" -t -f "$DEMO/httpd.conf"

URL="http://127.0.0.1:$PORT/EWS/Exchange.asmx"
cat <<EOT

mod_msgtrack demo on $URL  (users alice, bob, helpdesk; password "demo")
The sample logs are indexed in $DEMO/db; ask it on the command line:

  $IDX --db $DEMO/db stats
  $IDX --db $DEMO/db find --sender alice@example.org
  $IDX --db $DEMO/db report '<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10@example.org>'
  $IDX --db $DEMO/db report '<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10@example.org>' --recipient dave@example.org

This version of the module validates and decodes SOAP requests but does not
read the index yet, so valid requests are answered with
ErrorMessageTrackingTransientError "index not available".

  # the WSDL, with this server's address in it
  curl -u alice:demo '$URL?wsdl'

  # FindMessageTrackingReport
  curl -u alice:demo -H 'Content-Type: text/xml' --data-binary @- '$URL' <<'XML'
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
            xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
            xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <s:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></s:Header>
  <s:Body>
    <m:FindMessageTrackingReport>
      <m:Scope>Organization</m:Scope>
      <m:Domain>example.org</m:Domain>
      <m:Sender><t:EmailAddress>alice@example.org</t:EmailAddress></m:Sender>
    </m:FindMessageTrackingReport>
  </s:Body>
</s:Envelope>
XML

  # a schema violation: a SOAP fault naming line, position and violation
  curl -u alice:demo -H 'Content-Type: text/xml' --data-binary \\
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:FindMessageTrackingReport xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>' '$URL'

Serving in the foreground; Ctrl-C stops.
EOT
exec "$HTTPD" -DFOREGROUND -f "$DEMO/httpd.conf"
