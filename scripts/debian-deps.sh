# scripts/debian-deps.sh: sourced by test.sh and demo.sh.
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
