//! The OpenShiftCluster XR (`kubernetes.cloud.stakater.com/v1`, namespaced), the source of its
//! XRD schema, and its status. Parameters follow SCO's API reference
//! (`openshift-cluster.md`): `clusterName`, `version`, `defaultNodepool`, `networking.mode`,
//! `access.groups[]` and `bootstrap.enabled`. The schema carries the enums, ranges and
//! patterns, and CEL rules for what HyperShift makes immutable (`clusterName` names the
//! HostedCluster; `networking.mode` chooses `spec.services`, which HyperShift's CEL makes
//! immutable); the function checks the rest and names every bad field.

use std::fmt;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::types::DNS_LABEL_PATTERN;

/// Pattern of an RFC 1123 subdomain (a group name): dot-separated DNS labels (their length, at
/// most 63 characters each, is a CEL rule beside it).
pub const SUBDOMAIN_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// The desired OpenShift cluster.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kubernetes.cloud.stakater.com",
    version = "v1",
    kind = "OpenShiftCluster",
    namespaced,
    status = "OpenShiftClusterStatus",
    derive = "PartialEq",
    category = "sco",
    doc = "An OpenShift cluster with a hosted control plane (HyperShift HostedCluster) on the platform's infrastructure, a default node pool sized by T-shirt size, sign-in through the organisation's Keycloak realm, and group access. networking.mode public publishes the API server on a LoadBalancer and the OAuth, Konnectivity and Ignition services on Routes; private publishes all four as NodePorts on the management network's address only (no public LoadBalancer or hostname), so the cluster is reachable from the management network and the organisation networks the platform routes to it, never from the internet.",
    printcolumn = r#"{"name": "CLUSTER", "type": "string", "jsonPath": ".spec.parameters.clusterName"}"#,
    printcolumn = r#"{"name": "VERSION", "type": "string", "jsonPath": ".status.version"}"#,
    printcolumn = r#"{"name": "PHASE", "type": "string", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "API", "type": "string", "jsonPath": ".status.apiEndpoint", "priority": 1}"#
)]
pub struct OpenShiftClusterSpec {
    /// The cluster's name, version, node pool, networking, access and bootstrap.
    pub parameters: Parameters,
}

/// The parameters of an OpenShift cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// The cluster's name (a DNS label): the HostedCluster's name. Its hosted control plane
    /// runs in namespace `<namespace>-<clusterName>`, which must also fit in 63 characters.
    /// Immutable.
    #[schemars(length(min = 1, max = 63), pattern(DNS_LABEL_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "clusterName is immutable: it names the HostedCluster and its control plane namespace"}]))]
    pub cluster_name: String,
    /// The OpenShift minor version; the platform maps each to a release image. Raising it
    /// upgrades the cluster (its node pools follow once the control plane has); lowering it
    /// below the version the cluster has been given is refused, as HyperShift never goes back
    /// a minor version.
    #[serde(default)]
    pub version: Version,
    /// The node pool created with the cluster.
    #[serde(default)]
    pub default_nodepool: DefaultNodepool,
    /// How the control plane is reached.
    #[serde(default)]
    pub networking: Networking,
    /// Who may do what on the cluster.
    #[serde(default)]
    pub access: Access,
    /// What SCO installs on the new cluster.
    #[serde(default)]
    pub bootstrap: Bootstrap,
}

/// An OpenShift minor version.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Version {
    /// OpenShift 4.18 (no custom API server name: `kubeAPIServerDNSName` needs 4.19).
    #[serde(rename = "4.18")]
    V4_18,
    /// OpenShift 4.19.
    #[default]
    #[serde(rename = "4.19")]
    V4_19,
    /// OpenShift 4.20.
    #[serde(rename = "4.20")]
    V4_20,
}

impl Version {
    /// `(major, minor)`.
    pub fn minor(self) -> (u64, u64) {
        match self {
            Self::V4_18 => (4, 18),
            Self::V4_19 => (4, 19),
            Self::V4_20 => (4, 20),
        }
    }

