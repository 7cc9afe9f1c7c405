#!/usr/bin/env bash
# t/fuzz/build.sh: build the libFuzzer targets with clang, ASan and UBSan.
#
#   t/fuzz/build.sh OUTDIR        the targets OUTDIR/fuzz_<name>, one per line of TARGETS
#   t/fuzz/build.sh OUTDIR coverage   the same for source coverage instead of the
#                                 sanitizers (-fprofile-instr-generate, for
#                                 llvm-cov; bench/fuzz.sh replays corpora with them)
#   CC=clang-14                   another clang (default: clang)
#
# The core sources a target needs are compiled here with clang, straight from
# mod_msgtrack/ (the normal build, libmtcore.la, stays with the configured
# compiler and needs no clang), into a static archive, so each target links
# only the objects it uses: libFuzzer's edge count is then that target's own.
# No configure step is needed: APR, APR-util and libxml2 come from pkg-config.
# Debian 12: apt-get install clang libclang-rt-dev (the libFuzzer runtime).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: t/fuzz/build.sh OUTDIR [coverage]}
MODE=${2:-sanitizers}
CC=${CC:-clang}

# t/fuzz/fuzz_<name>.c for each
TARGETS=(soap postfix dovecot msgtrk syslog rfc2047)

CORE=(mt_error mt_log mt_out mt_utf8 mt_time mt_logrec mt_syslog mt_rfc2047
      mt_parse_postfix mt_parse_dovecot mt_parse_msgtrk mt_soap mt_schema mt_request)

# Pool functions the targets replace with malloc()-backed ones (t/fuzz/fuzz.c).
WRAP=(apr_palloc apr_pstrdup apr_pstrmemdup apr_pstrndup apr_pmemdup apr_pstrcat
      apr_psprintf apr_pvsprintf apr_array_make apr_array_push)

command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (Debian: apt-get install clang libclang-rt-dev)" >&2; exit 1; }
DEPS_CFLAGS=$(pkg-config --cflags apr-1 apr-util-1 libxml-2.0)
DEPS_LIBS=$(pkg-config --libs apr-1 apr-util-1 libxml-2.0)

case $MODE in
    sanitizers) SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" ;;
    coverage) SAN="-fprofile-instr-generate -fcoverage-mapping" ;;
    *) echo "build.sh: unknown mode '$MODE' (sanitizers or coverage)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
CFLAGS="-std=c11 -g -O1 $SAN -Wall -Wextra -Wno-unused-parameter $DEPS_CFLAGS -I$SRC/mod_msgtrack"
LDWRAP=$(printf -- '-Wl,--wrap=%s ' "${WRAP[@]}")

mkdir -p "$OUT/obj"
OUT=$(cd "$OUT" && pwd)

# As many compilers at once as there are CPUs (xargs fails when one does).
JOBS=$(nproc 2>/dev/null || echo 2)

# shellcheck disable=SC2086
printf '%s\n' "${CORE[@]}" | xargs -P "$JOBS" -I{} \
    "$CC" $CFLAGS -fsanitize=fuzzer-no-link -c "$SRC/mod_msgtrack/{}.c" -o "$OUT/obj/{}.o"
# shellcheck disable=SC2086
"$CC" $CFLAGS -Werror -fsanitize=fuzzer-no-link -c "$SRC/t/fuzz/fuzz.c" -o "$OUT/obj/fuzz.o"
rm -f "$OUT/obj/libmtfuzz.a"
(cd "$OUT/obj" && ar rcs libmtfuzz.a "${CORE[@]/%/.o}")

# shellcheck disable=SC2086
printf '%s\n' "${TARGETS[@]}" | xargs -P "$JOBS" -I{} \
    "$CC" $CFLAGS -Werror -fsanitize=fuzzer -DFUZZ_SCHEMA_DIR="\"$SRC/schemas\"" \
        "$SRC/t/fuzz/fuzz_{}.c" "$OUT/obj/fuzz.o" "$OUT/obj/libmtfuzz.a" \
        $LDWRAP $DEPS_LIBS -o "$OUT/fuzz_{}"
echo "build.sh: built ${TARGETS[*]/#/fuzz_} ($MODE) in $OUT" >&2
