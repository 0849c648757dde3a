# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Which keys VictoriaMetrics' ``-promscrape.config`` takes, by version.

Each struct the binary decodes is a table of keys.  A key carries the kind of
value it holds (see promscrape.py for how each kind is read) and, where it
came or went later than v1.79.5, the release that added or removed it.
UNKNOWN_KEY_HINTS says what to write instead of keys VictoriaMetrics never
takes (mostly Prometheus settings).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    Feature,
    Version,
    format_version,
    parse_version,
)


@dataclass(frozen=True)
class Key:
    """One key of a struct.

    ``kind`` is a value kind such as "str", "duration", "strlist", or a
    reference to another struct: "struct:TLSConfig", "list:RelabelConfig"
    (null items become empty structs) or "ptrlist:ScrapeConfig" (null items
    stay null, which crashes the binary).
    """

    kind: str
    since: str | None = None
    removed: str | None = None
    # Long-term-support lines that got the key in a later patch release
    # (see vm/versions.py's Feature).  Not hashed: a dict cannot be.
    lts: dict[str, str] = field(default_factory=dict, hash=False)

    def available_in(self, version: Version) -> bool:
        if self.since is not None and not Feature(self.since, self.lts).available_in(version):
            return False
        if self.removed is not None and version >= parse_version(self.removed):
            return False
        return True


@dataclass(frozen=True)
class Struct:
    go_name: str  # as the binary names it in its own messages
    keys: dict[str, Key]


def _keys(**kinds: str | Key) -> dict[str, Key]:
    return {name: kind if isinstance(kind, Key) else Key(kind) for name, kind in kinds.items()}


HTTP_CLIENT_KEYS = _keys(
    authorization="struct:Authorization",
    basic_auth="struct:BasicAuthConfig",
    bearer_token="secret",
    bearer_token_file="str",
    oauth2="struct:OAuth2Config",
    tls_config="struct:TLSConfig",
    headers="strlist",
    follow_redirects=Key("bool", since="1.91.1"),
)

PROXY_URL_KEY = _keys(proxy_url="proxy_url")

PROXY_CLIENT_KEYS = _keys(
    proxy_authorization="struct:Authorization",
    proxy_basic_auth="struct:BasicAuthConfig",
    proxy_bearer_token="secret",
    proxy_bearer_token_file="str",
    proxy_oauth2="struct:OAuth2Config",
    proxy_tls_config="struct:TLSConfig",
    proxy_headers="strlist",
)

# HTTP client, proxy_url and proxy client options: what most SDs inline.
HTTP_AND_PROXY_KEYS = {**HTTP_CLIENT_KEYS, **PROXY_URL_KEY, **PROXY_CLIENT_KEYS}

# scrape_configs[] key -> (struct name, the SD's name in -promscrape.<name>SDCheckInterval)
SD_CONFIG_LISTS: dict[str, tuple[str, str]] = {
    "azure_sd_configs": ("AzureSDConfig", "azure"),
    "consul_sd_configs": ("ConsulSDConfig", "consul"),
    "consulagent_sd_configs": ("ConsulAgentSDConfig", "consulagent"),
    "digitalocean_sd_configs": ("DigitalOceanSDConfig", "digitalocean"),
    "dns_sd_configs": ("DNSSDConfig", "dns"),
    "docker_sd_configs": ("DockerSDConfig", "docker"),
    "dockerswarm_sd_configs": ("DockerSwarmSDConfig", "dockerswarm"),
    "ec2_sd_configs": ("EC2SDConfig", "ec2"),
    "eureka_sd_configs": ("EurekaSDConfig", "eureka"),
    "file_sd_configs": ("FileSDConfig", "file"),
    "gce_sd_configs": ("GCESDConfig", "gce"),
    "hetzner_sd_configs": ("HetznerSDConfig", "hetzner"),
    "http_sd_configs": ("HTTPSDConfig", "http"),
    "kubernetes_sd_configs": ("KubernetesSDConfig", "kubernetes"),
    "kuma_sd_configs": ("KumaSDConfig", "kuma"),
    "linode_sd_configs": ("LinodeSDConfig", "linode"),
    "marathon_sd_configs": ("MarathonSDConfig", "marathon"),
    "nomad_sd_configs": ("NomadSDConfig", "nomad"),
    "openstack_sd_configs": ("OpenStackSDConfig", "openstack"),
    "ovhcloud_sd_configs": ("OVHCloudSDConfig", "ovhcloud"),
    "puppetdb_sd_configs": ("PuppetDBSDConfig", "puppetdb"),
    "vultr_configs": ("VultrSDConfig", "vultr"),
    "yandexcloud_sd_configs": ("YandexCloudSDConfig", "yandexcloud"),
}

