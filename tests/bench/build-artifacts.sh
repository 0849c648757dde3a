#!/usr/bin/env bash
# Build local release artifacts in the upstream layout from the real binaries
# in Debian's packages, for the collection's "mirror URL" and "offline
# directory" install modes.  No upstream release server is reachable here, so
# the archives are re-packed from Debian 12 (bookworm, "old" versions) and
# Debian 13 (trixie, "new" versions) packages: apt-get download + dpkg-deb -x,
# nothing is installed.  The current releases ("CURRENT" in env.sh) come from
# $VMSTACK_SHARED: Alertmanager and node_exporter re-packed the same way from
# the fixed .debs in debian-current/ (checked against its SHA256SUMS first),
# VictoriaMetrics single-node, vmutils and the cluster archives copied as
# they are from vm-releases/ (already in the upstream layout; checked against
# their _checksums.txt before and after the copy).
#
# Output, relative to $VMSTACK_ARTIFACTS (default $VMSTACK_CACHE/artifacts):
#   VictoriaMetrics/v<V>/victoria-metrics-linux-amd64-v<V>.tar.gz      victoria-metrics-prod
#   VictoriaMetrics/v<V>/victoria-metrics-linux-amd64-v<V>_checksums.txt
#   VictoriaMetrics/v<V>/vmutils-linux-amd64-v<V>.tar.gz               vmagent-prod vmalert-prod ...
#   VictoriaMetrics/v<V>/vmutils-linux-amd64-v<V>_checksums.txt
#   alertmanager/v<V>/alertmanager-<V>.linux-amd64.tar.gz              alertmanager-<V>.linux-amd64/...
#   alertmanager/v<V>/sha256sums.txt
#   node_exporter/v<V>/node_exporter-<V>.linux-amd64.tar.gz            node_exporter-<V>.linux-amd64/...
#   node_exporter/v<V>/sha256sums.txt
#   VictoriaMetrics/v<V>-cluster/victoria-metrics-linux-amd64-v<V>-cluster.tar.gz (+ _checksums.txt)
#                                      copied from vm-releases/, for OLD, NEW and CURRENT
#   corrupt/VictoriaMetrics/v1.79.5/   the 1.79.5 single-node archive with other
#                                      bytes + the original checksum file
#
# Checksum files follow upstream exactly: "<sha256>  <name>" lines as written
# by sha256sum.  VictoriaMetrics (Makefile "release-*-goos-goarch" targets):
# the archive first, then each "-prod" binary.  Prometheus (promu checksum):
# one line per release file; here only the linux-amd64 archive exists.
#
# Archives are reproducible (fixed order, mtime, owner, modes; gzip -n), so a
# rebuild gives the same checksums.  A version whose files exist is skipped.
# Note: Debian's VictoriaMetrics binaries print an empty "-version"; expected.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ART=$VMSTACK_ARTIFACTS
DEBS=$VMSTACK_CACHE/debs          # downloaded .debs, kept so rebuilds need no network
EPOCH=1704067200                  # fixed mtime of every archive member (2024-01-01)
CORRUPT_VM_VERSION=$VMSTACK_VM_VERSION_OLD

