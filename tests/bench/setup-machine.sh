#!/usr/bin/env bash
# Prepare a bare Debian 12 machine (as root) for the Molecule tests:
#   1. apt packages: Podman and what it needs to boot systemd containers,
#      debootstrap for the image, and the controller-side checkers (promtool
#      from prometheus, amtool from prometheus-alertmanager, the
#      VictoriaMetrics binaries from victoria-metrics; apt-ftparchive and gpg
#      for the Grafana stand-in's APT repository);
#   2. a Python virtualenv ($VMSTACK_VENV, env.sh) with the exact
#      pins of requirements-dev.txt (Molecule, ansible, testinfra, linters).
#
# Idempotent and fast when already done: installed packages are not looked up
# again (no apt-get update), and the venv is skipped while its stamp matches
# the hash of requirements-dev.txt and the Python version.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root

# --- 1. apt packages ---------------------------------------------------------
# podman runc ...          rootful Podman with systemd containers; runc because
#                          crun refuses hybrid cgroups (see containers.conf)
# iptables                 netavark's bridge networks need it (podman only
#                          suggests it; without it "netavark: No such file")
# debootstrap              builds the test image (build-image.sh)
# curl ca-certificates     health checks and serve-artifacts.sh
# python3 python3-venv     the virtualenv below
# prometheus               promtool (promtool check rules / test rules)
# prometheus-alertmanager  amtool check-config
# victoria-metrics         vmalert -dryRun, vmagent -dryRun, etc. on the controller
# apt-utils gpg            apt-ftparchive and the signatures of the Grafana
#                          stand-in's APT repository (build-grafana-stand-in.sh)
PACKAGES=(
    podman runc uidmap fuse-overlayfs slirp4netns netavark aardvark-dns iptables
    debootstrap curl ca-certificates python3 python3-venv
    prometheus prometheus-alertmanager victoria-metrics
    apt-utils gpg
)

# The three server packages would start their daemons on install; only their
# binaries are wanted here.  A policy-rc.d that forbids starting services is
# put in place for the install if the machine has none (Debian's docker-style
# images already have one).
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\n# vmstack bench: do not start services during package installs\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    trap 'rm -f "$POLICY"' EXIT
fi
apt_install "${PACKAGES[@]}"
step "apt packages present"

# Podman must pick up the bench settings (runc, ulimits, netavark).
runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null) ||
    die "podman info failed with CONTAINERS_CONF=$CONTAINERS_CONF"
[[ $runtime == runc ]] || die "podman uses '$runtime', expected runc (CONTAINERS_CONF=$CONTAINERS_CONF)"
step "podman $(podman version --format '{{.Client.Version}}') with runc"

# --- 2. Python virtualenv ----------------------------------------------------
# Debian's python3 (3.11 on bookworm) rather than whatever "python3" is first
# in PATH, so the venv is the same on every machine; override with VMSTACK_PYTHON.
PYTHON=${VMSTACK_PYTHON:-/usr/bin/python3}
REQS=$VMSTACK_REPO/requirements-dev.txt
VENV=$VMSTACK_VENV
STAMP=$VENV/.vmstack-requirements.stamp

[[ -f $REQS ]] || die "$REQS not found"
py_version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
want_stamp="$(file_sha256 "$REQS") python-$py_version"

# A lock: clones with the same pins share the venv ($VMSTACK_VENV, env.sh).
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want_stamp" ]] &&
    "$VENV/bin/python" -c 'import ansible, molecule, testinfra' 2>/dev/null; then
    step "virtualenv $VENV is up to date, skipped"
else
    # A venv made by another Python (version or path) is rebuilt from scratch.
    venv_version=$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)
    if [[ $venv_version != "$py_version" ]]; then
        step "creating virtualenv $VENV (Python $py_version)"
        run_quiet "python3 -m venv" "$PYTHON" -m venv --clear "$VENV"
    fi
    step "installing requirements-dev.txt into $VENV"
    rm -f "$STAMP"
    run_quiet "pip install" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$REQS"
    run_quiet "pip check" "$VENV/bin/python" -m pip check

    # Check that the tools start the way the tests run them: with the venv's
    # bin first in PATH (molecule calls ansible-config & co. by name), and
    # outside the repo so that no cache directory lands in the work tree.
    (
        export PATH="$VENV/bin:$PATH"
        cd "$VENV"
        run_quiet "molecule --version" molecule --version
        run_quiet "molecule's podman driver" sh -c 'molecule drivers | grep -qw podman'
        run_quiet "the containers.podman collection" ansible-doc -t connection containers.podman.podman
    )
    printf '%s\n' "$want_stamp" >"$STAMP"
fi
exec 9>&-
step "venv tools: $("$VENV/bin/python" -c '
import importlib.metadata as m
print(", ".join(p + " " + m.version(p) for p in ("ansible-core", "ansible", "molecule", "pytest-testinfra")))')"

step "machine ready in $(elapsed); use it with:"
printf '    source %s/tests/bench/env.sh && source %s/bin/activate\n' "$VMSTACK_REPO" "$VENV"
