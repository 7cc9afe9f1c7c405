#!/usr/bin/env bash
# scripts/test.sh: install what is missing, build with warnings as errors, run the
# C unit tests and the Apache::Test suite as an unprivileged user, then the stress
# test at its CI scale (bench/stress.sh --quick), then the unit tests and the suite
# again with AddressSanitizer and UndefinedBehaviorSanitizer. Fails when any test
# fails, when no test ran, or when a sanitizer reported anything.
#
#   scripts/test.sh                 everything
#   MSGTRACK_SANITIZE=0 scripts/test.sh   skip the sanitizer pass
#   MSGTRACK_STRESS=0 scripts/test.sh     skip the stress test
#   MSGTRACK_TEST_USER=name         the unprivileged user to run as when started as root
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/scripts/debian-deps.sh"
SANITIZE=${MSGTRACK_SANITIZE:-1}
STRESS=${MSGTRACK_STRESS:-1}
TEST_USER=${MSGTRACK_TEST_USER:-msgtrack-test}

PACKAGES=(build-essential autoconf automake libtool pkg-config
          apache2 apache2-dev libapr1-dev libaprutil1-dev
          libxml2-dev libxml2-utils libdb-dev db5.3-util wrk
          libapache2-mod-perl2 libwww-perl liblwp-protocol-https-perl libio-socket-ssl-perl
          libxml-libxml-perl python3-zeep curl openssl)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# Runs one build (in $1, configure flags after it) and every suite; checks that
# tests ran and passed.
run_suites() {
    local build=$1; shift
    local out="$build/check.log"
    rm -rf "$build"
    mkdir -p "$build"
    ( cd "$build" && "$TREE/configure" --enable-werror "$@" >configure.log 2>&1 ) \
        || { tail -30 "$build/configure.log"; die "configure failed ($build)"; }
    make -C "$build" -j"$(nproc)" >"$build/make.log" 2>&1 \
        || { grep -E 'error|warning' "$build/make.log" | head -40; die "build failed ($build)"; }

    log "unit tests and Apache::Test suite ($build)"
    set +e
    make -C "$build" check ${HTTPD_WRAPPER:+HTTPD="$HTTPD_WRAPPER"} 2>&1 | tee "$out"
    local rc=${PIPESTATUS[0]}
    set -e
    [ -f "$build/test-suite.log" ] && grep -E '^# (TOTAL|PASS|FAIL|ERROR)' "$build/test-suite.log" || true

    local unit_pass apache_files
    unit_pass=$(sed -n 's/^# PASS: *//p' "$build/test-suite.log" 2>/dev/null | head -1)
    apache_files=$(sed -n 's/^Files=\([0-9][0-9]*\),.*/\1/p' "$out" | tail -1)
    [ "$rc" = 0 ] || die "tests failed ($build, exit $rc)"
    [ "${unit_pass:-0}" -gt 0 ] || die "no unit test ran ($build)"
    [ "${apache_files:-0}" -gt 0 ] || die "no Apache::Test file ran ($build)"
    grep -q '^Result: PASS' "$out" || die "Apache::Test did not report PASS ($build)"
    log "ok: $unit_pass unit test cases, $apache_files Apache::Test files ($build)"
}

user_stage() {
    TREE=$(pwd)
    [ -x configure ] || ./bootstrap >bootstrap.log 2>&1 || { cat bootstrap.log; die "bootstrap failed"; }

    HTTPD_WRAPPER="" run_suites "$TREE/_build"

    if [ "$STRESS" = 1 ]; then
        # Live ingestion under load, killed children, graceful restarts and
        # indexer kills, at a scale that takes about a minute and a half.
        log "stress test, CI scale ($TREE/_build)"
        if ! bash "$TREE/bench/stress.sh" --quick "$TREE/_build" >"$TREE/_build/stress.log" 2>&1; then
            grep -E '^(ok|FAIL) ' "$TREE/_build/stress.log" || true
            tail -30 "$TREE/_build/stress.log"
            die "the stress test failed (see $TREE/_build/stress.log)"
        fi
        log "ok: stress test, $(grep -c '^ok ' "$TREE/_build/stress.log") checks"
    fi

    if [ "$SANITIZE" = 1 ]; then
        # httpd is not built with ASan: the runtime must be loaded first.
        local asan_rt logdir
        asan_rt=$(gcc -print-file-name=libasan.so)
        [ -e "$asan_rt" ] || die "libasan not found (gcc -print-file-name=libasan.so)"
        logdir="$TREE/_build-asan/sanitizer-logs"
        mkdir -p "$TREE/_build-asan"
        HTTPD_WRAPPER="$TREE/_build-asan-httpd"
        cat >"$HTTPD_WRAPPER" <<WRAP
#!/bin/sh
ASAN_OPTIONS="\${MSGTRACK_HTTPD_ASAN_OPTIONS:-\$ASAN_OPTIONS}" \\
LD_PRELOAD="$asan_rt\${LD_PRELOAD:+ \$LD_PRELOAD}" exec /usr/sbin/apache2 "\$@"
WRAP
        chmod +x "$HTTPD_WRAPPER"
        # Leaks are checked for the unit tests (their pools are destroyed); httpd
        # children exit without tearing their pools down, so not there.
        export ASAN_OPTIONS="log_path=$logdir/asan:detect_leaks=1:abort_on_error=0"
        export UBSAN_OPTIONS="log_path=$logdir/ubsan:print_stacktrace=1"
        export MSGTRACK_HTTPD_ASAN_OPTIONS="log_path=$logdir/asan:detect_leaks=0"
        mkdir -p "$logdir"
        run_suites "$TREE/_build-asan" --enable-sanitizers
        if ls "$logdir"/* >/dev/null 2>&1; then
            cat "$logdir"/* | head -100
            die "sanitizers reported errors (see $logdir)"
        fi
        log "ok: sanitizer build clean"
    fi
}

if [ "${MSGTRACK_TEST_STAGE:-}" = user ]; then
    cd "$SRC"
    user_stage
    exit 0
fi

install_missing test.sh "${PACKAGES[@]}"

if [ "$(id -u)" = 0 ]; then
    # Apache::Test refuses to run as root (and exits 0 doing so): hand an
    # unprivileged user its own copy of the tree.
    id "$TEST_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$TEST_USER"
    WORK=$(mktemp -d /tmp/msgtrack-test.XXXXXX)
    log "copying the tree to $WORK for $TEST_USER"
    tar -C "$SRC" --exclude=./_build --exclude=./_build-asan --exclude=./.git -cf - . \
        | tar -C "$WORK" -xf -
    chown -R "$TEST_USER": "$WORK"
    runuser -u "$TEST_USER" -- env MSGTRACK_TEST_STAGE=user MSGTRACK_SANITIZE="$SANITIZE" \
        MSGTRACK_STRESS="$STRESS" \
        PATH="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" \
        bash "$WORK/scripts/test.sh"
    rc=$?
    [ "${MSGTRACK_KEEP:-0}" = 1 ] || rm -rf "$WORK"
    exit $rc
fi

MSGTRACK_TEST_STAGE=user exec bash "$0"