mkdir -p "$VMSTACK_CACHE" "$ART" "$DEBS"
WORK=$(mktemp -d "$VMSTACK_CACHE/tmp.artifacts.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------
# Debian packages: download once per suite, extract once per run.

declare -A EXTRACTED=()   # suite -> 1 once its .debs are extracted in this run

# extract_deb SUITE PKG DEB: unpack DEB under $WORK/SUITE/PKG/ and remember
# the package's upstream version for check_version.
extract_deb() {
    local suite=$1 pkg=$2 deb=$3
    mkdir -p "$WORK/$suite/$pkg"
    run_quiet "dpkg-deb -x $deb" dpkg-deb -x "$deb" "$WORK/$suite/$pkg"
    upstream_version "$(dpkg-deb -f "$deb" Version)" >"$WORK/$suite/$pkg.version"
}

# debs_current: the fixed .debs of the current Alertmanager and node_exporter
# (Debian unstable moves, so they are kept in $VMSTACK_SHARED/debian-current),
# checked against that folder's SHA256SUMS, then extracted as suite "current".
debs_current() {
    local src=$VMSTACK_SHARED/debian-current pkg deb
    [[ -n ${EXTRACTED[current]:-} ]] && return 0
    [[ -s $src/SHA256SUMS ]] || die "$src/SHA256SUMS is missing; the current .debs cannot be checked"
    (cd "$src" && run_quiet "sha256sum -c $src/SHA256SUMS" sha256sum --strict -c SHA256SUMS)
    for pkg in prometheus-alertmanager prometheus-node-exporter; do
        deb=$(compgen -G "$src/${pkg}_*_amd64.deb" | sort -V | tail -n1)
        [[ -n $deb ]] || die "no $pkg .deb in $src"
        grep -q " $(basename "$deb")\$" "$src/SHA256SUMS" || die "$deb is not listed in $src/SHA256SUMS"
        extract_deb current "$pkg" "$deb"
    done
    EXTRACTED[current]=1
}

# debs_for SUITE: make sure the three .debs of SUITE are in $DEBS/SUITE and
# extracted under $WORK/SUITE/<package>/; the package lists are only fetched
# when a .deb is missing.  Suite "current" reads debs_current instead.
debs_for() {
    local suite=$1 pkg deb
    [[ $suite == current ]] && { debs_current; return 0; }
    [[ -n ${EXTRACTED[$suite]:-} ]] && return 0
    mkdir -p "$DEBS/$suite"
    local pkgs=(victoria-metrics prometheus-alertmanager prometheus-node-exporter)
    local missing=()
    for pkg in "${pkgs[@]}"; do
        compgen -G "$DEBS/$suite/${pkg}_*_amd64.deb" >/dev/null || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        private_apt "$suite"
        step "$suite: downloading ${missing[*]}"
        (cd "$DEBS/$suite" && run_quiet "apt-get download ($suite)" papt "$suite" apt-get download -q "${missing[@]}")
    fi
    for pkg in "${pkgs[@]}"; do
        deb=$(compgen -G "$DEBS/$suite/${pkg}_*_amd64.deb" | sort -V | tail -n1)
        extract_deb "$suite" "$pkg" "$deb"
    done
    EXTRACTED[$suite]=1
}

# check_version SUITE PKG WANT: the mirror must still carry the version the
# test scenarios are written for (env.sh); fail loudly if it moved.
check_version() {
    local got
    got=$(cat "$WORK/$1/$2.version")
    [[ $got == "$3" ]] || die "$1's $2 is $got, expected $3 (update the versions in tests/bench/env.sh?)"
}

# ---------------------------------------------------------------------------
# Archive helpers.

# repro_tar_gz OUT DIR ENTRY...: tar.gz of ENTRY... (relative to DIR), the
# same bytes on every run: entries in the given order (directories sorted by
# name), fixed mtime, owner root, gzip without name/timestamp.
repro_tar_gz() {
    local out=$1 dir=$2; shift 2
    (cd "$dir" && tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
        --format=gnu -cf - "$@") | gzip -n >"$out.tmp"
    mv "$out.tmp" "$out"
}

# check_listing ARCHIVE EXPECTED...: the archive lists exactly EXPECTED.
check_listing() {
    local archive=$1; shift
    local got want
    got=$(tar -tzf "$archive" | sort)
    want=$(printf '%s\n' "$@" | sort)
    [[ $got == "$want" ]] || die "$archive lists:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
}

# stage_bin SRC DEST: copy a binary with a fixed mode and check that it runs
# (VictoriaMetrics binaries accept -version, except vmctl and vmalert-tool,
# urfave/cli programs without it; Prometheus binaries take --version).
stage_bin() {
    install -m 0755 "$1" "$2"
    local flag
    case $(basename "$2") in
        vmctl-prod | vmalert-tool-prod) flag=--help ;;
        *-prod) flag=-version ;;
        *) flag=--version ;;
    esac
    run_quiet "$(basename "$2") $flag" "$2" "$flag"
}

