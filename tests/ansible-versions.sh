#!/usr/bin/env bash
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
#
# Prove the collection on every ansible-core release that meta/runtime.yml
# declares and that is older than the main venv's (which tools/test covers):
#
#   tests/ansible-versions.sh              # every release with a requirements file
#   tests/ansible-versions.sh 2.17 2.18    # only these
#
# For each release R (tests/ansible-versions/requirements-R.txt, exact pins):
#   1. a venv $VMSTACK_CACHE/ansible-versions/venv-R, built once and rebuilt only
#      when the requirements file or the Python version changes (stamp);
#   2. the unit tests (JUnit report $VMSTACK_REPORTS/unit-R.xml), for the
#      oldest release only when no release is named: the releases between it
#      and the main venv's share its module and plugin APIs, and the unit
#      tests are the costliest step (2-3 min each beside Molecule in CI);
#   3. ansible-test sanity through tests/sanity.sh with that venv's tools, so
#      tests/sanity/ignore-R.txt applies (report $VMSTACK_REPORTS/sanity-R.xml);
#      pylint, three quarters of its time, for the oldest release only when no
#      release is named (the main venv's sanity runs the newest pylint): the
#      releases between run pylint versions between those two on the same code.
# With the oldest release, it also converges playbooks/setup.yml on one fresh
# Podman host over SSH (tests/ansible-versions/converge.py; report
# $VMSTACK_REPORTS/converge-R.xml; needs the test image and the artifacts).
#
# Ends with "ansible-versions: N passed, N failed" and exits 1 when anything failed.
# Environment: VMSTACK_REPORTS (default: $VMSTACK_CACHE/reports), VMSTACK_PYTHON
# (default /usr/bin/python3, as the main venv), VMSTACK_CONVERGE_OLDEST=0 skips
# the converge.
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/lib.sh"

versions_dir=$VMSTACK_REPO/tests/ansible-versions
export VMSTACK_REPORTS="${VMSTACK_REPORTS:-$VMSTACK_CACHE/reports}"
mkdir -p "$VMSTACK_REPORTS" "$VMSTACK_CACHE/ansible-versions"
python=${VMSTACK_PYTHON:-/usr/bin/python3}

all_releases() {
    find "$versions_dir" -maxdepth 1 -name 'requirements-*.txt' -printf '%f\n' |
        sed -e 's/^requirements-//' -e 's/\.txt$//' | sort -V
}

# ensure_venv RELEASE: the venv's directory, (re)built when its stamp is stale.
# A lock, because every engineer on the machine shares $VMSTACK_CACHE.
ensure_venv() {
    local release=$1 requirements venv stamp want
    requirements=$versions_dir/requirements-$release.txt
    venv=$VMSTACK_CACHE/ansible-versions/venv-$release
    stamp=$venv/.vmstack-requirements.stamp
    want="$(file_sha256 "$requirements") python-$("$python" -c 'import platform; print(platform.python_version())')"
    (
        flock 9
        if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
            exit 0
        fi
        step "ansible-core $release: building $venv" >&2
        run_quiet "python -m venv" "$python" -m venv --clear "$venv"
        run_quiet "pip install" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-input -r "$requirements"
        run_quiet "pip check" "$venv/bin/python" -m pip check
        printf '%s\n' "$want" >"$stamp"
    ) 9>"$venv.lock"
    printf '%s\n' "$venv"
}

# junit_one NAME STATUS: a one-test JUnit report for a step without its own.
junit_one() {
    local failure=''
    [[ $2 == pass ]] || failure='<failure message="see the log above"/>'
    printf '<testsuite name="%s" tests="1" failures="%d" errors="0" skipped="0"><testcase classname="%s" name="%s">%s</testcase></testsuite>\n' \
        "$1" "$([[ $2 == pass ]] && echo 0 || echo 1)" "$1" "$1" "$failure" >"$VMSTACK_REPORTS/$1.xml"
}