_SD_LIST_SINCE = {
    "consulagent_sd_configs": "1.91.0",
    "hetzner_sd_configs": "1.97.0",
    "kuma_sd_configs": "1.88.0",
    "linode_sd_configs": "1.150.0",
    "marathon_sd_configs": "1.109.0",
    "nomad_sd_configs": "1.86.0",
    "ovhcloud_sd_configs": "1.104.0",
    "puppetdb_sd_configs": "1.106.0",
    "vultr_configs": "1.102.0",
    "yandexcloud_sd_configs": "1.80.0",
}

# label_limit reached these long-term-support lines in a patch release.
_LTS_LABEL_LIMIT = {"1.102": "1.102.25", "1.110": "1.110.13"}

SCRAPE_CONFIG_KEYS = {
    **_keys(
        job_name="str",
        scrape_interval="duration",
        scrape_timeout="duration",
        metrics_path="str",
        honor_labels="bool",
        honor_timestamps="bool",
        scheme="str",
        params="strlistmap",
        relabel_configs="list:RelabelConfig",
        metric_relabel_configs="list:RelabelConfig",
        sample_limit="int",
        series_limit="int",
        disable_compression="bool",
        disable_keepalive="bool",
        stream_parse="bool",
        scrape_align_interval="duration",
        scrape_offset="duration",
        static_configs="list:StaticConfig",
        relabel_debug=Key("bool", removed="1.85.0"),
        metric_relabel_debug=Key("bool", removed="1.85.0"),
        no_stale_markers=Key("bool", since="1.83.0"),
        enable_compression=Key("bool", since="1.99.0"),
        max_scrape_size=Key("str", since="1.102.0"),
        label_limit=Key("int", since="1.121.0", lts=_LTS_LABEL_LIMIT),
    ),
    **HTTP_AND_PROXY_KEYS,
    # A scrape-level option in every version, before it moved into the HTTP
    # client options shared with SD configs.
    **_keys(follow_redirects="bool"),
    **{
        list_key: Key("list:" + struct_name, since=_SD_LIST_SINCE.get(list_key))
        for list_key, (struct_name, _sd_name) in SD_CONFIG_LISTS.items()
    },
}

_DOCKER_FILTER = "list:DockerFilter"
_AWS_FILTER = "list:AWSFilter"

