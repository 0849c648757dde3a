#!/usr/bin/env bash
# Benchmark (prints figures; not a test): converge wall time, idempotent re-run
# wall time and task count on one fresh test host.
#
#   tests/bench/bench-converge.sh victoria_metrics    one role
#   tests/bench/bench-converge.sh stack               playbooks/setup.yml, whole single-node stack
#
# Transport: Ansible's containers.podman.podman connection (one `podman exec`
# and a file copy per module, no pipelining); over SSH with pipelining the same
# plays take noticeably less (see ../shared/reference/test-hosts.md).
# Release archives come from the local artifacts directory (offline mode).
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
target=${1:-victoria_metrics}
name="vmstack-bench-$$"
workdir=$(mktemp -d)
trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; rm -rf "$workdir"' EXIT

# shellcheck source=/dev/null
source "$VMSTACK_VENV/bin/activate"
export ANSIBLE_COLLECTIONS_PATH="$VMSTACK_COLLECTIONS_PATH"
mkdir -p "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack"
ln -sfn "$VMSTACK_REPO" "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack/monitoring"

if [[ $target == stack ]]; then
    groups=(node_exporter victoria_metrics alertmanager vmalert)
    playbook="$VMSTACK_REPO/playbooks/setup.yml"
else
    groups=("$target")
    playbook="$workdir/play.yml"
    printf -- '- name: Benchmark %s\n  hosts: %s\n  roles:\n    - role: vmstack.monitoring.%s\n' \
        "$target" "$target" "$target" >"$playbook"
fi
{
    echo "all:"
    echo "  vars: {ansible_connection: containers.podman.podman, ansible_python_interpreter: /usr/bin/python3,"
    echo "         vmstack_archive_source: local, vmstack_archive_dir: '$VMSTACK_ARTIFACTS',"
    echo "         vmstack_archive_cache_dir: '$workdir/cache'}"
    echo "  children:"
    for group in "${groups[@]}"; do echo "    $group: {hosts: {$name: {}}}"; done
} >"$workdir/inventory.yml"

podman run -d --name "$name" --systemd=always --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
    "$VMSTACK_IMAGE" /sbin/init >/dev/null
sleep 1

converge() {
    local log=$1 start end
    start=$(date +%s.%N)
    ansible-playbook -i "$workdir/inventory.yml" "$playbook" >"$log" 2>&1 || { tail -n 40 "$log"; die "converge failed"; }
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.1f}')"
}
first=$(converge "$workdir/first.log")
second=$(converge "$workdir/second.log")
tasks=$(grep -c '^TASK \[' "$workdir/first.log")
changed_again=$(sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$workdir/second.log" | head -n1)
echo "target: $target (transport: podman connection, archives: local directory, controller cache cold)"
echo "converge on a fresh host:  ${first} s"
echo "idempotent re-run:         ${second} s (changed=${changed_again})"
echo "tasks executed (1st run):  ${tasks}"