# ---------------------------------------------------------------------------
# VictoriaMetrics: single-node archive and vmutils archive.
build_victoriametrics() {
    local suite=$1 ver=$2
    local dir="$ART/VictoriaMetrics/v$ver"
    local vm="victoria-metrics-linux-amd64-v$ver" vmu="vmutils-linux-amd64-v$ver"
    if [[ -s $dir/$vm.tar.gz && -s $dir/${vm}_checksums.txt &&
          -s $dir/$vmu.tar.gz && -s $dir/${vmu}_checksums.txt ]]; then
        step "VictoriaMetrics v$ver: present, skipped"
        return 0
    fi
    debs_for "$suite"
    check_version "$suite" victoria-metrics "$ver"
    step "VictoriaMetrics v$ver: packing from $suite's victoria-metrics"
    local src="$WORK/$suite/victoria-metrics/usr/bin" stage="$WORK/$suite/vm-stage"
    mkdir -p "$stage" "$dir"

    # Same order as upstream's release-vmutils-goos-goarch target; vmalert-tool
    # exists from 1.92 on (trixie has it, bookworm not).
    local utils=(vmagent vmalert vmalert-tool vmauth vmbackup vmrestore vmctl) u
    local members=()
    for u in "${utils[@]}"; do
        if [[ -x $src/$u ]]; then
            stage_bin "$src/$u" "$stage/$u-prod"
            members+=("$u-prod")
        elif [[ $u != vmalert-tool ]]; then
            die "$suite's victoria-metrics has no /usr/bin/$u"
        fi
    done
    stage_bin "$src/victoria-metrics" "$stage/victoria-metrics-prod"

    # Checksum files are written last (after the archive is in place), so a
    # present checksum file means a complete version directory.
    repro_tar_gz "$dir/$vm.tar.gz" "$stage" victoria-metrics-prod
    check_listing "$dir/$vm.tar.gz" victoria-metrics-prod
    cp "$dir/$vm.tar.gz" "$stage/"
    (cd "$stage" && sha256sum "$vm.tar.gz" victoria-metrics-prod) >"$dir/${vm}_checksums.txt.tmp"
    mv "$dir/${vm}_checksums.txt.tmp" "$dir/${vm}_checksums.txt"

    repro_tar_gz "$dir/$vmu.tar.gz" "$stage" "${members[@]}"
    check_listing "$dir/$vmu.tar.gz" "${members[@]}"
    cp "$dir/$vmu.tar.gz" "$stage/"
    (cd "$stage" && sha256sum "$vmu.tar.gz" "${members[@]}") >"$dir/${vmu}_checksums.txt.tmp"
    mv "$dir/${vmu}_checksums.txt.tmp" "$dir/${vmu}_checksums.txt"
}

