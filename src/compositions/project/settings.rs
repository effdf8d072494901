//! The Project's own platform settings (`project` in the platform settings): the published
//! APIs every project binds, the quota profiles, the cluster networks a project network must
//! not overlap, the claims a binding accepts, and the workspace type without token validation.
//!
//! Every entry is checked while the settings are decoded, so a malformed one is refused as
//! `InvalidPlatformConfig` naming its key, before any Project renders.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::platform::WorkspaceTypeRef;
use crate::compositions::types::check_dns_label;
use crate::resources::net::Cidr;

/// Longest namespace suffix allowed (so that `ws-<p>-<suffix>` leaves room for a name).
pub const MAX_SUFFIX: usize = 20;

/// Platform settings of the Project composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// The APIs every project binds, each with its own service namespace
    /// `ws-<project>-<namespaceSuffix>`. Adding one binds it (and creates its namespace) in
    /// every existing project on its next reconcile.
    pub published_apis: PublishedApis,
    /// Quota profiles by name (`tenantQuota`): DNS labels, as the XRD's `tenantQuota` is.
    #[serde(deserialize_with = "profile_names")]
    pub quota_profiles: BTreeMap<String, QuotaProfile>,
    /// The service cluster's pod (cluster) and service networks, which no project network may
    /// overlap (OpenShift's defaults: 10.128.0.0/14 and 172.30.0.0/16).
    pub cluster_networks: Vec<Cidr>,
    /// OVN-Kubernetes' own networks, which no project network may overlap either: it refuses
    /// a user-defined network whose subnet overlaps its join, masquerade or transit subnets
    /// or a primary network's join subnet ("pod or join subnet overlaps with already
    /// configured internal subnets", `go-controller/pkg/util/multi_network.go`
    /// `ValidateNetConf`), and the CIDR cannot change afterwards. Defaults: OpenShift's join
    /// (100.64.0.0/16, fd98::/64), a primary user-defined network's join (100.65.0.0/16,
    /// fd99::/64), transit (100.88.0.0/16, fd97::/64) and masquerade (169.254.0.0/17 and
    /// fd69::/112 on clusters installed with 4.17 or later; 169.254.169.0/29 and fd69::/125,
    /// inside fd69::/112, upstream and on older ones) subnets.
    pub ovn_internal_networks: Vec<Cidr>,
    /// Permission claims a binding accepts, as `resource` (core group) or `resource.group`;
    /// claims on resources of another published API are accepted too; any other claim is
    /// rejected.
    pub accepted_claims: BTreeSet<String>,
    /// Type of project workspaces where token validation is off (with it on, the
    /// organisation's project workspace type).
    pub workspace_type: WorkspaceTypeRef,
    /// Prefixes of user and group names on the service cluster, for the MTO Tenant's access
    /// control (KCP's are `tokenValidation.usernamePrefix` and `groupsPrefix`).
    pub service_cluster_prefixes: Prefixes,
}

/// Quota profiles whose names a Project can choose: `tenantQuota` is a DNS label in the XRD,
/// so a profile named otherwise could never be chosen.
fn profile_names<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, QuotaProfile>, D::Error> {
    let profiles = BTreeMap::<String, QuotaProfile>::deserialize(d)?;
    for name in profiles.keys() {
        check_dns_label(name).map_err(|e| {
            serde::de::Error::custom(format!(
                "profile {e}: a Project's tenantQuota is one, so it could never be chosen"
            ))
        })?;
    }
    Ok(profiles)
}

