#!/usr/bin/env bash
# Pack the Grafana STAND-IN (tests/bench/grafana-stand-in/, a small Python
# program, not Grafana) in the two forms the grafana role installs Grafana
# from, for the role's tests. Grafana cannot be downloaded here; see the
# stand-in's docstring for what it imitates.
#
#   tests/bench/build-grafana-stand-in.sh      prints each archive's path and sha256,
#                                               then the APT repository's folder and key fingerprint
#
# Output, relative to $VMSTACK_ARTIFACTS (the offline directory / mirror layout),
# for V in $VMSTACK_GRAFANA_VERSION_OLD and _NEW (default 11.6.3-stand-in and
# 11.6.4-stand-in: versions Grafana never published, so neither the archives
# nor the packages can be taken for real ones):
#
# 1. Grafana's standalone release (install method `tarball`):
#   grafana/v<V>/grafana-<V>.linux-amd64.tar.gz          grafana-v<V>/{VERSION,README-STAND-IN.txt,
#                                                          bin/grafana,conf/defaults.ini,public/index.html}
#   grafana/v<V>/grafana-<V>.linux-amd64.tar.gz.sha256   the archive's bare sha256, as dl.grafana.com publishes it
#
# 2. An APT repository shaped like apt.grafana.com (`deb URL stable main`;
#    install method `package`), signed with a throw-away key:
#   grafana-apt/gpg.key                                  the public key, ASCII armored, like https://apt.grafana.com/gpg.key
#   grafana-apt/dists/stable/{Release,InRelease,Release.gpg}
#   grafana-apt/dists/stable/main/binary-amd64/Packages{,.gz}
#   grafana-apt/pool/main/g/grafana/grafana_<V>_amd64.deb
#       package `grafana` version <V>, in the layout of Grafana's .deb:
#       /usr/share/grafana/ (the same files as the archive's top folder),
#       /usr/lib/systemd/system/grafana-server.service, /etc/default/grafana-server
#       (a conffile), and a postinst that treats the host like Grafana's does
#       (see grafana-stand-in/deb/postinst).
#   The key is generated once into $VMSTACK_CACHE/grafana-apt-gnupg (no
#   passphrase; it signs nothing but this repository and is never committed).
#
# Archives and packages are reproducible (fixed order, mtimes, root owner,
# modes; gzip -n, SOURCE_DATE_EPOCH): the same sources give the same bytes,
# and files are only replaced when the sources changed. The repository's
# index and signatures are made again only when a package, the key or this
# script changed.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="$VMSTACK_REPO/tests/bench/grafana-stand-in"
VERSIONS=("${VMSTACK_GRAFANA_VERSION_OLD:-11.6.3-stand-in}" "${VMSTACK_GRAFANA_VERSION_NEW:-11.6.4-stand-in}")
REPO="$VMSTACK_ARTIFACTS/grafana-apt"
POOL_PATH=pool/main/g/grafana
export GNUPGHOME="$VMSTACK_CACHE/grafana-apt-gnupg"
KEY_UID="vmstack test bench, throw-away key of the Grafana STAND-IN APT repository <grafana-stand-in@vmstack.invalid>"

mkdir -p "$VMSTACK_CACHE"
# Scenarios may run side by side (grafana, stack): one build at a time.
exec {lock}>"$VMSTACK_CACHE/grafana-stand-in.lock"
flock "$lock"

# apt-ftparchive writes the repository's index and Release file; gpg signs them.
apt_install apt-utils gpg
WORK=$(mktemp -d "$VMSTACK_CACHE/tmp.grafana-stand-in.XXXXXX")
# gpg starts an agent for the key home; it is stopped with the script.
trap 'gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$WORK"' EXIT