# copy_release TAG: the release folder VictoriaMetrics/<TAG>/ of
# $VMSTACK_SHARED/vm-releases, copied as it is (archives, then checksum
# files, each renamed into place, so a present checksum file means a complete
# folder).  The checksums are checked in the source and again in the copy.
copy_release() {
    local tag=$1
    local src="$VMSTACK_SHARED/vm-releases/VictoriaMetrics/$tag" dir="$ART/VictoriaMetrics/$tag"
    local sums=() archives=() f
    [[ -d $src ]] || die "$src is missing (see $VMSTACK_SHARED/vm-releases/README.md)"
    for f in "$src"/*_checksums.txt; do
        sums+=("$(basename "$f")")
        archives+=("$(basename "${f%_checksums.txt}").tar.gz")
    done
    ((${#sums[@]})) || die "$src holds no _checksums.txt"
    if (cd "$dir" 2>/dev/null && for f in "${sums[@]}" "${archives[@]}"; do [[ -s $f ]] || exit 1; done); then
        step "VictoriaMetrics $tag: present, skipped"
        return 0
    fi
    step "VictoriaMetrics $tag: copying from $src"
    (cd "$src" && run_quiet "sha256sum -c ($tag)" sha256sum --strict --ignore-missing -c "${sums[@]}")
    mkdir -p "$dir"
    for f in "${archives[@]}" "${sums[@]}"; do
        cp "$src/$f" "$dir/$f.tmp"
        mv "$dir/$f.tmp" "$dir/$f"
    done
    (cd "$dir" && run_quiet "sha256sum -c ($tag copy)" sha256sum --strict --ignore-missing -c "${sums[@]}")
}

# ---------------------------------------------------------------------------
# Prometheus-style archives (promu tarball): NAME-VER.linux-amd64/ holding
# the binaries plus LICENSE and NOTICE; sha256sums.txt beside it.

# prom_archive NAME VER SUITE PKG FILES...: FILES are "dest=source" pairs,
# source relative to the extracted package (or absolute).
prom_archive() {
    local name=$1 ver=$2 suite=$3 pkg=$4; shift 4
    local dir="$ART/$name/v$ver" base="$name-$ver.linux-amd64"
    if [[ -s $dir/$base.tar.gz && -s $dir/sha256sums.txt ]]; then
        step "$name v$ver: present, skipped"
        return 0
    fi
    debs_for "$suite"
    check_version "$suite" "$pkg" "$ver"
    step "$name v$ver: packing from $suite's $pkg"
    local root="$WORK/$suite/$pkg" stage="$WORK/$suite/$name-stage"
    mkdir -p "$stage/$base" "$dir"
    local pair dest srcf listing=("$base/")
    for pair in "$@"; do
        dest=${pair%%=*} srcf=${pair#*=}
        [[ $srcf == /* ]] || srcf="$root/$srcf"
        case $dest in
            "$name" | amtool) stage_bin "$srcf" "$stage/$base/$dest" ;;
            *) install -m 0644 "$srcf" "$stage/$base/$dest" ;;
        esac
        listing+=("$base/$dest")
    done
    chmod 0755 "$stage/$base"
    repro_tar_gz "$dir/$base.tar.gz" "$stage" "$base"
    check_listing "$dir/$base.tar.gz" "${listing[@]}"
    (cd "$dir" && sha256sum "$base.tar.gz") >"$dir/sha256sums.txt.tmp"
    mv "$dir/sha256sums.txt.tmp" "$dir/sha256sums.txt"
}

# A minimal alertmanager.yml, like the one upstream ships in its archive.
AM_YML="$WORK/alertmanager.yml"
cat >"$AM_YML" <<'EOF'
route:
  receiver: web.hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
  - name: web.hook
    webhook_configs:
      - url: http://127.0.0.1:5001/
EOF

build_alertmanager() {
    local suite=$1 ver=$2
    prom_archive alertmanager "$ver" "$suite" prometheus-alertmanager \
        alertmanager=usr/bin/prometheus-alertmanager \
        amtool=usr/bin/amtool \
        alertmanager.yml="$AM_YML" \
        LICENSE=/usr/share/common-licenses/Apache-2.0 \
        NOTICE=usr/share/doc/prometheus-alertmanager/NOTICE
}

build_node_exporter() {
    local suite=$1 ver=$2
    prom_archive node_exporter "$ver" "$suite" prometheus-node-exporter \
        node_exporter=usr/bin/prometheus-node-exporter \
        LICENSE=/usr/share/common-licenses/Apache-2.0 \
        NOTICE=usr/share/doc/prometheus-node-exporter/NOTICE
}

# ---------------------------------------------------------------------------
# A corrupted copy of the old single-node archive: same name, other bytes
# (still a valid tar.gz whose victoria-metrics-prod only fails loudly, in case
# a broken checksum check lets it through), and the original checksum file,
# so "checksum mismatch" can be tested against a mirror or offline directory.
build_corrupt() {
    local ver=$CORRUPT_VM_VERSION
    local vm="victoria-metrics-linux-amd64-v$ver"
    local src="$ART/VictoriaMetrics/v$ver" dir="$ART/corrupt/VictoriaMetrics/v$ver"
    if [[ -s $dir/$vm.tar.gz && -s $dir/${vm}_checksums.txt ]]; then
        step "corrupt/VictoriaMetrics v$ver: present, skipped"
        return 0
    fi
    step "corrupt/VictoriaMetrics v$ver: writing an archive that fails its checksum"
    local stage="$WORK/corrupt-stage"
    mkdir -p "$stage" "$dir"
    printf '#!/bin/sh\necho "vmstack test bench: deliberately corrupted artifact" >&2\nexit 1\n' \
        >"$stage/victoria-metrics-prod"
    chmod 0755 "$stage/victoria-metrics-prod"
    repro_tar_gz "$dir/$vm.tar.gz" "$stage" victoria-metrics-prod
    cp "$src/${vm}_checksums.txt" "$dir/${vm}_checksums.txt"
    if (cd "$dir" && sha256sum --quiet --ignore-missing -c "${vm}_checksums.txt" >/dev/null 2>&1); then
        die "the corrupted archive matches its checksum"
    fi
}

# ---------------------------------------------------------------------------
build_victoriametrics bookworm "$VMSTACK_VM_VERSION_OLD"
build_victoriametrics trixie "$VMSTACK_VM_VERSION_NEW"
build_alertmanager bookworm "$VMSTACK_ALERTMANAGER_VERSION_OLD"
build_alertmanager trixie "$VMSTACK_ALERTMANAGER_VERSION_NEW"
build_node_exporter bookworm "$VMSTACK_NODE_EXPORTER_VERSION_OLD"
build_node_exporter trixie "$VMSTACK_NODE_EXPORTER_VERSION_NEW"
copy_release "v$VMSTACK_VM_VERSION_CURRENT"
for ver in "$VMSTACK_VM_VERSION_OLD" "$VMSTACK_VM_VERSION_NEW" "$VMSTACK_VM_VERSION_CURRENT"; do
    copy_release "v$ver-cluster"
done
build_alertmanager current "$VMSTACK_ALERTMANAGER_VERSION_CURRENT"
build_node_exporter current "$VMSTACK_NODE_EXPORTER_VERSION_CURRENT"
build_corrupt

# Every checksum file must match the archives beside it (the "-prod" lines
# name files that are inside the archives, hence --ignore-missing).
step "verifying checksum files"
while IFS= read -r sums; do
    (cd "$(dirname "$sums")" &&
        run_quiet "sha256sum -c $sums" sha256sum --strict --ignore-missing -c "$(basename "$sums")")
done < <(find "$ART" -path "$ART/corrupt" -prune -o -type f \( -name '*_checksums.txt' -o -name sha256sums.txt \) -print | sort)

step "artifacts in $ART ($(elapsed)):"
(cd "$ART" && find . -type f -printf '%P\t%s\n' | sort | awk -F'\t' '{ printf "    %-80s %10d\n", $1, $2 }')
