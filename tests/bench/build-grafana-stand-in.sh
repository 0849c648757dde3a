#!/usr/bin/env bash
# Pack the Grafana STAND-IN (tests/bench/grafana-stand-in/, a small Python
# program, not Grafana) into archives with the layout and names of Grafana's
# standalone release, for the grafana role's tests. Grafana cannot be
# downloaded here; see the stand-in's docstring for what it imitates.
#
#   tests/bench/build-grafana-stand-in.sh      prints each archive's path and sha256
#
# Output, relative to $VMSTACK_ARTIFACTS (the offline directory / mirror layout),
# for V in $VMSTACK_GRAFANA_VERSION_OLD and _NEW (default 11.6.3-stand-in and
# 11.6.4-stand-in: versions Grafana never published, so these archives cannot
# be taken for real ones):
#   grafana/v<V>/grafana-<V>.linux-amd64.tar.gz          grafana-v<V>/{VERSION,README-STAND-IN.txt,
#                                                          bin/grafana,conf/defaults.ini,public/index.html}
#   grafana/v<V>/grafana-<V>.linux-amd64.tar.gz.sha256   the archive's bare sha256, as dl.grafana.com publishes it
#
# The archives are reproducible (fixed order, mtime, owner, modes; gzip -n):
# the same sources give the same sha256, and files are only replaced when the
# sources changed.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EPOCH=1704067200                  # fixed mtime of every archive member (2024-01-01)
SRC="$VMSTACK_REPO/tests/bench/grafana-stand-in"
VERSIONS=("${VMSTACK_GRAFANA_VERSION_OLD:-11.6.3-stand-in}" "${VMSTACK_GRAFANA_VERSION_NEW:-11.6.4-stand-in}")

mkdir -p "$VMSTACK_CACHE"
WORK=$(mktemp -d "$VMSTACK_CACHE/tmp.grafana-stand-in.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pack() {
    local ver=$1
    local top="grafana-v$ver" base="grafana-$ver.linux-amd64"
    local dir="$VMSTACK_ARTIFACTS/grafana/v$ver"
    local archive="$dir/$base.tar.gz" tree="$WORK/$ver/$top"

    mkdir -p "$dir" "$tree/bin" "$tree/conf" "$tree/public"
    install -m 0755 "$SRC/grafana" "$tree/bin/grafana"
    install -m 0644 "$SRC/conf/defaults.ini" "$tree/conf/defaults.ini"
    printf '%s\n' "$ver" >"$tree/VERSION"
    printf '%s\n' "This is the vmstack test bench's STAND-IN for Grafana $ver, not Grafana." \
        "See tests/bench/grafana-stand-in/grafana in the vmstack.monitoring collection." >"$tree/README-STAND-IN.txt"
    printf '%s\n' "<!doctype html><title>Grafana stand-in</title><p>vmstack test stand-in, not Grafana." \
        >"$tree/public/index.html"
    chmod 0644 "$tree/VERSION" "$tree/README-STAND-IN.txt" "$tree/public/index.html"
    chmod 0755 "$tree" "$tree/bin" "$tree/conf" "$tree/public"
    run_quiet "python3 -m py_compile" python3 -m py_compile "$tree/bin/grafana"
    rm -rf "$tree/bin/__pycache__"
    run_quiet "grafana --version" "$tree/bin/grafana" --version

    (cd "$WORK/$ver" && tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
        --format=gnu -cf - "$top") | gzip -n >"$WORK/$base.tar.gz"
    [[ $(tar -tzf "$WORK/$base.tar.gz" | sort) == "$(printf '%s\n' "$top/" "$top/README-STAND-IN.txt" "$top/VERSION" \
        "$top/bin/" "$top/bin/grafana" "$top/conf/" "$top/conf/defaults.ini" "$top/public/" "$top/public/index.html" | sort)" ]] ||
        die "unexpected listing of $WORK/$base.tar.gz"

    if cmp -s "$WORK/$base.tar.gz" "$archive" && [[ -s $archive.sha256 ]]; then
        step "grafana stand-in v$ver: unchanged"
    else
        step "grafana stand-in v$ver: packing $archive"
        mv "$WORK/$base.tar.gz" "$archive.tmp"
        mv "$archive.tmp" "$archive"
        # Written last, so a present .sha256 file means a complete archive.
        sha256sum "$archive" | cut -d' ' -f1 >"$archive.sha256.tmp"
        mv "$archive.sha256.tmp" "$archive.sha256"
    fi
    printf '%s %s\n' "$archive" "$(cat "$archive.sha256")"
}

for ver in "${VERSIONS[@]}"; do
    pack "$ver"
done