STRUCTS: dict[str, Struct] = {
    "Config": Struct("promscrape.Config", _keys(
        **{"global": "struct:GlobalConfig"},
        scrape_configs="ptrlist:ScrapeConfig",
        scrape_config_files="strlist",
    )),
    "GlobalConfig": Struct("promscrape.GlobalConfig", _keys(
        scrape_interval="duration",
        scrape_timeout="duration",
        external_labels="strmap",
        relabel_configs=Key("list:RelabelConfig", since="1.106.0"),
        metric_relabel_configs=Key("list:RelabelConfig", since="1.106.0"),
        label_limit=Key("int", since="1.121.0", lts=_LTS_LABEL_LIMIT),
        sample_limit=Key("int", since="1.133.0", lts={"1.110": "1.110.27", "1.122": "1.122.12"}),
    )),
    "ScrapeConfig": Struct("promscrape.ScrapeConfig", SCRAPE_CONFIG_KEYS),
    "StaticConfig": Struct("promscrape.StaticConfig", _keys(targets="strlist", labels="strmap")),
    "FileSDConfig": Struct("promscrape.FileSDConfig", _keys(files="strlist")),
    "RelabelConfig": Struct("promrelabel.RelabelConfig", _keys(
        source_labels="strlist",
        separator="secret",  # a *string: null leaves the default ";"
        target_label="str",
        regex="regex",
        modulus="uint",
        replacement="secret",  # a *string: null leaves the default "$1"
        action="str",
        match="str",
        labels="strmap",
        **{"if": "if"},
    )),
    "Authorization": Struct("promauth.Authorization", _keys(
        type="str", credentials="secret", credentials_file="str",
    )),
    "BasicAuthConfig": Struct("promauth.BasicAuthConfig", _keys(
        username="str",
        username_file=Key("str", since="1.97.1"),
        password="secret",
        password_file="str",
    )),
    "OAuth2Config": Struct("promauth.OAuth2Config", _keys(
        client_id="str",
        client_secret="secret",
        client_secret_file="str",
        scopes="strlist",
        token_url="str",
        endpoint_params="strmap",
        tls_config="struct:TLSConfig",
        proxy_url="str",
        headers=Key("strlist", since="1.138.0", lts={"1.122": "1.122.17", "1.136": "1.136.2"}),
    )),
    "TLSConfig": Struct("promauth.TLSConfig", _keys(
        ca="tls_inline",
        ca_file="str",
        cert="tls_inline",
        cert_file="str",
        key="tls_inline",
        key_file="str",
        server_name="str",
        insecure_skip_verify="bool",
        min_version="str",
    )),
    "DockerFilter": Struct("docker.Filter", _keys(name="str", values="strlist")),
    "AWSFilter": Struct("awsapi.Filter", _keys(name="str", values="strlist")),
    "KubernetesNamespaces": Struct("kubernetes.Namespaces", _keys(own_namespace="bool", names="strlist")),
    "KubernetesSelector": Struct("kubernetes.Selector", _keys(role="str", label="str", field="str")),
    "KubernetesAttachMetadata": Struct("kubernetes.AttachMetadata", _keys(
        node="bool", namespace=Key("bool", since="1.130.0", lts={"1.110": "1.110.24", "1.122": "1.122.9"}),
    )),
    "AzureSDConfig": Struct("azure.SDConfig", {**_keys(
        environment="str", authentication_method="str", subscription_id="str", tenant_id="str",
        client_id="str", client_secret="secret", resource_group="str", port="int",
    ), **HTTP_AND_PROXY_KEYS}),
    "ConsulSDConfig": Struct("consul.SDConfig", {**_keys(
        server="str", token="secret", datacenter="str", namespace="str",
        partition=Key("str", since="1.83.1"), scheme="str", username="str", password="secret",
        services="strlist", tags="strlist", node_meta="strmap", tag_separator="secret",
        allow_stale="bool", filter=Key("str", since="1.91.0"),
    ), **HTTP_AND_PROXY_KEYS}),
    "ConsulAgentSDConfig": Struct("consulagent.SDConfig", {**_keys(
        server="str", token="secret", datacenter="str", namespace="str", scheme="str",
        username="str", password="secret", services="strlist", tag_separator="secret", filter="str",
    ), **HTTP_AND_PROXY_KEYS}),
    "DigitalOceanSDConfig": Struct("digitalocean.SDConfig", {
        **_keys(server="str", port="int"), **HTTP_AND_PROXY_KEYS,
    }),
    "DNSSDConfig": Struct("dns.SDConfig", _keys(names="strlist", type="str", port="int")),
    "DockerSDConfig": Struct("docker.SDConfig", {**_keys(
        host="str", port="int", filters=_DOCKER_FILTER, host_networking_host="str",
        match_first_network=Key("bool", since="1.108.0"),
    ), **HTTP_AND_PROXY_KEYS}),
    "DockerSwarmSDConfig": Struct("dockerswarm.SDConfig", {**_keys(
        host="str", role="str", port="int", filters=_DOCKER_FILTER,
    ), **HTTP_AND_PROXY_KEYS}),
    "EC2SDConfig": Struct("ec2.SDConfig", _keys(
        region="str", endpoint="str", sts_endpoint="str", access_key="str", secret_key="secret",
        role_arn="str", port="int", filters=_AWS_FILTER, az_filters=_AWS_FILTER,
        profile=Key("str", since="1.140.0", lts={"1.122": "1.122.19", "1.136": "1.136.4"}),
    )),
    "EurekaSDConfig": Struct("eureka.SDConfig", {**_keys(server="str"), **HTTP_AND_PROXY_KEYS}),
    "GCESDConfig": Struct("gce.SDConfig", _keys(
        project="str", zone="zone", filter="str", port="int", tag_separator="secret",
    )),
    "HetznerSDConfig": Struct("hetzner.SDConfig", {**_keys(role="str", port="int"), **HTTP_AND_PROXY_KEYS}),
    "HTTPSDConfig": Struct("http.SDConfig", {**_keys(url="str"), **HTTP_AND_PROXY_KEYS}),
    "KubernetesSDConfig": Struct("kubernetes.SDConfig", {**_keys(
        api_server="str", role="str", kubeconfig_file="str",
        namespaces="struct:KubernetesNamespaces",
        selectors="list:KubernetesSelector",
        attach_metadata="struct:KubernetesAttachMetadata",
    ), **HTTP_CLIENT_KEYS, **PROXY_URL_KEY}),
    "KumaSDConfig": Struct("kuma.SDConfig", {**_keys(server="str", client_id="str"), **HTTP_AND_PROXY_KEYS}),
    "LinodeSDConfig": Struct("linode.SDConfig", {**_keys(
        server="str", port="int", tag_separator="str", region="str",
    ), **HTTP_AND_PROXY_KEYS}),
    "MarathonSDConfig": Struct("marathon.SDConfig", {**_keys(servers="strlist"), **HTTP_AND_PROXY_KEYS}),
    "NomadSDConfig": Struct("nomad.SDConfig", {**_keys(
        server="str", namespace="str", region="str", tag_separator="secret", allow_stale="bool",
    ), **HTTP_AND_PROXY_KEYS}),
    "OpenStackSDConfig": Struct("openstack.SDConfig", _keys(
        identity_endpoint="str", username="str", userid="str", password="secret",
        project_name="str", project_id="str", domain_name="str", domain_id="str",
        application_credential_name="str", application_credential_id="str",
        application_credential_secret="secret", role="str", region="str", port="int",
        all_tenants="bool", tls_config="struct:TLSConfig", availability="str",
    )),
    "OVHCloudSDConfig": Struct("ovhcloud.SDConfig", {**_keys(
        endpoint="str", application_key="str", application_secret="secret", consumer_key="secret",
        service="str",
    ), **HTTP_AND_PROXY_KEYS}),
    "PuppetDBSDConfig": Struct("puppetdb.SDConfig", {**_keys(
        url="str", query="str", include_parameters="bool", port="int",
    ), **HTTP_AND_PROXY_KEYS}),
    "VultrSDConfig": Struct("vultr.SDConfig", {**_keys(
        label="str", main_ip="str", region="str", firewall_group_id="str", hostname="str", port="int",
    ), **HTTP_AND_PROXY_KEYS}),
    "YandexCloudSDConfig": Struct("yandexcloud.SDConfig", _keys(
        service="str", yandex_passport_oauth_token="secret", api_endpoint="str",
        tls_config="struct:TLSConfig", folder_ids=Key("strlist", since="1.139.0", lts={"1.122": "1.122.18", "1.136": "1.136.3"}),
    )),
}