impl Default for Settings {
    fn default() -> Self {
        let profile = |rc: &str, rm: &str, lc: &str, lm: &str| QuotaProfile {
            hard: [
                ("requests.cpu", rc),
                ("requests.memory", rm),
                ("limits.cpu", lc),
                ("limits.memory", lm),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            limit_range: None,
        };
        Self {
            published_apis: PublishedApis(vec![
                PublishedApi {
                    name: "VirtualMachine".into(),
                    export: Export {
                        path: "root".into(),
                        name: "compute.cloud.stakater.com".into(),
                    },
                    namespace_suffix: "vms".into(),
                },
                PublishedApi {
                    name: "OpenShiftCluster".into(),
                    export: Export {
                        path: "root".into(),
                        name: "kubernetes.cloud.stakater.com".into(),
                    },
                    namespace_suffix: "clusters".into(),
                },
            ]),
            quota_profiles: BTreeMap::from([
                ("small".into(), profile("4", "8Gi", "8", "16Gi")),
                ("medium".into(), profile("8", "16Gi", "16", "32Gi")),
                ("large".into(), profile("16", "32Gi", "32", "64Gi")),
            ]),
            cluster_networks: ["10.128.0.0/14", "172.30.0.0/16"]
                .into_iter()
                .map(|c| c.parse().expect("valid default"))
                .collect(),
            ovn_internal_networks: [
                "100.64.0.0/16",
                "100.65.0.0/16",
                "100.88.0.0/16",
                "169.254.0.0/17",
                "169.254.169.0/29",
                "fd98::/64",
                "fd99::/64",
                "fd97::/64",
                "fd69::/112",
            ]
            .into_iter()
            .map(|c| c.parse().expect("valid default"))
            .collect(),
            accepted_claims: [
                "events",
                "namespaces",
                "secrets",
                "configmaps",
                "logicalclusters.core.kcp.io",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            workspace_type: WorkspaceTypeRef {
                name: "universal".into(),
                path: "root".into(),
            },
            service_cluster_prefixes: Prefixes {
                username: "oidc:".into(),
                groups: "oidc:".into(),
            },
        }
    }
}

impl Settings {
    /// The longest namespace suffix of the published APIs.
    pub fn longest_suffix(&self) -> usize {
        self.published_apis
            .0
            .iter()
            .map(|a| a.namespace_suffix.len())
            .max()
            .unwrap_or(0)
    }
}

/// The published APIs: names and suffixes unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "Vec<PublishedApi>", into = "Vec<PublishedApi>")]
#[schemars(with = "Vec<PublishedApi>")]
pub struct PublishedApis(pub Vec<PublishedApi>);

impl TryFrom<Vec<PublishedApi>> for PublishedApis {
    type Error = String;
    fn try_from(apis: Vec<PublishedApi>) -> Result<Self, String> {
        let mut names = BTreeSet::new();
        let mut suffixes = BTreeSet::new();
        let mut exports = BTreeSet::new();
        for api in &apis {
            if !names.insert(&api.name) {
                return Err(format!("published API {:?} is listed twice", api.name));
            }
            if !suffixes.insert(&api.namespace_suffix) {
                return Err(format!(
                    "namespace suffix {:?} is used twice: each published API needs its own namespace",
                    api.namespace_suffix
                ));
            }
            if !exports.insert(&api.export.name) {
                return Err(format!("APIExport {:?} is bound twice", api.export.name));
            }
        }
        Ok(Self(apis))
    }
}

impl From<PublishedApis> for Vec<PublishedApi> {
    fn from(apis: PublishedApis) -> Self {
        apis.0
    }
}

/// A published API: an APIExport every project binds, and its service namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    try_from = "RawPublishedApi"
)]
pub struct PublishedApi {
    /// The API's kind, for messages (`VirtualMachine`).
    pub name: String,
    /// The APIExport. The project roles cover the groups kcp reports the binding bound
    /// (`status.boundResources`), and until then a group named as the export.
    pub export: Export,
    /// Suffix of the project's namespace for this API (`vms`: `ws-<project>-vms`).
    pub namespace_suffix: String,
}

/// A published API: an APIExport every project binds, and its service namespace.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPublishedApi {
    /// The API's kind, for messages (`VirtualMachine`).
    name: String,
    /// The APIExport. The project roles cover the groups kcp reports the binding bound
    /// (`status.boundResources`), and until then a group named as the export.
    export: Export,
    /// Suffix of the project's namespace for this API (`vms`: `ws-<project>-vms`); at most 20
    /// characters.
    namespace_suffix: String,
}

impl TryFrom<RawPublishedApi> for PublishedApi {
    type Error = String;
    fn try_from(raw: RawPublishedApi) -> Result<Self, String> {
        let what = format!("published API {:?}", raw.name);
        if raw.name.is_empty() {
            return Err("a published API needs a name".into());
        }
        if !is_dns_subdomain(&raw.export.name) {
            return Err(format!(
                "{what}: export.name {:?} is not an APIExport name (a DNS subdomain such as compute.cloud.stakater.com)",
                raw.export.name
            ));
        }
        if !is_workspace_path(&raw.export.path) {
            return Err(format!(
                "{what}: export.path {:?} is not an absolute workspace path such as root or root:providers",
                raw.export.path
            ));
        }
        check_dns_label(&raw.namespace_suffix)
            .map_err(|e| format!("{what}: namespaceSuffix {e}"))?;
        if raw.namespace_suffix.len() > MAX_SUFFIX {
            return Err(format!(
                "{what}: namespaceSuffix {:?} is longer than {MAX_SUFFIX} characters",
                raw.namespace_suffix
            ));
        }
        Ok(Self {
            name: raw.name,
            export: raw.export,
            namespace_suffix: raw.namespace_suffix,
        })
    }
}

/// An APIExport reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Export {
    /// Absolute path of the workspace holding the export (`root`).
    pub path: String,
    /// The export's name.
    pub name: String,
}

/// A quota profile: MTO Quota `spec.resourcequota.hard`, and a LimitRange where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaProfile {
    /// Hard limits by resource name (`requests.cpu: "4"`).
    pub hard: BTreeMap<String, String>,
    /// Defaults and bounds per container, pod or claim in each namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_range: Option<Vec<LimitRangeItem>>,
}

/// One LimitRange entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitRangeItem {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Default limits.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default: BTreeMap<String, String>,
    /// Default requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_request: BTreeMap<String, String>,
    /// Maximum usage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max: BTreeMap<String, String>,
    /// Minimum usage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub min: BTreeMap<String, String>,
}

/// User and group name prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prefixes {
    /// Prefix of usernames.
    pub username: String,
    /// Prefix of group names.
    pub groups: String,
}

/// Whether `name` is a DNS subdomain (dot-separated DNS labels, at most 253 characters).
fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(|l| check_dns_label(l).is_ok())
}

/// Whether `path` is an absolute KCP workspace path (`root`, `root:a:b`).
pub fn is_workspace_path(path: &str) -> bool {
    path.split(':').all(|l| check_dns_label(l).is_ok())
}
