//! The OpenShiftCluster's own platform settings (`openshiftCluster` in the platform
//! settings): the infrastructure platform, release images, the size table, etcd, networks,
//! private publishing, and where the pull secret comes from. The OpenShiftNodePool's size
//! table, agent labels, storage class and upgrade type follow these (its platform and release
//! image are its HostedCluster's).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spec::{Size, Version};
use crate::compositions::types::check_dns_label;
use crate::resources::hypershift::{AvailabilityPolicy, PlatformType, UpgradeType};
use crate::resources::net::Cidr;

/// Platform settings of the OpenShiftCluster composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Where node pools run: `KubeVirt` (VMs on OpenShift Virtualization in the management
    /// cluster), `Agent` (bare-metal Agents) or `None`. Immutable per cluster.
    pub platform: PlatformType,
    /// Agent only: the namespace Agents for hosted clusters are searched in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_namespace: Option<String>,
    /// The release image of each version; a version without one cannot be created here.
    pub release_images: PerVersion,
    /// KubeVirt: the cores, memory and root volume of each node size. A size not listed
    /// is refused.
    pub sizes: PerSize<NodeSize>,
    /// Agent: the labels that select Agents of each size. A size not listed is refused
    /// (on None, sizes select nothing: nodes join by their ignition).
    pub agent_labels: PerSize<BTreeMap<String, String>>,
    /// KubeVirt: StorageClass of node root volumes; absent for the default class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_volume_storage_class: Option<String>,
    /// How NodePools upgrade (immutable per pool); absent for the platform's default
    /// (Replace on KubeVirt, InPlace on Agent and None).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_type: Option<UpgradeType>,
    /// Managed etcd's persistent volumes.
    pub etcd: EtcdSettings,
    /// The guest cluster's networks.
    pub networks: NetworkSettings,
    /// Availability of the control plane's controllers (immutable per cluster).
    pub controller_availability_policy: AvailabilityPolicy,
    /// What `networking.mode: private` publishes on.
    pub private: PrivateSettings,
    /// The function credential holding the OpenShift pull secret (key `.dockerconfigjson`),
    /// listed in the Composition's function-sco step.
    pub pull_secret_credential: String,
    /// An SSH public key the nodes authorise (for the platform team), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_public_key: Option<String>,
    /// The base domain clusters are published under (`<cluster>.<baseDomain>`); absent on
    /// KubeVirt to pass the management cluster's apps domain through; required for new
    /// clusters on Agent and None, where HyperShift has no default. Immutable once a cluster
    /// uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_domain: Option<String>,
    /// The management cluster's apps domain (`apps.mgmt.example.com`), from which the
    /// console URL of a KubeVirt cluster without base domain is derived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_apps_domain: Option<String>,
    /// The identity provider's name on every cluster (in user identities and the OAuth
    /// callback URL).
    pub identity_provider_name: String,
    /// etcd backup through OADP, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSettings>,
    /// DNS records for the names a cluster publishes under `baseDomain` (external-dns).
    pub dns: DnsSettings,
    /// A certificate for the custom API server name `api.<cluster>.<baseDomain>`, when set
    /// (OpenShift 4.19 and later; `baseDomain` needed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSettings>,
    /// What `bootstrap.enabled` installs.
    pub bootstrap: BootstrapSettings,
}

impl Default for Settings {
    fn default() -> Self {
        let size = |cores, memory: &str, root: &str| NodeSize {
            cores,
            memory: memory.into(),
            root_volume: root.into(),
        };
        Self {
            platform: PlatformType::KubeVirt,
            agent_namespace: None,
            release_images: PerVersion::default(),
            sizes: PerSize {
                small: Some(size(2, "8Gi", "32Gi")),
                medium: Some(size(4, "16Gi", "64Gi")),
                large: Some(size(8, "32Gi", "128Gi")),
                xlarge: Some(size(16, "64Gi", "256Gi")),
            },
            agent_labels: PerSize::default(),
            root_volume_storage_class: None,
            upgrade_type: None,
            etcd: EtcdSettings::default(),
            networks: NetworkSettings::default(),
            controller_availability_policy: AvailabilityPolicy::HighlyAvailable,
            private: PrivateSettings::default(),
            pull_secret_credential: "sco-pull-secret".into(),
            ssh_public_key: None,
            base_domain: None,
            management_apps_domain: None,
            identity_provider_name: "sco".into(),
            backup: None,
            dns: DnsSettings::default(),
            tls: None,
            bootstrap: BootstrapSettings::default(),
        }
    }
}