# stand_in_home DIR VERSION: the stand-in's files as Grafana's home folder
# (the archive's grafana-v<V>/, the package's /usr/share/grafana), checked to run.
stand_in_home() {
    local home=$1 ver=$2
    mkdir -p "$home/bin" "$home/conf" "$home/public"
    install -m 0755 "$SRC/grafana" "$home/bin/grafana"
    install -m 0644 "$SRC/conf/defaults.ini" "$home/conf/defaults.ini"
    printf '%s\n' "$ver" >"$home/VERSION"
    printf '%s\n' "This is the vmstack test bench's STAND-IN for Grafana $ver, not Grafana." \
        "See tests/bench/grafana-stand-in/grafana in the vmstack.monitoring collection." >"$home/README-STAND-IN.txt"
    printf '%s\n' "<!doctype html><title>Grafana stand-in</title><p>vmstack test stand-in, not Grafana." \
        >"$home/public/index.html"
    chmod 0644 "$home/VERSION" "$home/README-STAND-IN.txt" "$home/public/index.html"
    chmod 0755 "$home" "$home/bin" "$home/conf" "$home/public"
    run_quiet "python3 -m py_compile" python3 -m py_compile "$home/bin/grafana"
    rm -rf "$home/bin/__pycache__"
    run_quiet "grafana --version" "$home/bin/grafana" --version
}

pack_archive() {
    local ver=$1
    local top="grafana-v$ver" base="grafana-$ver.linux-amd64"
    local archive="$VMSTACK_ARTIFACTS/grafana/v$ver/$base.tar.gz"

    stand_in_home "$WORK/archive-$ver/$top" "$ver"
    reproducible_tar_gz "$WORK/archive-$ver" "$top" "$WORK/$base.tar.gz"
    [[ $(tar -tzf "$WORK/$base.tar.gz" | sort) == "$(printf '%s\n' "$top/" "$top/README-STAND-IN.txt" "$top/VERSION" \
        "$top/bin/" "$top/bin/grafana" "$top/conf/" "$top/conf/defaults.ini" "$top/public/" "$top/public/index.html" | sort)" ]] ||
        die "unexpected listing of $WORK/$base.tar.gz"

    if replace_if_changed "$WORK/$base.tar.gz" "$archive" "grafana stand-in v$ver archive" || [[ ! -s $archive.sha256 ]]; then
        # Written last, so a present .sha256 file means a complete archive.
        sha256sum "$archive" | cut -d' ' -f1 >"$archive.sha256.tmp"
        mv "$archive.sha256.tmp" "$archive.sha256"
    fi
    printf '%s %s\n' "$archive" "$(cat "$archive.sha256")"
}

# pack_deb VERSION: the package into $WORK/pool (compared with the published one later).
pack_deb() {
    local ver=$1
    local root="$WORK/deb-$ver" deb="$WORK/pool/grafana_${ver}_amd64.deb"

    stand_in_home "$root/usr/share/grafana" "$ver"
    install -D -m 0644 "$SRC/deb/grafana-server.service" "$root/usr/lib/systemd/system/grafana-server.service"
    install -D -m 0644 "$SRC/deb/grafana-server.default" "$root/etc/default/grafana-server"
    install -D -m 0755 "$SRC/deb/postinst" "$root/DEBIAN/postinst"
    printf '%s\n' /etc/default/grafana-server >"$root/DEBIAN/conffiles"
    cat >"$root/DEBIAN/control" <<EOF
Package: grafana
Version: $ver
Architecture: amd64
Maintainer: vmstack test bench <grafana-stand-in@vmstack.invalid>
Depends: python3
Section: misc
Priority: optional
Description: vmstack test bench STAND-IN for Grafana, NOT Grafana
 A small Python program that imitates the parts of Grafana the grafana role
 of the vmstack.monitoring collection relies on, packed in the layout of
 Grafana's own .deb (/usr/share/grafana, grafana-server.service) for the
 role's tests. It is not Grafana and does nothing useful anywhere else.
EOF
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
    find "$root" -type d -exec chmod 0755 {} +
    find "$root" -exec touch -h -d "@$STAND_IN_EPOCH" {} +
    mkdir -p "$WORK/pool"
    SOURCE_DATE_EPOCH=$STAND_IN_EPOCH run_quiet "dpkg-deb --build ($ver)" \
        dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb"
    [[ $(dpkg-deb --field "$deb" Package Version | tr '\n' ' ') == "Package: grafana Version: $ver " ]] ||
        die "unexpected control fields in $deb"
    [[ $(dpkg-deb --contents "$deb") == *" ./usr/share/grafana/bin/grafana"$'\n'* ]] ||
        die "$deb has no /usr/share/grafana/bin/grafana"
}

