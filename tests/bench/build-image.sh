#!/usr/bin/env bash
# Build the systemd test-host image $VMSTACK_IMAGE (localhost/vmstack-test:bookworm)
# that Molecule's podman driver boots with /sbin/init as PID 1, or with
# --suite trixie the Debian 13 one, $VMSTACK_IMAGE_TRIXIE
# (localhost/vmstack-test:trixie), which the `stack` scenario runs on.
#
# No container registry is reachable here, so the image is made locally: a
# debootstrap'ed Debian rootfs, tarred and `podman import`ed.
#
# Caching:
#   - the image carries the label vmstack.bench.hash = a hash of this script;
#     when the image exists with the current hash, nothing is done;
#   - the finished rootfs tarball is kept in $VMSTACK_CACHE/rootfs/, so after a
#     `podman system reset` (or `podman rmi`) only the import (~5 s) is redone;
#   - debootstrap's .debs are kept in $VMSTACK_CACHE/debootstrap/ for rebuilds
#     after an edit of this script.
#
# Usage: build-image.sh [--suite bookworm|trixie] [--force] [--verify]
#   --suite   the Debian release of the image (default bookworm)
#   --force   rebuild the rootfs and re-import even if cached
#   --verify  boot-check the image even when nothing had to be built
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE=0 VERIFY=0 SUITE=bookworm
usage="usage: $(basename "$0") [--suite bookworm|trixie] [--force] [--verify]"
while (($#)); do
    case $1 in
        --force) FORCE=1 ;;
        --verify) VERIFY=1 ;;
        --suite) SUITE=${2:-}; shift ;;
        *) die "$usage" ;;
    esac
    shift
done
case $SUITE in
    bookworm) IMAGE=$VMSTACK_IMAGE ;;
    trixie) IMAGE=$VMSTACK_IMAGE_TRIXIE ;;
    *) die "$usage" ;;
esac

require_root
# iptables: netavark (podman's network backend) needs it for the bridge
# network ("netavark: No such file or directory" otherwise); Debian's podman
# only suggests it.
apt_install podman runc debootstrap uidmap fuse-overlayfs slirp4netns netavark aardvark-dns iptables

# The same recipe for both suites; the suite is part of the hash so that one
# image's label never matches the other's.
HASH=$({ cat "${BASH_SOURCE[0]}"; echo "$SUITE"; } | sha256sum | cut -c1-16)
LABEL=vmstack.bench.hash
ROOTFS_DIR=$VMSTACK_CACHE/rootfs
TARBALL=$ROOTFS_DIR/$SUITE-$HASH.tar

# Packages of the test hosts, on top of debootstrap's minbase (which already
# has tar, gzip, passwd/useradd, coreutils, findutils, grep, sed):
#   systemd systemd-sysv dbus   real init + systemctl/journalctl/systemd-analyze
#   python3 python3-apt         Ansible modules (apt, package_facts, ...)
#   sudo acl                    become, incl. become_user to an unprivileged
#                               user (Ansible then needs setfacl)
#   iproute2 procps             ss/ip and ps/pgrep for testinfra checks
#   curl ca-certificates        HTTP health checks; HTTPS downloads
#   tzdata                      zoneinfo for Go binaries (alertmanager time zones)
#   openssh-server              optional SSH transport; installed but disabled
PACKAGES=(systemd systemd-sysv dbus python3 python3-apt sudo acl iproute2 procps
    curl ca-certificates tzdata openssh-server)

# Units that are useless or harmful in a throw-away container: no consoles to
# log in on, no hardware, and no background apt/maintenance jobs that could
# grab the dpkg lock or use CPU in the middle of a test.
MASK_UNITS=(
    getty.target console-getty.service getty@.service serial-getty@.service
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
    systemd-udev-trigger.service systemd-udev-settle.service
    systemd-firstboot.service
    apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
    sys-fs-fuse-connections.mount dev-hugepages.mount
)

# Whatever is half-done when the script exits: a check container, a rootfs.
CHECK_CONTAINER="" ROOTFS=""
cleanup() {
    if [[ -n $CHECK_CONTAINER ]]; then
        podman rm -f -t 0 "$CHECK_CONTAINER" >/dev/null 2>&1 || true
    fi
    if [[ -n $ROOTFS && -d $ROOTFS ]]; then
        # On failure debootstrap may leave proc/sys mounted inside the rootfs:
        # unmount first, and never let rm cross into another filesystem.
        grep -F " $ROOTFS/" /proc/mounts | cut -d' ' -f2 | sort -r |
            xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf --one-file-system "$ROOTFS"
    fi
}
trap cleanup EXIT

