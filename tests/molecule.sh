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

# Leftovers of an interrupted run: the scenarios' containers and networks, and
# aardvark-dns's record of each network. A record left by containers that were
# never torn down keeps the old gateway when the network is made again, and
# the new containers then cannot resolve each other's names.
# VMSTACK_KEEP_LEFTOVERS=1 skips this where other runs share the machine.
if [[ ${VMSTACK_KEEP_LEFTOVERS:-0} != 1 ]]; then
    podman ps -a --format '{{.Names}}' | { grep -E '^vmstack-' || true; } | xargs -r podman rm -f -t 0 >/dev/null
    podman network ls --format '{{.Name}}' | { grep -E '^vmstack-' || true; } | xargs -r podman network rm -f >/dev/null
    if [[ -z $(podman ps -q) ]]; then
        pkill -x aardvark-dns || true
        rm -f /run/containers/networks/aardvark-dns/*
    fi
fi

# The "mirror URL" install mode is served from the local artifacts.
"$VMSTACK_REPO/tests/bench/serve-artifacts.sh" start >/dev/null
VMSTACK_MIRROR_URL="$("$VMSTACK_REPO/tests/bench/serve-artifacts.sh" url)"
export VMSTACK_MIRROR_URL

# shellcheck source=/dev/null
source "$VMSTACK_VENV/bin/activate"
cd "$VMSTACK_REPO"

# Ansible sees only the collections the scenarios use: this checkout and
# containers.podman (Molecule's Podman driver requires it), not the ~50 of the
# `ansible` package in the venv. Under Mitogen each run of a module from a
# collection lists every collection Ansible sees, reading each one's
# meta/runtime.yml: about 2 s of controller CPU per run of setup.yml.
ln -sfn "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/containers" \
    "$VMSTACK_COLLECTIONS_PATH/ansible_collections/containers"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False

# Every scenario runs under Mitogen's strategy (pinned in requirements-dev.txt),
# except those named in VMSTACK_STOCK_SCENARIOS (default: stack): they converge
# and prove idempotence with Ansible's own strategy (stack over OpenSSH with
# pipelining, its molecule.yml: the path most users have), so that the stock
# path stays proven, while their tests' own playbook runs
# (stacktest.run_playbook) use Mitogen.
# VMSTACK_STRATEGY=linear runs everything the stock way.
stock_scenarios=" ${VMSTACK_STOCK_SCENARIOS-stack} "
mitogen_strategies="$(python -c 'import ansible_mitogen, pathlib; print(pathlib.Path(ansible_mitogen.__file__).parent / "plugins" / "strategy")')"
strategy_env() {
    local mitogen="ANSIBLE_STRATEGY_PLUGINS=$mitogen_strategies VMSTACK_TEST_STRATEGY=mitogen_linear"
    mitogen+=" PATH=$VMSTACK_REPO/tests/bench/mitogen:$PATH"
    if [[ ${VMSTACK_STRATEGY:-mitogen} == linear ]]; then
        echo ANSIBLE_STRATEGY=linear
    elif [[ $stock_scenarios == *" $1 "* ]]; then
        echo "ANSIBLE_STRATEGY=linear $mitogen"
    else
        echo "ANSIBLE_STRATEGY=mitogen_linear $mitogen"
    fi
}

# Scenarios share no hosts, so VMSTACK_MOLECULE_JOBS of them (default 2) run
# side by side, the longest first; each one's output goes to its own log,
# printed (the end of it) only when it fails.
LONGEST_FIRST=(stack cluster backup stack_multi vmauth grafana victoria_metrics reliability vmalert alertmanager promoter preflight)
if (($# == 0)); then
    mapfile -t found < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
    scenarios=()
    for scenario in "${LONGEST_FIRST[@]}"; do
        [[ " ${found[*]} " == *" $scenario "* ]] && scenarios+=("$scenario")
    done
    for scenario in "${found[@]}"; do
        [[ " ${LONGEST_FIRST[*]} " == *" $scenario "* ]] || scenarios+=("$scenario")
    done
else
    scenarios=("$@")
fi
jobs=${VMSTACK_MOLECULE_JOBS:-2}

# Scenarios that need real binaries no registry carries, read from
# $VMSTACK_SHARED (never copied into the project): skipped, saying so, without them.
missing_input() {
    case $1 in
        vmauth)
            [[ -d $VMSTACK_SHARED/vm-releases/VictoriaMetrics/v1.150.0-cluster ]] \
                || echo "$VMSTACK_SHARED/vm-releases/VictoriaMetrics/v1.150.0-cluster"
            ;;
        cluster)
            local version
            for version in 1.112.0 1.150.0; do
                [[ -d $VMSTACK_SHARED/vm-releases/VictoriaMetrics/v$version-cluster ]] \
                    || echo "$VMSTACK_SHARED/vm-releases/VictoriaMetrics/v$version-cluster"
            done
            ;;
    esac
}

run_scenario() {
    local scenario=$1 start=$SECONDS log="$VMSTACK_REPORTS/molecule-$1.log" missing
    missing=$(missing_input "$scenario")
    if [[ -n $missing ]]; then
        echo "==> $scenario SKIPPED: it needs the real cluster binaries in $missing (see ../shared/vm-releases/README.md)"
        return 0
    fi
    # shellcheck disable=SC2046 # strategy_env prints NAME=VALUE words for env
    if env $(strategy_env "$scenario") VMSTACK_JUNIT="$VMSTACK_REPORTS/molecule-$scenario.xml" \
        molecule test -s "$scenario" >"$log" 2>&1 </dev/null; then
        echo "==> $scenario passed in $((SECONDS - start)) s ($(strategy_env "$scenario" | cut -d' ' -f1))"
    else
        echo "==> $scenario FAILED after $((SECONDS - start)) s; the end of $log:"
        tail -n 300 "$log"
        return 1
    fi
}

failed=0
declare -A running=()
for scenario in "${scenarios[@]}"; do
    while ((${#running[@]} >= jobs)); do
        wait -n -p finished || failed=1
        unset "running[$finished]"
    done
    echo "==> molecule test -s $scenario"
    run_scenario "$scenario" &
    running[$!]=$scenario
done
while ((${#running[@]})); do
    wait -n -p finished || failed=1
    unset "running[$finished]"
done
exit "$failed"