key_fingerprint() {
    gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}'
}

# ensure_signing_key: the throw-away key, made at the first run.
ensure_signing_key() {
    mkdir -p "$GNUPGHOME"
    chmod 0700 "$GNUPGHOME"
    [[ -n $(key_fingerprint) ]] && return
    step "generating the throw-away signing key in $GNUPGHOME"
    run_quiet "gpg --quick-generate-key" gpg --batch --pinentry-mode loopback --passphrase '' \
        --quick-generate-key "$KEY_UID" ed25519 sign never
}

# publish_repository FINGERPRINT BUILT_FROM: index and sign $WORK/pool as a new
# repository (BUILT_FROM recorded in it) and put it in place of the old one at once.
publish_repository() {
    local fingerprint=$1 built_from=$2 new="$WORK/repo"
    local dist="$new/dists/stable" index="$new/dists/stable/main/binary-amd64"
    mkdir -p "$new/$POOL_PATH" "$index"
    cp -p "$WORK"/pool/*.deb "$new/$POOL_PATH/"
    (cd "$new" && apt-ftparchive packages pool) >"$index/Packages"
    gzip -n -9 <"$index/Packages" >"$index/Packages.gz"
    # Release describes and hashes every index under dists/stable (written
    # beside it first, so that it does not list itself).
    apt-ftparchive \
        -o APT::FTPArchive::Release::Origin="vmstack test bench" \
        -o APT::FTPArchive::Release::Label="Grafana STAND-IN, not Grafana" \
        -o APT::FTPArchive::Release::Suite=stable \
        -o APT::FTPArchive::Release::Codename=stable \
        -o APT::FTPArchive::Release::Architectures=amd64 \
        -o APT::FTPArchive::Release::Components=main \
        -o APT::FTPArchive::Release::Description="The vmstack test bench's STAND-IN packages for Grafana (not Grafana)" \
        release "$dist" >"$WORK/Release"
    mv "$WORK/Release" "$dist/Release"
    run_quiet "gpg --clearsign" gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 \
        --clearsign --output "$dist/InRelease" "$dist/Release"
    run_quiet "gpg --detach-sign" gpg --batch --yes --local-user "$fingerprint" --digest-algo SHA512 \
        --armor --detach-sign --output "$dist/Release.gpg" "$dist/Release"
    gpg --batch --armor --export "$fingerprint" >"$new/gpg.key"
    # The signatures must check with nothing but the published key, as apt does.
    gpg --batch --dearmor <"$new/gpg.key" >"$WORK/keyring.gpg"
    run_quiet "gpgv InRelease" gpgv --keyring "$WORK/keyring.gpg" "$dist/InRelease"
    run_quiet "gpgv Release.gpg" gpgv --keyring "$WORK/keyring.gpg" "$dist/Release.gpg" "$dist/Release"
    printf '%s\n' "$built_from" >"$new/.vmstack-built-from"

    rm -rf "$REPO.old"
    if [[ -e $REPO ]]; then
        mv "$REPO" "$REPO.old"
    fi
    mv "$new" "$REPO"
    rm -rf "$REPO.old"
}

for ver in "${VERSIONS[@]}"; do
    pack_archive "$ver"
done

for ver in "${VERSIONS[@]}"; do
    pack_deb "$ver"
done
ensure_signing_key
fingerprint=$(key_fingerprint)
# What the published repository was made from: the packages' bytes, the key
# and this script (which holds the Release fields).
built_from="$(cd "$WORK/pool" && sha256sum -- *.deb) key $fingerprint script $(file_sha256 "${BASH_SOURCE[0]}")"
if [[ $(cat "$REPO/.vmstack-built-from" 2>/dev/null) == "$built_from" && -s $REPO/dists/stable/InRelease ]]; then
    for ver in "${VERSIONS[@]}"; do
        step "grafana stand-in v$ver package: unchanged"
    done
else
    step "grafana stand-in APT repository: packing $REPO (${VERSIONS[*]})"
    publish_repository "$fingerprint" "$built_from"
fi
printf '%s %s\n' "$REPO" "key $fingerprint"
