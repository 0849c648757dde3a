#!/usr/bin/env bash
# Pack the promoter STAND-IN (tests/bench/promoter-stand-in/promoter, a small
# Python program, not promoter) into a release-like archive for the promoter
# role's tests. The real promoter cannot be downloaded here; see the stand-in's
# docstring for what it imitates.
#
#   tests/bench/build-promoter-stand-in.sh      prints the archive's path and sha256
#
# Output, relative to $VMSTACK_ARTIFACTS (the offline directory / mirror layout):
#   promoter/v<V>/promoter-stand-in-<V>.linux-amd64.tar.gz   promoter-stand-in-<V>.linux-amd64/promoter
#   promoter/v<V>/promoter-stand-in-<V>.linux-amd64.tar.gz.sha256
# with V = $VMSTACK_PROMOTER_VERSION (default 0.2.3). The file names say
# "stand-in", so the scenario sets promoter_archive_name and
# promoter_archive_binary_path, and passes the .sha256 file's hash as
# promoter_archive_sha256 (promoter publishes no checksum list).
#
# The archive is reproducible (fixed order, mtime, owner, modes; gzip -n): the
# same script gives the same sha256, and the files are only replaced when the
# script changed.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VER=${VMSTACK_PROMOTER_VERSION:-0.2.3}
SRC="$VMSTACK_REPO/tests/bench/promoter-stand-in/promoter"
BASE="promoter-stand-in-$VER.linux-amd64"
DIR="$VMSTACK_ARTIFACTS/promoter/v$VER"
ARCHIVE="$DIR/$BASE.tar.gz"

mkdir -p "$DIR" "$VMSTACK_CACHE"
WORK=$(mktemp -d "$VMSTACK_CACHE/tmp.promoter-stand-in.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/$BASE"
sed "s/@VERSION@/$VER/" "$SRC" >"$WORK/$BASE/promoter"
chmod 0755 "$WORK/$BASE" "$WORK/$BASE/promoter"
run_quiet "python3 -m py_compile" python3 -m py_compile "$WORK/$BASE/promoter"
rm -rf "$WORK/$BASE/__pycache__"
run_quiet "promoter --version" "$WORK/$BASE/promoter" --version
reproducible_tar_gz "$WORK" "$BASE" "$WORK/$BASE.tar.gz"
[[ $(tar -tzf "$WORK/$BASE.tar.gz" | sort) == "$(printf '%s\n' "$BASE/" "$BASE/promoter")" ]] ||
    die "unexpected listing of $WORK/$BASE.tar.gz"

if replace_if_changed "$WORK/$BASE.tar.gz" "$ARCHIVE" "promoter stand-in v$VER" || [[ ! -s $ARCHIVE.sha256 ]]; then
    # Written last, so a present .sha256 file means a complete archive.
    (cd "$DIR" && sha256sum "$BASE.tar.gz") >"$ARCHIVE.sha256.tmp"
    mv "$ARCHIVE.sha256.tmp" "$ARCHIVE.sha256"
fi
printf '%s %s\n' "$ARCHIVE" "$(cut -d' ' -f1 "$ARCHIVE.sha256")"