# The SD structs, for hints that apply to every SD config.
SD_STRUCT_NAMES = frozenset(struct_name for struct_name, _sd in SD_CONFIG_LISTS.values())
SD_NAME_BY_STRUCT = dict(SD_CONFIG_LISTS.values())

_DELETE = "VictoriaMetrics has no such setting; delete the line"

# (struct name, key) -> what to write instead.  The struct name "SD" stands
# for every service discovery config.
UNKNOWN_KEY_HINTS: dict[tuple[str, str], str] = {
    ("Config", "rule_files"): "VictoriaMetrics does not take rules in the scrape config; "
    "give the rule files to vmalert with -rule=<path>",
    ("Config", "alerting"): "alerting is done by vmalert; point it at Alertmanager with -notifier.url=<url>",
    ("Config", "remote_write"): "vmagent takes remote write targets as flags: -remoteWrite.url=<url> "
    "(plus -remoteWrite.basicAuth.* and friends)",
    ("Config", "remote_read"): "VictoriaMetrics answers queries itself; vmalert reads state back with "
    "-remoteRead.url=<url>",
    ("Config", "storage"): "storage is set with victoria-metrics flags such as -retentionPeriod and "
    "-storageDataPath",
    ("Config", "tracing"): _DELETE,
    ("Config", "otlp"): "VictoriaMetrics takes OTLP on /opentelemetry/v1/metrics without any config; "
    "delete the section",
    ("Config", "runtime"): _DELETE,
    ("Config", "version"): _DELETE,
    ("GlobalConfig", "evaluation_interval"): "rule evaluation is vmalert's job: pass -evaluationInterval=<d> "
    "to vmalert and delete the line",
    ("GlobalConfig", "query_log_file"): "delete the line; victoria-metrics logs slow queries with "
    "-search.logSlowQueryDuration",
    ("GlobalConfig", "scrape_protocols"): "VictoriaMetrics negotiates the exposition format itself; "
    "delete the line",
    ("GlobalConfig", "body_size_limit"): "use the -promscrape.maxScrapeSize flag of vmagent",
    ("GlobalConfig", "label_limit"): "accepted in `global` from v1.121.0; set it per job or upgrade",
    ("GlobalConfig", "sample_limit"): "accepted in `global` from v1.133.0; set sample_limit per job "
    "or upgrade",
    ("GlobalConfig", "relabel_configs"): "global relabel_configs are accepted from v1.106.0; "
    "put the rules into each job or into -remoteWrite.relabelConfig",
    ("GlobalConfig", "metric_relabel_configs"): "global metric_relabel_configs are accepted from v1.106.0; "
    "put the rules into each job or into -remoteWrite.relabelConfig",
    ("ScrapeConfig", "enable_http2"): "VictoriaMetrics' scraper does not take this Prometheus option; "
    "delete the line",
    ("ScrapeConfig", "http_headers"): 'VictoriaMetrics takes extra headers as a list of strings: '
    'headers: ["Name: value"]',
    ("ScrapeConfig", "no_proxy"): "set proxy_url per job instead; there is no proxy exclusion list",
    ("ScrapeConfig", "proxy_from_environment"): "set proxy_url explicitly; the environment is not consulted",
    ("ScrapeConfig", "proxy_connect_header"): 'send proxy headers with proxy_headers: ["Name: value"]',
    ("ScrapeConfig", "scrape_protocols"): "VictoriaMetrics negotiates the exposition format itself; "
    "delete the line",
    ("ScrapeConfig", "fallback_scrape_protocol"): "VictoriaMetrics negotiates the exposition format itself; "
    "delete the line",
    ("ScrapeConfig", "body_size_limit"): "use max_scrape_size (v1.102.0 and later) or vmagent's "
    "-promscrape.maxScrapeSize flag",
    ("ScrapeConfig", "target_limit"): _DELETE,
    ("ScrapeConfig", "label_name_length_limit"): _DELETE,
    ("ScrapeConfig", "label_value_length_limit"): _DELETE,
    ("ScrapeConfig", "keep_dropped_targets"): "vmagent keeps dropped targets for /service-discovery; "
    "size that list with -promscrape.maxDroppedTargets",
    ("ScrapeConfig", "track_timestamps_staleness"): _DELETE,
    ("ScrapeConfig", "metric_name_validation_scheme"): _DELETE,
    ("ScrapeConfig", "metric_name_escaping_scheme"): _DELETE,
    ("ScrapeConfig", "vultr_sd_configs"): "VictoriaMetrics spells this key `vultr_configs` "
    "(v1.102.0 and later)",
    ("SD", "refresh_interval"): "VictoriaMetrics sets SD refresh intervals with a vmagent flag: "
    "-promscrape.{sd}SDCheckInterval=<d>",
    ("TLSConfig", "max_version"): "VictoriaMetrics only takes min_version; delete the line",
    ("BasicAuthConfig", "username_file"): "username_file is accepted from v1.97.1; put the name in "
    "`username` or upgrade",
}