impl Settings {
    /// The upgrade type of node pools on this platform.
    pub fn upgrade_type(&self) -> UpgradeType {
        self.upgrade_type
            .unwrap_or(UpgradeType::default_on(self.platform))
    }
}

/// A KubeVirt node size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSize {
    /// vCPU cores.
    #[schemars(range(min = 1))]
    pub cores: u32,
    /// Memory (a quantity such as 16Gi).
    pub memory: String,
    /// Root volume size (a quantity such as 64Gi).
    pub root_volume: String,
}

/// Managed etcd storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct EtcdSettings {
    /// Volume size (immutable per cluster): a whole number of Ki, Mi, Gi, Ti, Pi or Ei that is
    /// not a multiple of 1024 (`8Gi`, not `8192Mi`).
    pub size: EtcdSize,
    /// StorageClass (immutable per cluster); absent for the default class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

impl Default for EtcdSettings {
    fn default() -> Self {
        Self {
            size: EtcdSize("8Gi".into()),
            storage_class: None,
        }
    }
}

/// The size of managed etcd's volumes, in the one form Kubernetes' Go types write back as it
/// is: a whole number of `Ki` to `Ei` that is not a multiple of 1024. HyperShift's controller
/// updates its HostedCluster through Go's typed client (defaulting `spec.infraID`, adding its
/// finalizer: `hostedcluster_controller.go`), which writes a quantity in canonical form
/// (k8s.io/apimachinery `resource.Quantity.MarshalJSON`: `8192Mi` becomes `8Gi`, `1.5Gi`
/// `1536Mi`), and the CRD's "Etcd PV storage size is immutable" (`self == oldSelf`) compares
/// the stored text: any other form makes HyperShift refuse its own update, and the cluster
/// never comes up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EtcdSize(String);

impl JsonSchema for EtcdSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EtcdSize".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The multiple of 1024 is refused when the settings are read.
        schemars::json_schema!({"type": "string", "pattern": "^[1-9][0-9]*(Ki|Mi|Gi|Ti|Pi|Ei)$"})
    }
}

impl EtcdSize {
    /// The size as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EtcdSize {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
        let whole = |n: &str| {
            let digits = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
            (digits && !n.starts_with('0'))
                .then(|| n.parse::<u64>().ok())
                .flatten()
        };
        let parsed = UNITS
            .iter()
            .enumerate()
            .find_map(|(i, unit)| Some((whole(text.strip_suffix(unit)?)?, i)));
        let Some((mut n, mut i)) = parsed else {
            return Err(format!(
                "{text:?} is not a whole number of Ki, Mi, Gi, Ti, Pi or Ei such as 8Gi: HyperShift's controller rewrites any other form of a quantity, and its CEL rule then refuses the change (etcd's size is immutable)"
            ));
        };
        let bytes = 1024_u64
            .checked_pow(i as u32 + 1)
            .and_then(|unit| n.checked_mul(unit));
        if bytes.is_none_or(|b| b > i64::MAX as u64) {
            return Err(format!("{text:?} is more than a Kubernetes quantity holds"));
        }
        if n % 1024 != 0 || i + 1 == UNITS.len() {
            return Ok(Self(text));
        }
        // The canonical form, which Go's types would write instead.
        while n % 1024 == 0 && i + 1 < UNITS.len() {
            (n, i) = (n / 1024, i + 1);
        }
        let canonical = format!("{n}{}", UNITS[i]);
        Err(format!(
            "{text:?} would be rewritten as {canonical} by HyperShift's controller, whose CEL rule then refuses the change (etcd's size is immutable); write {canonical}"
        ))
    }
}

