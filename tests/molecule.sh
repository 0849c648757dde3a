#!/usr/bin/env bash
# Run Molecule scenarios against the local test bench.
#
#   tests/molecule.sh [SCENARIO...]     (default: every scenario under molecule/)
#
# Needs the bench: tests/bench/setup-machine.sh, build-image.sh and
# build-artifacts.sh (tools/test runs them all). JUnit reports land in
# $VMSTACK_REPORTS so tools/test can count the tests.
set -euo pipefail
# shellcheck source=tests/bench/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/env.sh"

export VMSTACK_REPORTS="${VMSTACK_REPORTS:-$VMSTACK_CACHE/reports}"
mkdir -p "$VMSTACK_REPORTS"

# The roles use FQCNs (vmstack.monitoring.*): make this checkout the installed collection.
mkdir -p "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack"
ln -sfn "$VMSTACK_REPO" "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack/monitoring"
export ANSIBLE_COLLECTIONS_PATH="$VMSTACK_COLLECTIONS_PATH"

# The "mirror URL" install mode is served from the local artifacts.
"$VMSTACK_REPO/tests/bench/serve-artifacts.sh" start >/dev/null
VMSTACK_MIRROR_URL="$("$VMSTACK_REPO/tests/bench/serve-artifacts.sh" url)"
export VMSTACK_MIRROR_URL

# shellcheck source=/dev/null
source "$VMSTACK_VENV/bin/activate"
cd "$VMSTACK_REPO"

if (($# == 0)); then
    mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
else
    scenarios=("$@")
fi

failed=0
for scenario in "${scenarios[@]}"; do
    echo "==> molecule test -s $scenario"
    start=$SECONDS
    if VMSTACK_JUNIT="$VMSTACK_REPORTS/molecule-$scenario.xml" molecule test -s "$scenario"; then
        echo "==> $scenario passed in $((SECONDS - start)) s"
    else
        echo "==> $scenario FAILED after $((SECONDS - start)) s"
        failed=1
    fi
done
exit "$failed"
