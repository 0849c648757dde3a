# shellcheck shell=bash
# Helpers shared by the bench scripts.  Sourced, not run.
#
# Output convention: one "==> step" line per step on success; on failure the
# captured output of the failing command is printed and the script exits 1.

# shellcheck source=tests/bench/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

export DEBIAN_FRONTEND=noninteractive
# Stable, parseable output from the tools we call (apt, tar, sort).
export LC_ALL=C.UTF-8

step() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "$(basename "$0") must run as root (it uses apt and rootful podman)"
}

# run_quiet DESCRIPTION CMD...: run CMD with its output captured; show the
# output only when it fails.
run_quiet() {
    local what=$1; shift
    local log rc=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        printf 'ERROR: %s failed (exit %d): %s\n' "$what" "$rc" "$*" >&2
        printf -- '----- output (last 60 lines) -----\n' >&2
        tail -n 60 "$log" >&2
        printf -- '----------------------------------\n' >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

# Seconds since the script started, for the timing lines.
elapsed() { printf '%ss' "$SECONDS"; }

# apt_install PKG...: install the packages that are missing, quietly.  Does
# nothing (and needs no network) when all of them are installed already.
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    step "apt: installing ${missing[*]}"
    run_quiet "apt-get update" apt-get update -q
    run_quiet "apt-get install" apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}

# debian_mirror: the Debian mirror the machine's apt uses (the first "deb"
# URI of a source that is not the security archive), so that every download
# goes to the one mirror this machine is allowed to reach.  Override with
# VMSTACK_DEBIAN_MIRROR.
debian_mirror() {
    if [[ -n ${VMSTACK_DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "${VMSTACK_DEBIAN_MIRROR%/}"
        return
    fi
    local uri
    uri=$(
        {
            # one-line format: deb [opts] URI suite comps
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
            # deb822 format: URIs: a b c
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
                sed -nE 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
        } | grep -E '^https?://' | grep -v -- '-security' | grep -E '/debian/?$' | head -n1
    )
    [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list*; set VMSTACK_DEBIAN_MIRROR"
    printf '%s\n' "${uri%/}"
}

# private_apt SUITE: prepare an apt configuration of our own for SUITE (own
# Dir::Etc, Dir::State, Dir::Cache under the cache dir) and refresh its
# package lists.  The machine's apt sources, lists and dpkg status are not
# touched.  Afterwards use: papt SUITE apt-get ARGS...
private_apt() {
    local suite=$1 d="$VMSTACK_CACHE/apt/$1"
    mkdir -p "$d"/etc/sources.list.d "$d"/etc/preferences.d "$d"/etc/trusted.gpg.d \
        "$d"/state/lists/partial "$d"/cache/archives/partial
    : >"$d/state/status"   # an empty dpkg status: nothing counts as installed
    cat >"$d/etc/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) $suite main
EOF
    cat >"$d/apt.conf" <<EOF
Dir::Etc "$d/etc";
Dir::Etc::sourcelist "$d/etc/sources.list";
Dir::Etc::sourceparts "$d/etc/sources.list.d";
Dir::Etc::preferences "$d/etc/preferences";
Dir::Etc::preferencesparts "$d/etc/preferences.d";
Dir::Etc::trustedparts "$d/etc/trusted.gpg.d";
Dir::State "$d/state";
Dir::State::status "$d/state/status";
Dir::Cache "$d/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
EOF
    step "apt ($suite, private config): updating package lists"
    run_quiet "apt-get update ($suite)" papt "$suite" apt-get update -q
}

# papt SUITE CMD ARGS...: run apt-get/apt-cache with SUITE's private config.
papt() {
    local suite=$1 cmd=$2; shift 2
    "$cmd" -c "$VMSTACK_CACHE/apt/$suite/apt.conf" "$@"
}

# upstream_version DEBIAN_VERSION: 1:1.79.5+ds1-2+b5 -> 1.79.5
upstream_version() {
    local v=$1
    v=${v#*:}        # epoch
    v=${v%-*}        # Debian revision
    v=${v%%[+~]*}    # repack suffixes (+ds1, ~rc...)
    printf '%s\n' "$v"
}

# file_sha256 FILE: the hex digest only.
file_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The fixed mtime of every member of the stand-ins' archives and packages
# (2024-01-01), so that the same sources give the same bytes.
STAND_IN_EPOCH=1704067200

# reproducible_tar_gz DIR TOP OUT: pack DIR/TOP into OUT with sorted names,
# the fixed mtime, root as owner and no gzip timestamp.
reproducible_tar_gz() {
    local dir=$1 top=$2 out=$3
    (cd "$dir" && tar --sort=name --mtime="@$STAND_IN_EPOCH" --owner=0 --group=0 --numeric-owner \
        --format=gnu -cf - "$top") | gzip -n >"$out"
}

# replace_if_changed NEW DEST LABEL: move NEW to DEST unless DEST has the same
# bytes; prints what it did. Returns 1 when DEST was left as it was.
replace_if_changed() {
    local new=$1 dest=$2 label=$3
    if cmp -s "$new" "$dest"; then
        step "$label: unchanged"
        return 1
    fi
    step "$label: packing $dest"
    mkdir -p "$(dirname "$dest")"
    mv "$new" "$dest.tmp"
    mv "$dest.tmp" "$dest"
}