impl From<EtcdSize> for String {
    fn from(size: EtcdSize) -> Self {
        size.0
    }
}

/// The guest networks (immutable per cluster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NetworkSettings {
    /// Pod network (a network address: no host bits).
    pub cluster_network: Cidr,
    /// Per-node pod prefix length.
    pub host_prefix: u8,
    /// Service network (a network address).
    pub service_network: Cidr,
    /// The nodes' network, if it must be stated (a network address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_network: Option<Cidr>,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        let cidr = |text: &str| text.parse().expect("a valid default network");
        Self {
            cluster_network: cidr("10.132.0.0/14"),
            host_prefix: 23,
            service_network: cidr("172.31.0.0/16"),
            machine_network: None,
        }
    }
}

/// What `networking.mode: private` means here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PrivateSettings {
    /// The management network address (a node IP or an internal VIP host name) the
    /// NodePorts are reached at. Required for private clusters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port_address: Option<String>,
    /// The source ranges allowed to reach a new private cluster's API server: the management
    /// network and the organisations' networks (network addresses). An existing cluster keeps
    /// its own: HyperShift refuses a networking change without an acknowledgement of the
    /// disruption.
    pub allowed_cidrs: Vec<Cidr>,
}

/// The release image of each version (`quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PerVersion {
    /// OpenShift 4.18.
    #[serde(rename = "4.18", skip_serializing_if = "Option::is_none")]
    pub v4_18: Option<String>,
    /// OpenShift 4.19.
    #[serde(rename = "4.19", skip_serializing_if = "Option::is_none")]
    pub v4_19: Option<String>,
    /// OpenShift 4.20.
    #[serde(rename = "4.20", skip_serializing_if = "Option::is_none")]
    pub v4_20: Option<String>,
}

impl PerVersion {
    /// The image of `version`, if the platform has one.
    pub fn get(&self, version: Version) -> Option<&str> {
        match version {
            Version::V4_18 => self.v4_18.as_deref(),
            Version::V4_19 => self.v4_19.as_deref(),
            Version::V4_20 => self.v4_20.as_deref(),
        }
        .filter(|i| !i.is_empty())
    }
}

/// One optional value per node size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct PerSize<T> {
    /// For small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small: Option<T>,
    /// For medium.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<T>,
    /// For large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large: Option<T>,
    /// For xlarge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xlarge: Option<T>,
}

impl<T> Default for PerSize<T> {
    fn default() -> Self {
        Self {
            small: None,
            medium: None,
            large: None,
            xlarge: None,
        }
    }
}

impl<T> PerSize<T> {
    /// The value of `size`, if listed.
    pub fn get(&self, size: Size) -> Option<&T> {
        match size {
            Size::Small => self.small.as_ref(),
            Size::Medium => self.medium.as_ref(),
            Size::Large => self.large.as_ref(),
            Size::Xlarge => self.xlarge.as_ref(),
        }
    }

    /// The sizes listed.
    pub fn listed(&self) -> Vec<&'static str> {
        [Size::Small, Size::Medium, Size::Large, Size::Xlarge]
            .into_iter()
            .filter(|s| self.get(*s).is_some())
            .map(Size::as_str)
            .collect()
    }
}

/// etcd backup: an OADP/Velero Schedule per cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupSettings {
    /// OADP's namespace, where Schedules must be.
    #[serde(default = "oadp_namespace")]
    pub namespace: String,
    /// The BackupStorageLocation (the DataProtectionApplication's `backupLocations[].name`).
    pub storage_location: String,
    /// A cron expression.
    #[serde(default = "every_six_hours")]
    pub schedule: String,
    /// How long each backup is kept (a Go duration).
    #[serde(default = "one_week")]
    pub ttl: String,
    /// `CsiSnapshot` (CSI snapshots moved to the storage location by the data mover) or
    /// `FileSystem` (Kopia file-system backup, for storage without CSI snapshots).
    #[serde(default)]
    pub volumes: VolumeBackupMode,
}

