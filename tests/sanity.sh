#!/usr/bin/env bash
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
#
# Run `ansible-test sanity` on this repository with the local Python, no containers.
#
#   tests/sanity.sh                 # every sanity test on every file
#   tests/sanity.sh plugins/        # only files under plugins/
#   tests/sanity.sh --test pep8     # any other ansible-test sanity arguments
#
# ansible-test needs the collection at .../ansible_collections/vmstack/monitoring,
# so the work tree (tracked and new files, without .git) is copied into a
# temporary tree of that shape.  It then also checks that ansible-doc renders
# the scrape_config module and the validate_scrape_config filter.
#
# Environment: ANSIBLE_TEST and ANSIBLE_DOC (default: from PATH, or the venv at
# VENV=/tmp/venv), PYTHON_VERSION (default 3.11).
#
# Offline note: ansible-test puts each sanity test's requirements into its own
# virtualenv, pip-installing them from the package index, but first fetches a
# pip bootstrap script from ci-files.testing.ansible.com, which is not
# reachable here.  When that script is not already cached, this installs a
# stand-in at the cache path that bootstraps pip with the interpreter's own
# ensurepip and then installs the requested pip from the package index.  No
# sanity test is skipped.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-/tmp/venv}
python_version=${PYTHON_VERSION:-3.11}

find_tool() {
    local name=$1
    if [[ -x "$venv/bin/$name" ]]; then
        echo "$venv/bin/$name"
    elif command -v "$name" >/dev/null; then
        command -v "$name"
    else
        echo "sanity.sh: cannot find $name (set VENV or put it on PATH)" >&2
        return 1
    fi
}

ansible_test=${ANSIBLE_TEST:-$(find_tool ansible-test)}
ansible_doc=${ANSIBLE_DOC:-$(find_tool ansible-doc)}

pinned_pip_version() {
    # ansible-test pins the pip it bootstraps; read the pin from its own code.
    local interpreter
    interpreter=$(head -n 1 "$ansible_test" | sed -e 's/^#!//' -e 's/^[^ ]*env //')
    "$interpreter" - <<'PY' 2>/dev/null || echo 24.2
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([^']+)'", source.read_text()).group(1))
PY
}

install_pip_bootstrap_stand_in() {
    local pip_version cache
    pip_version=$(pinned_pip_version)
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    [[ -f "$cache" ]] && return 0
    mkdir -p "$(dirname "$cache")"
    cat > "$cache" <<'PY'
# Stand-in for ansible-test's pip bootstrap script, written by vmstack.monitoring's
# tests/sanity.sh because the script's download host is not reachable: bootstrap
# pip with ensurepip, then install the requested pip from the package index.
import subprocess
import sys

BOOTSTRAP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}
arguments = [argument for argument in sys.argv[1:] if argument not in BOOTSTRAP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments])
PY
    echo "sanity.sh: installed a pip bootstrap stand-in at $cache"
}

copy_work_tree() {
    local destination=$1
    mkdir -p "$destination"
    # Tracked and untracked-but-not-ignored files, so that new files are checked too.
    (cd "$repo_root" && git ls-files --cached --others --exclude-standard -z \
        | while IFS= read -r -d '' path; do [[ -e "$path" ]] && printf '%s\0' "$path"; done \
        | tar --null -T - -cf -) | tar -xf - -C "$destination"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
collection="$work/ansible_collections/vmstack/monitoring"
copy_work_tree "$collection"
install_pip_bootstrap_stand_in

status=0
(cd "$collection" && "$ansible_test" sanity --python "$python_version" --local --color no "$@") || status=$?

for plugin in "module vmstack.monitoring.scrape_config" "filter vmstack.monitoring.validate_scrape_config"; do
    read -r plugin_type plugin_name <<<"$plugin"
    if ! ANSIBLE_COLLECTIONS_PATH="$work" "$ansible_doc" -t "$plugin_type" "$plugin_name" >/dev/null; then
        echo "sanity.sh: ansible-doc -t $plugin_type $plugin_name does not render" >&2
        status=1
    fi
done
exit "$status"
