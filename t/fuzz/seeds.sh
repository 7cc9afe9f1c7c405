#!/usr/bin/env bash
# t/fuzz/seeds.sh: write the seed corpora of the fuzz targets.
#
#   t/fuzz/seeds.sh OUTDIR        OUTDIR/<target>/ for each target, one file per seed
#
# From the sample logs in t/data:
#   postfix   each line of t/data/postfix/mail.log
#   dovecot   each line of t/data/dovecot/dovecot.log
#   msgtrk    for each row of t/data/msgtrk/*.LOG: the file's '#' header lines
#             (BOM, CRLF and all) and that row, so the row has its #Fields
#   syslog    the postfix and dovecot seeds, the date-time of each MSGTRK row
#   rfc2047   the value of each "header Subject: VALUE from" in the Postfix log
# and, copied as they are, the committed t/fuzz/seeds/<target>/ files: SOAP
# request bodies (suite-*: sent by the Apache::Test suite; hand-*: written
# for the fuzzer, see t/fuzz/README), syslog and RFC 2047 shapes the sample
# logs lack, and inputs that once crashed a target. The seeds made from
# t/data are named by the SHA-1 of their content, as libFuzzer names its own,
# so writing them again adds nothing.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: t/fuzz/seeds.sh OUTDIR}
DATA=$SRC/t/data

# put DIR: stdin into DIR/<sha1 of it>
put() {
    local tmp sum
    tmp=$(mktemp "$1/.seed.XXXXXX")
    cat >"$tmp"
    sum=$(sha1sum <"$tmp" | cut -d' ' -f1)
    mv -f "$tmp" "$1/$sum"
}

# lines FILE DIR: one seed per non-empty line
lines() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        [ -n "$line" ] && printf '%s\n' "$line" | put "$2"
    done <"$1"
}

for t in soap postfix dovecot msgtrk syslog rfc2047; do
    mkdir -p "$OUT/$t"
    if [ -n "$(ls -A "$SRC/t/fuzz/seeds/$t" 2>/dev/null)" ]; then
        cp -f "$SRC/t/fuzz/seeds/$t"/* "$OUT/$t"/
    fi
done

lines "$DATA/postfix/mail.log" "$OUT/postfix"
lines "$DATA/dovecot/dovecot.log" "$OUT/dovecot"
lines "$DATA/postfix/mail.log" "$OUT/syslog"
lines "$DATA/dovecot/dovecot.log" "$OUT/syslog"

sed -n 's/.*: info: header Subject: \(.*\) from [^ ]*; from=<.*/\1/p' "$DATA/postfix/mail.log" \
    | while IFS= read -r v; do printf '%s' "$v" | put "$OUT/rfc2047"; done

for f in "$DATA"/msgtrk/*.LOG; do
    head=$(mktemp)
    # header lines: those starting with '#', the first possibly after a BOM
    LC_ALL=C grep -a $'^\(\xEF\xBB\xBF\)\?#' "$f" >"$head" || true
    LC_ALL=C grep -av $'^\(\xEF\xBB\xBF\)\?#' "$f" | while IFS= read -r row; do
        [ -n "$row" ] || continue
        { cat "$head"; printf '%s\n' "$row"; } | put "$OUT/msgtrk"
        printf '%s\n' "${row%%,*}" | put "$OUT/syslog"
    done
    rm -f "$head"
done

for t in soap postfix dovecot msgtrk syslog rfc2047; do
    printf '%-8s %4d seeds in %s\n' "$t" "$(find "$OUT/$t" -type f | wc -l)" "$OUT/$t"
done