# Prometheus SDs that VictoriaMetrics never had, and Prometheus-only global
# and job settings that share a prefix.
_NO_SUCH_SD = ("VictoriaMetrics has no {name} service discovery; write the targets to a file for "
               "file_sd_configs or serve them for http_sd_configs")
_HISTOGRAM_PREFIXES = ("native_histogram", "scrape_native_histograms", "scrape_classic_histograms",
                       "always_scrape_classic_histograms", "convert_classic_histograms")


def _specific_hint(struct_name: str, key: str) -> str | None:
    hint = UNKNOWN_KEY_HINTS.get((struct_name, key))
    if hint is None and struct_name in SD_STRUCT_NAMES:
        hint = UNKNOWN_KEY_HINTS.get(("SD", key))
        if hint is not None:
            hint = hint.replace("{sd}", SD_NAME_BY_STRUCT[struct_name])
    if hint is None and struct_name == "FileSDConfig" and key == "refresh_interval":
        hint = UNKNOWN_KEY_HINTS[("SD", key)].replace("{sd}", "file")
    if hint is None and struct_name == "ScrapeConfig" and key.endswith("_sd_configs"):
        hint = _NO_SUCH_SD.format(name=key[:-len("_sd_configs")])
    if hint is None and key.startswith(_HISTOGRAM_PREFIXES):
        hint = "VictoriaMetrics does not scrape native histograms; delete the line"
    if hint is None and key in ("extra_scrape_metrics", "metric_name_validation_scheme",
                                "metric_name_escaping_scheme"):
        hint = _DELETE
    return hint


def hint_for_unknown_key(struct_name: str, key: str, version: Version) -> str:
    """Say what to write instead of a key the struct does not take in this version."""
    known = STRUCTS[struct_name].keys.get(key)
    if known is not None and known.since is not None and version < parse_version(known.since):
        return (f"`{key}` is accepted from VictoriaMetrics v{known.since} on and this config is checked "
                f"for {format_version(version)}: delete it, or raise vm_version if the binary is newer")
    if known is not None and known.removed is not None:
        return (f"`{key}` was removed in VictoriaMetrics v{known.removed}; delete it "
                "(vmagent's /targets page shows the relabel debug view instead)")
    hint = _specific_hint(struct_name, key)
    if hint is not None:
        return hint
    candidates = [name for name, spec in STRUCTS[struct_name].keys.items() if spec.available_in(version)]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
    if close:
        return f"did you mean `{close[0]}`?"
    return "delete it, or check the spelling against the VictoriaMetrics docs for this section"
