# scripts/debian-deps.sh: sourced by test.sh, valgrind.sh and demo.sh.
#   install_missing CALLER PACKAGE...
# Installs the Debian packages not yet installed (as root), or fails naming
# them (as anyone else).
install_missing() {
    local caller=$1 missing=() p
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    if [ "$(id -u)" != 0 ]; then
        printf '%s: missing Debian packages (run as root to install): %s\n' \
            "$caller" "${missing[*]}" >&2
        exit 1
    fi
    printf '==> installing: %s\n' "${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null
}

# What test.sh and valgrind.sh need: the build, the Apache::Test suite's
# clients (zeep, gSOAP), clang for the fuzz targets, wrk for the stress test,
# and valgrind.
TEST_PACKAGES=(build-essential autoconf automake libtool pkg-config
               apache2 apache2-dev libapr1-dev libaprutil1-dev
               libxml2-dev libxml2-utils libdb-dev db5.3-util wrk
               libapache2-mod-perl2 libwww-perl liblwp-protocol-https-perl libio-socket-ssl-perl
               libxml-libxml-perl python3-zeep curl openssl
               gsoap libgsoap-dev libssl-dev zlib1g-dev
               clang libclang-rt-dev valgrind)
