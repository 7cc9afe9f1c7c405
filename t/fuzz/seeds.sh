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

export LC_ALL=C

# lines FILE DIR: one seed per non-empty line, named .seed-N until named()
lines() {
    awk -v d="$2" -v tag="$(basename "$1")" \
        'length { f = sprintf("%s/.seed-%s-%06d", d, tag, NR); print > f; close(f) }' "$1"
}

# named DIR: rename DIR/.seed-* after the SHA-1 of their content
named() {
    local sum f
    (cd "$1" && find . -maxdepth 1 -name '.seed-*' -print0 | xargs -0 -r sha1sum) \
        | while read -r sum f; do mv -f "$1/${f#./}" "$1/$sum"; done
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

# the Subject of "header Subject: VALUE from CLIENT; from=<...", without a newline
sed -n 's/.*: info: header Subject: \(.*\) from [^ ]*; from=<.*/\1/p' "$DATA/postfix/mail.log" \
    | awk -v d="$OUT/rfc2047" '{ f = sprintf("%s/.seed-subject-%06d", d, NR); printf "%s", $0 > f; close(f) }'

for f in "$DATA"/msgtrk/*.LOG; do
    # header lines start with '#', the first one possibly after a BOM
    awk -v d="$OUT/msgtrk" -v s="$OUT/syslog" -v tag="$(basename "$f")" '
        /^#/ || /^\357\273\277#/ { head = head $0 "\n"; next }
        length {
            g = sprintf("%s/.seed-%s-%06d", d, tag, NR); printf "%s%s\n", head, $0 > g; close(g)
            t = $0; sub(/,.*/, "", t)
            g = sprintf("%s/.seed-%s-%06d", s, tag, NR); print t > g; close(g)
        }' "$f"
done

for t in postfix dovecot msgtrk syslog rfc2047; do
    named "$OUT/$t"
done

for t in soap postfix dovecot msgtrk syslog rfc2047; do
    printf '%-8s %4d seeds in %s\n' "$t" "$(find "$OUT/$t" -type f | wc -l)" "$OUT/$t"
done