failed_steps=()
# timed NAME COMMAND...: run one step, say how long it took, remember failures.
timed() {
    local name=$1 start=$SECONDS; shift
    step "$name"
    if "$@"; then
        step "$name: ok ($((SECONDS - start)) s)"
    else
        step "$name: FAILED ($((SECONDS - start)) s)"
        failed_steps+=("$name")
        return 1
    fi
}

unit_tests() {
    local release=$1 venv=$2
    (cd "$VMSTACK_REPO" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit \
        -o junit_suite_name="unit-$release" --junit-xml="$VMSTACK_REPORTS/unit-$release.xml")
}

sanity() {
    local release=$1 venv=$2 status=pass skip=()
    [[ $full_sanity_releases == *" $release "* ]] || skip=(--skip-test pylint)
    VENV=$venv ANSIBLE_TEST=$venv/bin/ansible-test ANSIBLE_DOC=$venv/bin/ansible-doc \
        "$VMSTACK_REPO/tests/sanity.sh" "${skip[@]}" || status=fail
    junit_one "sanity-$release" "$status"
    [[ $status == pass ]]
}

converge() {
    local release=$1 venv=$2
    # The roles use FQCNs: make this checkout the installed collection, as tests/molecule.sh does.
    mkdir -p "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack"
    ln -sfn "$VMSTACK_REPO" "$VMSTACK_COLLECTIONS_PATH/ansible_collections/vmstack/monitoring"
    # Services started with timeouts: at normal priority even where the
    # caller lowered its own (tools/test, beside Molecule).
    nice -n "$((-$(nice)))" "$python" "$versions_dir/converge.py" --ansible-bin "$venv/bin" --release "$release" \
        --junit "$VMSTACK_REPORTS/converge-$release.xml" --logs "$VMSTACK_CACHE/ansible-versions/converge-$release-logs"
}

mapfile -t declared < <(all_releases)
if (($#)); then releases=("$@"); else releases=("${declared[@]}"); fi
oldest=${declared[0]}
unit_releases=" ${*:-$oldest} "
full_sanity_releases=$unit_releases

for release in "${releases[@]}"; do
    [[ -f $versions_dir/requirements-$release.txt ]] ||
        die "no $versions_dir/requirements-$release.txt (releases: ${declared[*]})"
    # A step that dies before writing its report must not be counted from an old one.
    rm -f "$VMSTACK_REPORTS/unit-$release.xml" "$VMSTACK_REPORTS/sanity-$release.xml" "$VMSTACK_REPORTS/converge-$release.xml"
    venv_start=$SECONDS
    venv=$(ensure_venv "$release")
    step "ansible-core $release: venv ready ($((SECONDS - venv_start)) s): $("$venv/bin/ansible" --version | head -n1)"
    if [[ $unit_releases == *" $release "* ]]; then
        timed "unit tests, ansible-core $release" unit_tests "$release" "$venv" || true
    fi
    timed "sanity, ansible-core $release" sanity "$release" "$venv" || true
    if [[ $release == "$oldest" && ${VMSTACK_CONVERGE_OLDEST:-1} != 0 ]]; then
        timed "converge, ansible-core $release" converge "$release" "$venv" || true
    fi
done

# Count the test cases of this script's reports, the way tools/test counts them.
reports=()
for release in "${releases[@]}"; do
    for kind in unit sanity converge; do
        [[ -f $VMSTACK_REPORTS/$kind-$release.xml ]] && reports+=("$VMSTACK_REPORTS/$kind-$release.xml")
    done
done
"$python" - "${reports[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = 0
for report in sys.argv[1:]:
    root = ET.parse(report).getroot()
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        passed += int(suite.get("tests", 0)) - int(suite.get("skipped", 0)) - bad
        failed += bad
print(f"ansible-versions: {passed} passed, {failed} failed")
PY
step "done in $(elapsed)"
if ((${#failed_steps[@]})); then
    echo "failed: ${failed_steps[*]}"
    exit 1
fi