fn oadp_namespace() -> String {
    "openshift-adp".into()
}

fn every_six_hours() -> String {
    "0 */6 * * *".into()
}

fn one_week() -> String {
    "168h0m0s".into()
}

/// How backup covers persistent volumes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum VolumeBackupMode {
    /// CSI snapshots, data moved to the storage location.
    #[default]
    CsiSnapshot,
    /// Kopia file-system backup.
    FileSystem,
}

/// DNS records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct DnsSettings {
    /// Record TTL in seconds; absent for the DNS provider's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub record_ttl: Option<u32>,
}

/// The API server certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsSettings {
    /// The cert-manager issuer's name.
    pub issuer: String,
    /// `ClusterIssuer` or `Issuer` (in the XR's namespace).
    #[serde(default)]
    pub issuer_kind: IssuerKindSetting,
}

/// The kind of a cert-manager issuer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum IssuerKindSetting {
    /// A cluster-wide `ClusterIssuer`.
    #[default]
    ClusterIssuer,
    /// An `Issuer` in the XR's namespace.
    Issuer,
}

/// The charts `bootstrap.enabled` installs, and the namespaces it creates. Checked when the
/// settings are read: every name a DNS label, listed once (a release or namespace listed
/// twice would be composed once, the other copy silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", try_from = "RawBootstrapSettings")]
pub struct BootstrapSettings {
    /// Namespaces created on the new cluster.
    pub namespaces: Vec<String>,
    /// Helm releases installed on the new cluster.
    pub releases: Vec<ChartRelease>,
}

/// The charts `bootstrap.enabled` installs, and the namespaces it creates.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct RawBootstrapSettings {
    /// Namespaces created on the new cluster (DNS labels, each listed once).
    namespaces: Vec<String>,
    /// Helm releases installed on the new cluster (names unique).
    releases: Vec<ChartRelease>,
}

impl Default for RawBootstrapSettings {
    fn default() -> Self {
        let BootstrapSettings {
            namespaces,
            releases,
        } = BootstrapSettings::default();
        Self {
            namespaces,
            releases,
        }
    }
}

impl TryFrom<RawBootstrapSettings> for BootstrapSettings {
    type Error = String;
    fn try_from(raw: RawBootstrapSettings) -> Result<Self, String> {
        let mut namespaces = std::collections::BTreeSet::new();
        for (i, namespace) in raw.namespaces.iter().enumerate() {
            check_dns_label(namespace).map_err(|e| format!("namespaces[{i}]: {e}"))?;
            if !namespaces.insert(namespace) {
                return Err(format!("namespaces[{i}]: {namespace:?} is listed twice"));
            }
        }
        let mut releases = std::collections::BTreeSet::new();
        for (i, release) in raw.releases.iter().enumerate() {
            check_dns_label(&release.name).map_err(|e| format!("releases[{i}].name: {e}"))?;
            if !releases.insert(&release.name) {
                return Err(format!(
                    "releases[{i}].name: {:?} is listed twice: each release needs its own name",
                    release.name
                ));
            }
            check_dns_label(&release.namespace)
                .map_err(|e| format!("releases[{i}].namespace: {e}"))?;
            check_chart_version(&release.version)
                .map_err(|e| format!("releases[{i}].version: {e}"))?;
        }
        Ok(Self {
            namespaces: raw.namespaces,
            releases: raw.releases,
        })
    }
}

