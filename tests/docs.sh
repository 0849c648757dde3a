#!/usr/bin/env bash
# What a Galaxy user gets, tested from the built tarball rather than the checkout:
#
#     tests/docs.sh
#
# Makes the docs venv from requirements-docs.txt if needed ($VMSTACK_DOCS_VENV),
# builds the collection tarball, installs it into an empty collections path and,
# from the installed copy only: runs the scrape config checker (tools/vmcheck and
# the vmstack.monitoring.check_scrape_config playbook) on a good and a bad config,
# renders ansible-doc for every plugin and role, lints the changelog (and checks that
# CHANGELOG.md is the one it generates), lints the plugin docs and builds the
# documentation site with warnings as errors.  Ends with "N passed, N failed";
# exits non-zero when a check failed.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/bench/env.sh
source "$repo_root/tests/bench/env.sh"
export VMSTACK_DOCS_VENV="${VMSTACK_DOCS_VENV:-$VMSTACK_CACHE/venv-docs}"
requirements="$repo_root/requirements-docs.txt"

passed=0
failed=0

# Run one check: its output goes to $work/logs/NAME.log and is shown only when it fails.
check() {
    local name=$1
    shift
    if "$@" >"$work/logs/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "PASSED $name"
    else
        failed=$((failed + 1))
        echo "FAILED $name"
        sed 's/^/    /' "$work/logs/$name.log" | tail -n 40
    fi
}

# The venv is remade when requirements-docs.txt changes; the stamp holds the file's hash.
ensure_docs_venv() {
    local stamp="$VMSTACK_DOCS_VENV/.requirements-docs.sha256" wanted
    wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        return 0
    fi
    echo "docs.sh: installing $requirements into $VMSTACK_DOCS_VENV"
    rm -rf "$VMSTACK_DOCS_VENV"
    python3 -m venv "$VMSTACK_DOCS_VENV" &&
        "$VMSTACK_DOCS_VENV/bin/pip" install --quiet --no-deps -r "$requirements" &&
        "$VMSTACK_DOCS_VENV/bin/pip" check &&
        echo "$wanted" >"$stamp"
}

# pip's output is kept in a log and shown only when the install fails.
install_docs_venv() {
    local log="$work/logs/docs-venv.log"
    ensure_docs_venv >"$log" 2>&1 || { grep -v "^WARNING: Location" "$log" | tail -n 40; return 1; }
}

# Expect a command to fail (exit 1..), and its output to say why ($1, a regex).
fails_saying() {
    local pattern=$1 output status
    shift
    output=$("$@" 2>&1)
    status=$?
    printf '%s\n' "$output"
    [[ $status -ne 0 ]] && grep -Eq -- "$pattern" <<<"$output"
}

write_samples() {
    mkdir -p "$work/samples"
    cat >"$work/samples/broken-inventory.yml" <<'EOF'
all:
  children:
    victoria_metrics:
      hosts:
        a.example.invalid: {victoria_metrics_port: abc, victoria_metrics_data_path: /var/lib}
    vmalert:
      hosts:
        b.example.invalid:
          vmalert_evaluation_interval: abc
          # An unclosed parenthesis: only vmalert's own parser finds it.
          vmalert_rule_groups: [{name: sums, rules: [{record: "job:x:sum", expr: "sum(rate(x[5m])"}]}]
    alertmanager:
      hosts:
        b.example.invalid:
          # A template that does not parse: only amtool finds it.
          alertmanager_templates: ["WORK/samples/broken.tmpl"]
EOF
    sed -i "s|WORK|$work|" "$work/samples/broken-inventory.yml"
    printf '{{ define "vmstack.title" }}{{ .CommonLabels.alertname\n' >"$work/samples/broken.tmpl"
    cat >"$work/samples/good.yml" <<'EOF'
global:
  scrape_interval: 30s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["node1.example.com:9100"]
EOF
    # evaluation_interval is Prometheus's; VictoriaMetrics' strict parser refuses it.
    cat >"$work/samples/bad.yml" <<'EOF'
global:
  scrape_interval: 30s
  evaluation_interval: 1m
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["node1.example.com:9100"]
EOF
}

# ansible-playbook runs the playbook from the installed collection by its FQCN, from the samples directory.
check_playbook() {
    (cd "$work/samples" && ansible-playbook vmstack.monitoring.check_scrape_config -e "vmstack_check_files=$1")
}