    /// As the XR spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V4_18 => "4.18",
            Self::V4_19 => "4.19",
            Self::V4_20 => "4.20",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default node pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultNodepool {
    /// Whether to create it; with false, add pools with OpenShiftNodePool. Set to false on an
    /// existing cluster, the pool is deleted with its nodes, and bootstrap releases not yet
    /// installed wait for nodes they cannot see.
    #[serde(default = "yes")]
    #[schemars(default = "yes")]
    pub enabled: bool,
    /// The T-shirt size of each node (the platform's size table).
    #[serde(default)]
    pub size: Size,
    /// The number of nodes.
    #[serde(default = "three")]
    #[schemars(default = "three", range(min = 1, max = 10))]
    pub replicas: u32,
}

fn yes() -> bool {
    true
}

fn three() -> u32 {
    3
}

impl Default for DefaultNodepool {
    fn default() -> Self {
        Self {
            enabled: true,
            size: Size::default(),
            replicas: 3,
        }
    }
}

/// A node size.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// Small.
    Small,
    /// Medium.
    #[default]
    Medium,
    /// Large.
    Large,
    /// Extra large.
    Xlarge,
}

impl Size {
    /// As the XR spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
            Self::Xlarge => "xlarge",
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Networking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Networking {
    /// public or private (see the kind's description). Immutable: it chooses the
    /// HostedCluster's `spec.services`, which HyperShift does not let change.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "networking.mode is immutable: HyperShift does not let a HostedCluster's services change"}]))]
    pub mode: Mode,
}

/// How the control plane is published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// API server on a LoadBalancer, the other services on Routes.
    #[default]
    Public,
    /// Every service on a NodePort of the management network's address only.
    Private,
}

/// Access to the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Access {
    /// Groups of the organisation's realm and their role on the cluster.
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub groups: Vec<GroupAccess>,
}

/// A group and its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupAccess {
    /// The group's name (an RFC 1123 subdomain). Names ending `-cluster-admin`, and
    /// `cluster-admin` itself, are reserved.
    #[schemars(length(min = 1, max = 253), pattern(SUBDOMAIN_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self != 'cluster-admin' && !self.endsWith('-cluster-admin')", "message": "cluster-admin and names ending -cluster-admin belong to the platform: choose another group name"},
        {"rule": "self.split('.').all(label, label.size() <= 63)", "message": "each dot-separated label of a group name has at most 63 characters (an RFC 1123 subdomain)"},
    ]))]
    pub name: String,
    /// Its role, bound cluster-wide: `view` is read-only; `edit`, `admin` and
    /// `customer-admin` amount to cluster-admin (they may impersonate service accounts and
    /// read every Secret), so grant them only to whoever may administer the whole cluster.
    pub role: Role,
}

/// A role on the cluster.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// OpenShift's `view`.
    View,
    /// OpenShift's `edit`.
    Edit,
    /// OpenShift's `admin`.
    Admin,
    /// The composition's `sco-customer-admin` ClusterRole.
    CustomerAdmin,
}

impl Role {
    /// As the XR spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Edit => "edit",
            Self::Admin => "admin",
            Self::CustomerAdmin => "customer-admin",
        }
    }
}

/// Bootstrap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bootstrap {
    /// Install the platform's bootstrap releases (`openshiftCluster.bootstrap`; by default
    /// Crossplane, Argo CD and the ksp-system namespace) once the cluster is available and
    /// its default node pool's nodes have joined.
    #[serde(default)]
    pub enabled: bool,
}

/// The phase of an OpenShiftCluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    /// The control plane is not available yet.
    Initializing,
    /// The control plane is available; nodes, sign-in or access are being registered.
    RegistrationPending,
    /// Everything is ready.
    Ready,
}

/// Status of the OpenShiftCluster XR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenShiftClusterStatus {
    /// Initializing, RegistrationPending or Ready.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<Phase>,
    /// Whether everything is ready.
    #[serde(default, deserialize_with = "lenient")]
    pub ready: bool,
    /// What is happening or awaited.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    /// The OpenShift version rolled out.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<String>,
    /// The web console's URL.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub console_url: Option<String>,
    /// The API server's URL.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_endpoint: Option<String>,
}

/// Reads a status field written by someone else as its default when it does not fit, so an
/// old status never stops the XR from rendering; this function rewrites it.
pub(crate) fn lenient<
    'de,
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
>(
    deserializer: D,
) -> Result<T, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}