/// A chart version as its `Chart.yaml` states it: SemVer 2 (`MAJOR.MINOR.PATCH`, an optional
/// `-pre-release` and `+build`), optionally after a `v`. provider-helm counts a release up to
/// date only when the spec's version equals the installed chart's, string for string
/// (`isUpToDate`: `in.Chart.Version != ocm.Version`), so a range (`~2.0`, `2.x`) or an empty
/// version would be installed, then upgraded on every poll and never ready.
fn check_chart_version(version: &str) -> Result<(), String> {
    let exact = |v: &str| {
        let (core, build) = v.split_once('+').map_or((v, None), |(c, b)| (c, Some(b)));
        let (core, pre) = core
            .split_once('-')
            .map_or((core, None), |(c, p)| (c, Some(p)));
        let numbers: Vec<&str> = core.split('.').collect();
        let number = |n: &&str| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        };
        let identifiers = |s: Option<&str>| {
            s.is_none_or(|s| {
                s.split('.').all(|id| {
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            })
        };
        numbers.len() == 3 && numbers.iter().all(number) && identifiers(pre) && identifiers(build)
    };
    if exact(version.strip_prefix('v').unwrap_or(version)) {
        Ok(())
    } else {
        Err(format!(
            "{version:?} is not an exact chart version (1.2.3, as its Chart.yaml states it): provider-helm compares it with the installed chart's version as text, so a range would be upgraded on every poll and never ready"
        ))
    }
}

impl Default for BootstrapSettings {
    /// Crossplane and Argo CD, with the values an OpenShift guest needs: both charts pin a
    /// user ID (Crossplane's `securityContextCrossplane` and `securityContextRBACManager`
    /// `runAsUser: 65532`, `crossplane/crossplane` `cluster/charts/crossplane/values.yaml`;
    /// Argo CD's `redis.securityContext.runAsUser: 999`, `argoproj/argo-helm`
    /// `charts/argo-cd`), which OpenShift's `restricted-v2` SCC refuses outside the
    /// namespace's range, so the pods would never start. A `null` value makes Helm drop the
    /// chart's default, and OpenShift assigns one from the range. The null gets there: the
    /// Struct keeps it, Crossplane applies the Release by server-side apply
    /// (`FunctionComposer.Compose`), which keeps an applied null (structured-merge-diff
    /// `ruleKeepRHS`, issue 235), `values` preserves unknown fields, whose nulls the API
    /// server neither prunes nor drops (`skipPrune`, `PruneNonNullableNullsWithoutDefaults`
    /// finds no schema), provider-helm passes the map on (`composeValuesFromSpec`), and Helm
    /// deletes a default whose user value is null (`coalesceTablesFullKey`). Read in each
    /// source and run against the libraries, not on a live cluster.
    fn default() -> Self {
        let release = |name: &str,
                       chart: &str,
                       repository: &str,
                       version: &str,
                       ns: &str,
                       values: serde_json::Value| ChartRelease {
            name: name.into(),
            chart: chart.into(),
            repository: repository.into(),
            version: version.into(),
            namespace: ns.into(),
            values: match values {
                serde_json::Value::Object(values) => values,
                _ => serde_json::Map::new(),
            },
        };
        let no_fixed_user = serde_json::json!({"runAsUser": null, "runAsGroup": null});
        Self {
            namespaces: vec!["ksp-system".into()],
            releases: vec![
                release(
                    "crossplane",
                    "crossplane",
                    "https://charts.crossplane.io/stable",
                    "2.0.2",
                    "crossplane-system",
                    serde_json::json!({
                        "securityContextCrossplane": no_fixed_user,
                        "securityContextRBACManager": no_fixed_user,
                    }),
                ),
                release(
                    "argocd",
                    "argo-cd",
                    "https://argoproj.github.io/argo-helm",
                    "8.3.0",
                    "argocd",
                    serde_json::json!({"redis": {"securityContext": {"runAsUser": null}}}),
                ),
            ],
        }
    }
}

/// A Helm chart release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartRelease {
    /// The release's name (a DNS label).
    pub name: String,
    /// The chart.
    pub chart: String,
    /// The chart repository URL.
    pub repository: String,
    /// The chart version.
    pub version: String,
    /// The namespace it is installed in (created).
    pub namespace: String,
    /// Chart values: an object, as provider-helm's `values` is.
    #[serde(default)]
    #[schemars(schema_with = "chart_values_schema")]
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// A release's values: any object (a structural schema may not pair `additionalProperties`
/// with `x-kubernetes-preserve-unknown-fields`).
fn chart_values_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Chart values: an object, as provider-helm's `values` is.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}
