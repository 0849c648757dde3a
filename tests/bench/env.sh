# shellcheck shell=bash
# Test-bench environment: source this file (bash) before running Molecule or
# the bench scripts by hand:
#
#     source tests/bench/env.sh
#
# It only sets variables (no output, no side effects), and every value can be
# overridden by exporting it before sourcing.

VMSTACK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export VMSTACK_REPO

# Podman settings the test VMs need (ulimits, runc, netavark).
export CONTAINERS_CONF="${CONTAINERS_CONF:-$VMSTACK_REPO/tests/bench/containers.conf}"

# Caches that survive between runs (rootfs tarball, .debs, artifacts, server state).
export VMSTACK_CACHE="${VMSTACK_CACHE:-$HOME/.cache/vmstack-test}"
# Local release artifacts in the upstream layout (see build-artifacts.sh).
export VMSTACK_ARTIFACTS="${VMSTACK_ARTIFACTS:-$VMSTACK_CACHE/artifacts}"
# Where this checkout is linked as the installed collection vmstack.monitoring
# (the roles use FQCNs). One per checkout, so that two checkouts on one machine
# never test each other's code.
VMSTACK_COLLECTIONS_PATH="${VMSTACK_COLLECTIONS_PATH:-$VMSTACK_CACHE/collections/$(printf '%s' "$VMSTACK_REPO" | sha256sum | cut -c1-12)}"
export VMSTACK_COLLECTIONS_PATH
# Python virtualenv with Molecule, ansible-core, testinfra, linters: one per
# content of requirements-dev.txt, in the cache, so that a fresh clone (CI's)
# finds the one its pins name already built, and a clone with other pins
# gets its own.
VMSTACK_VENV="${VMSTACK_VENV:-$VMSTACK_CACHE/venvs/dev-$(sha256sum <"$VMSTACK_REPO/requirements-dev.txt" | cut -c1-12)}"
export VMSTACK_VENV
# The systemd test-host image (see build-image.sh).
export VMSTACK_IMAGE="${VMSTACK_IMAGE:-localhost/vmstack-test:bookworm}"
# The same recipe on Debian 13 (build-image.sh --suite trixie): the `stack`
# scenario runs on it, every other scenario on Debian 12.
export VMSTACK_IMAGE_TRIXIE="${VMSTACK_IMAGE_TRIXIE:-localhost/vmstack-test:trixie}"

# Shared read-only inputs beside the checkouts: real binaries of the current
# releases (vm-releases/, debian-current/) and the scrape-config corpus.
VMSTACK_SHARED="${VMSTACK_SHARED:-$(dirname "$VMSTACK_REPO")/shared}"
export VMSTACK_SHARED

# Versions of the artifacts build-artifacts.sh makes: "OLD" from Debian 12
# (bookworm), "NEW" from Debian 13 (trixie), "CURRENT" the newest releases
# (from $VMSTACK_SHARED).  Upstream version numbers.
export VMSTACK_VM_VERSION_OLD=1.79.5
export VMSTACK_VM_VERSION_NEW=1.112.0
export VMSTACK_VM_VERSION_CURRENT=1.150.0
export VMSTACK_ALERTMANAGER_VERSION_OLD=0.25.0
export VMSTACK_ALERTMANAGER_VERSION_NEW=0.28.1
export VMSTACK_ALERTMANAGER_VERSION_CURRENT=0.33.1
export VMSTACK_NODE_EXPORTER_VERSION_OLD=1.5.0
export VMSTACK_NODE_EXPORTER_VERSION_NEW=1.9.0
export VMSTACK_NODE_EXPORTER_VERSION_CURRENT=1.11.1