# vmstack.monitoring.validate touches no host: the example inventories name
# hosts that do not exist. The multi-host example takes its secrets from Vault
# and promoter's archive from the operator, as a CI job would pass them. The
# release archives, whose binaries check the configs on the controller, come
# from the bench's offline directory (a CI job would use a mirror or upstream).
validate() {
    ansible-playbook -i "$1" vmstack.monitoring.validate -e vmstack_archive_source=local \
        -e "vmstack_archive_dir=$VMSTACK_ARTIFACTS" -e "vmstack_archive_cache_dir=$work/archives" "${@:2}"
}
validate_multi_host() {
    validate "$installed/inventory/multi-host/hosts.yml" -e '{
        "vault_grafana_admin_password": "from-vault", "vault_promoter_dingtalk_api_token": "from-vault",
        "vault_promoter_dingtalk_api_secret": "from-vault", "vault_promoter_wechat_corp_id": "from-vault",
        "vault_promoter_wechat_api_secret": "from-vault", "vault_promoter_s3_access_key": "from-vault",
        "vault_promoter_s3_secret_key": "from-vault",
        "promoter_archive_source": "upstream",
        "promoter_archive_url": "https://downloads.example.invalid/promoter-0.2.3.linux-amd64.tar.gz",
        "promoter_archive_sha256": "0000000000000000000000000000000000000000000000000000000000000000"}'
}
# A broken inventory fails with every finding of every host at once.
validate_broken() {
    local output
    output=$(validate "$work/samples/broken-inventory.yml" 2>&1) && { echo "$output"; return 1; }
    printf '%s\n' "$output"
    grep -q "a.example.invalid: victoria_metrics_port is 'abc'" <<<"$output" &&
        grep -q "a.example.invalid: victoria_metrics_data_path '/var/lib' is a system directory" <<<"$output" &&
        grep -q "b.example.invalid: vmalert_evaluation_interval is 'abc'" <<<"$output" &&
        grep -q "b.example.invalid: vmalert-prod [0-9.]*, run on the controller, refuses /etc/vmalert/rules/inline-groups.yml (from vmalert_rule_groups): .*sum(rate(x\\[5m\\])" <<<"$output" &&
        grep -q "b.example.invalid: amtool [0-9.]*, run on the controller, refuses /etc/alertmanager/alertmanager.yml with its notification templates: template: broken.tmpl:2: unclosed action" <<<"$output"
}

# antsibull-docs writes the collection's pages beside docs/ (conf.py, index), then Sphinx
# builds the site; any warning fails.
build_docs_site() {
    local site="$work/site"
    cp -r "$repo_root/docs" "$site" &&
        chmod -R go-w "$site" &&
        antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --use-current --fail-on-error \
            --cleanup everything --dest-dir "$site/rst" vmstack.monitoring &&
        sphinx-build -W --keep-going -q -b html "$site/rst" "$site/build/html" -c "$site" &&
        test -s "$site/build/html/collections/vmstack/monitoring/index.html"
}

# The fragments waiting for the next release, and the releases so far.
lint_changelog() {
    (cd "$installed" && antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml)
}

# CHANGELOG.md is generated: regenerating it from changelogs/changelog.yaml must change nothing.
changelog_is_generated() {
    cp "$installed/CHANGELOG.md" "$work/CHANGELOG.shipped.md" &&
        (cd "$installed" && antsibull-changelog generate --is-collection --collection-namespace vmstack \
            --collection-name monitoring --no-collection-flatmap) &&
        diff -u "$work/CHANGELOG.shipped.md" "$installed/CHANGELOG.md"
}

# The installed copy must be the one every check uses, not a checkout linked elsewhere.
installed_from_tarball() {
    local listed
    listed=$(ansible-galaxy collection list vmstack.monitoring 2>&1)
    printf '%s\n' "$listed"
    grep -q "^# $work/collections/ansible_collections\$" <<<"$listed"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs" "$work/dist" "$work/collections"

if ! install_docs_venv; then
    echo "docs.sh: cannot install $requirements"
    echo "0 passed, 1 failed"
    exit 1
fi
export PATH="$VMSTACK_DOCS_VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

check build ansible-galaxy collection build --output-path "$work/dist" "$repo_root"
tarballs=("$work/dist"/vmstack-monitoring-*.tar.gz)
check install ansible-galaxy collection install --offline -p "$work/collections" "${tarballs[0]}"
installed="$work/collections/ansible_collections/vmstack/monitoring"
check installed-from-tarball installed_from_tarball

validate_cluster() {
    validate "$installed/inventory/cluster/hosts.yml" -e '{
        "vault_vmauth_stack_password": "from-vault", "vault_vmauth_team_a_password": "from-vault",
        "vault_vmauth_team_b_token": "from-vault"}'
}
write_samples
vmcheck="$installed/tools/vmcheck"
check vmcheck-good "$vmcheck" "$work/samples/good.yml"
check vmcheck-bad fails_saying 'bad.yml:3: .*evaluation_interval' "$vmcheck" "$work/samples/bad.yml"
check playbook-good check_playbook good.yml
check playbook-bad fails_saying 'bad.yml:3: .*evaluation_interval' \
    check_playbook good.yml,bad.yml

check validate-single-host validate "$installed/inventory/single-host/hosts.yml"
check validate-multi-host validate_multi_host
check validate-cluster validate_cluster
check validate-broken validate_broken

# The unit test that lists and renders every plugin and role, on the installed copy.
check ansible-doc env VMSTACK_TEST_COLLECTIONS_PATH="$work/collections" \
    python -m pytest -q -p no:cacheprovider "$repo_root/tests/unit/test_plugin_docs.py"

check changelog-lint lint_changelog
check changelog-generated changelog_is_generated
check collection-docs-lint antsibull-docs lint-collection-docs --plugin-docs "$installed"
check docs-site build_docs_site

echo "$passed passed, $failed failed"
# tools/test counts the checks from this report.
if [[ -n ${VMSTACK_REPORTS:-} ]]; then
    printf '<testsuite name="docs" tests="%d" failures="%d" errors="0" skipped="0"/>\n' \
        "$((passed + failed))" "$failed" >"$VMSTACK_REPORTS/docs.xml"
fi
[[ $failed -eq 0 ]]