image_hash() {
    podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Boot check: systemd must reach "running" (or "degraded") in the container.
verify_boot() {
    local name="vmstack-image-check-$$" state="" t0=$SECONDS
    step "verifying: booting $IMAGE with systemd"
    CHECK_CONTAINER=$name
    run_quiet "podman run" podman run -d --name "$name" --systemd=always "$IMAGE" /sbin/init
    for _ in $(seq 1 120); do
        state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
        [[ $state == running || $state == degraded ]] && break
        sleep 0.5
    done
    case $state in
        running) ;;
        degraded)
            warn "systemd is degraded in the test image; failed units:"
            podman exec "$name" systemctl --failed --no-legend --plain >&2 || true
            ;;
        *)
            podman logs "$name" 2>&1 | tail -n 40 >&2 || true
            die "systemd did not finish booting in $IMAGE (state: '${state:-none}')"
            ;;
    esac
    local boot
    boot=$(podman exec "$name" systemd-analyze time 2>/dev/null | head -n1 || true)
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
    CHECK_CONTAINER=""
    step "verified: systemd $state in $((SECONDS - t0)) s (${boot:-no systemd-analyze output})"
}

# ---------------------------------------------------------------------------
if ((FORCE == 0)) && [[ $(image_hash) == "$HASH" ]]; then
    step "image $IMAGE is up to date (hash $HASH), skipped"
    ((VERIFY)) && verify_boot
    exit 0
fi

mkdir -p "$ROOTFS_DIR" "$VMSTACK_CACHE/debootstrap"

if ((FORCE)) || [[ ! -s $TARBALL ]]; then
    ROOTFS=$(mktemp -d "$ROOTFS_DIR/build.XXXXXX")

    MIRROR=$(debian_mirror)
    step "debootstrap $SUITE (minbase) from $MIRROR"
    run_quiet debootstrap debootstrap --variant=minbase --merged-usr \
        --cache-dir="$VMSTACK_CACHE/debootstrap" \
        --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        "$SUITE" "$ROOTFS" "$MIRROR"

    step "configuring the rootfs"
    # An empty /etc/machine-id: systemd writes a new id into it on the first
    # boot of each container, so the test hosts do not share one.
    : >"$ROOTFS/etc/machine-id"
    rm -f "$ROOTFS/var/lib/dbus/machine-id"
    ln -s /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
    # Podman provides hostname, hosts and resolv.conf at run time.
    rm -f "$ROOTFS/etc/hostname"

    run_quiet "systemctl mask" systemctl --root="$ROOTFS" mask "${MASK_UNITS[@]}"
    # sshd is there for an optional SSH transport only; off unless a test
    # enables it (systemctl enable --now ssh).
    run_quiet "systemctl disable ssh" systemctl --root="$ROOTFS" disable ssh.service

    # Debian's alertmanager is built without its embedded assets: it reads
    # its notification templates from this directory and, without them,
    # exits ("failed to parse templates: open .../default.tmpl" and then
    # ".../email.tmpl").  Take only these two files from bookworm's package;
    # the package itself is not installed in the image.
    deb=$(compgen -G "$VMSTACK_CACHE/debs/$SUITE/prometheus-alertmanager_*_amd64.deb" | sort -V | tail -n1 || true)
    if [[ -z $deb ]]; then
        private_apt "$SUITE"
        mkdir -p "$VMSTACK_CACHE/debs/$SUITE"
        (cd "$VMSTACK_CACHE/debs/$SUITE" &&
            run_quiet "apt-get download prometheus-alertmanager" papt "$SUITE" apt-get download -q prometheus-alertmanager)
        deb=$(compgen -G "$VMSTACK_CACHE/debs/$SUITE/prometheus-alertmanager_*_amd64.deb" | sort -V | tail -n1)
    fi
    step "adding alertmanager's default.tmpl and email.tmpl from $(basename "$deb")"
    tmpl_dir=$(mktemp -d)
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmpl_dir" \
        ./usr/share/prometheus/alertmanager/default.tmpl ./usr/share/prometheus/alertmanager/email.tmpl
    for f in default.tmpl email.tmpl; do
        install -D -m 0644 "$tmpl_dir/usr/share/prometheus/alertmanager/$f" \
            "$ROOTFS/usr/share/prometheus/alertmanager/$f"
    done
    rm -rf "$tmpl_dir"

    # Smaller image: downloaded .debs and apt's binary caches are not needed
    # (debootstrap keeps its own copy in the cache dir); the package lists
    # stay, so `apt-get install` works in a test host without an update.
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
        "$ROOTFS"/var/log/apt/* "$ROOTFS"/var/log/dpkg.log "$ROOTFS"/var/log/alternatives.log

    step "packing the rootfs to $TARBALL"
    rm -f "$ROOTFS_DIR/$SUITE"-*.tar   # older builds of this script
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOTFS" -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    cleanup
    ROOTFS=""
else
    step "using the cached rootfs $TARBALL"
fi

step "importing as $IMAGE"
run_quiet "podman import" podman import \
    --change 'CMD ["/sbin/init"]' \
    --change 'STOPSIGNAL=SIGRTMIN+3' \
    --change "LABEL $LABEL=$HASH" \
    "$TARBALL" "$IMAGE"
# Earlier builds are now untagged: drop those that no container uses any more
# (only images with our label; prune never removes an image in use).
podman image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true

verify_boot
step "image $IMAGE ready (hash $HASH) in $(elapsed)"
