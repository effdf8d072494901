//! The Project XR (`tenant.cloud.stakater.com/v1` `XProject`, cluster-scoped, claimed as
//! `Project`): the source of its XRD schema, and its status.
//!
//! The parameters are plain strings with the schema's patterns and enums, so that the API
//! server refuses most bad values, and the function's `Composition::validate` names every
//! remaining bad field at once (a decoded newtype would stop at the first).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::types::{CIDR_PATTERN, DNS_LABEL_PATTERN, Text, USERNAME_REF_PATTERN};

/// A Keycloak group name as a project role names it: no `/` (Keycloak's path separator), no
/// control character, no whitespace at either end.
const GROUP_NAME_PATTERN: &str =
    r"^[^/\s\x00-\x1f\x7f-\x9f]([^/\x00-\x1f\x7f-\x9f]*[^/\s\x00-\x1f\x7f-\x9f])?$";

/// The api-syncagent annotation naming the workspace a synced object came from (`root:<org>`);
/// set only when the PublishedResource has `enableWorkspacePaths: true`.
pub const WORKSPACE_PATH_ANNOTATION: &str = "syncagent.kcp.io/remote-object-workspace-path";

/// Spec of a Project: a team's KCP workspace with the platform's APIs bound, its service
/// namespaces, quota, network and access.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenant.cloud.stakater.com",
    version = "v1",
    kind = "XProject",
    plural = "xprojects",
    status = "ProjectStatus",
    category = "sco",
    doc = "An SCO project inside an organisation: a KCP workspace with the platform's APIs bound, one service-cluster namespace per published API under an MTO Tenant and Quota, an optional primary network, and role-based access. Claimed as Project.",
    printcolumn = r#"{"name": "ORGANISATION", "type": "string", "jsonPath": ".status.organisation"}"#,
    printcolumn = r#"{"name": "WORKSPACE-URL", "type": "string", "jsonPath": ".status.workspace.url", "priority": 1}"#
)]
pub struct XProjectSpec {
    /// The project's name, network, quota and access.
    pub parameters: Parameters,
}

/// The project's parameters (SCO's API reference, plus `organisation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.network) == has(oldSelf.network)", "message": "network cannot be added to or removed from an existing project: OVN-Kubernetes reads a namespace's primary network only when the namespace is created"},
]))]
pub struct Parameters {
    /// Name of the project (a DNS label). It names the KCP workspace, the Keycloak groups
    /// `<name>-<role>` and the service namespaces `ws-<name>-<suffix>`, which must stay
    /// within 63 characters: with the default published APIs (longest suffix `clusters`)
    /// the name has at most 51. The suffixes are platform settings, so the function, not
    /// this schema, refuses a name that a configured suffix makes too long. It cannot
    /// change.
    #[schemars(length(min = 1, max = 63), pattern(DNS_LABEL_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "the project name is immutable"}]))]
    pub name: String,
    /// The organisation the project belongs to (an SCO addition to the API reference). When
    /// unset, it is read from the annotation `syncagent.kcp.io/remote-object-workspace-path`
    /// (`root:<organisation>`) that api-syncagent sets on a Project created in an
    /// organisation workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), pattern(DNS_LABEL_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "the organisation is immutable"}]))]
    pub organisation: Option<String>,
    /// A primary Layer2 network for the project's namespaces (OVN-Kubernetes
    /// ClusterUserDefinedNetwork), so VMs keep their addresses. Optional (SCO's reference
    /// requires it): without it, workloads use the cluster's pod network. It cannot be added,
    /// removed or changed after creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "the network is immutable"}]))]
    pub network: Option<Network>,
    /// Quota profile of the project's namespaces, as the platform defines it (by default
    /// small: 4 CPU / 8Gi requests, 8 CPU / 16Gi limits; medium: 8 / 16Gi, 16 / 32Gi; large:
    /// 16 / 32Gi, 32 / 64Gi).
    #[serde(default = "default_quota")]
    #[schemars(
        default = "default_quota",
        length(min = 1, max = 63),
        pattern(DNS_LABEL_PATTERN)
    )]
    pub tenant_quota: String,
    /// Who may do what in the project: `admin` (full control, `cluster-admin` is a synonym),
    /// `edit` (everything but RBAC) or `view` (read-only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub access: Vec<Access>,
}

fn default_quota() -> String {
    "small".into()
}

/// A project network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// A name for the network (recorded as a label on it; the network is named after the
    /// project).
    #[schemars(length(min = 1, max = 63), pattern(DNS_LABEL_PATTERN))]
    pub name: String,
    /// The network's IPv4 or IPv6 CIDR (a network address such as 10.100.0.0/16); it must not
    /// overlap the cluster's pod and service networks.
    #[schemars(length(min = 3, max = 43), pattern(CIDR_PATTERN))]
    pub cidr: String,
}

/// A role and who has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Access {
    /// `admin` (or its synonym `cluster-admin`), `edit` or `view`.
    #[schemars(extend("enum" = ["admin", "cluster-admin", "edit", "view"]))]
    pub role: String,
    /// Keycloak usernames in the organisation's realm (lower-cased, as Keycloak stores them), made members of the
    /// project group `<project>-<role>`: exactly these, so anyone added to that group in
    /// Keycloak by hand is removed (a role given to groups only leaves its group to Keycloak).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(pattern(USERNAME_REF_PATTERN)))]
    pub users: Vec<Text<3, 255>>,
    /// Groups of the organisation's realm granted the role: Keycloak group names (no `/`, no
    /// surrounding whitespace), not starting with `system:`, which Kubernetes reserves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(pattern(GROUP_NAME_PATTERN)))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self.all(g, !g.startsWith('system:'))", "message": "group names starting with system: are Kubernetes' own: choose another group"}]))]
    pub groups: Vec<Text<1, 255>>,
}

/// Observed state of a Project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStatus {
    /// The organisation the project belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The project's KCP workspace, once KCP serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceStatus>,
    /// The project's namespaces on the service cluster, one per published API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Whether the KCP workspace and its provider config are ready.
    #[serde(default)]
    pub workspace_ready: bool,
    /// Whether the MTO Tenant and Quota are ready and every API is bound.
    #[serde(default)]
    pub tenant_ready: bool,
    /// Whether the project network is created (true without a network).
    #[serde(default)]
    pub networks_ready: bool,
    /// Whether MTO reports every project namespace deployed.
    #[serde(default)]
    pub namespaces_ready: bool,
    /// Whether every composed resource is ready.
    #[serde(default)]
    pub all_resources_ready: bool,
    /// What the project waits for, or that it is ready.
    #[serde(default)]
    pub message: String,
}

/// The project's KCP workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStatus {
    /// Its absolute path (`root:acme:shop`).
    pub name: String,
    /// Its API endpoint.
    pub url: String,
    /// A kubeconfig for it, base64-encoded: the CA `kcp.consumerCa` names (the admin
    /// kubeconfig's, a bundle, or none for the system roots) and an `oidc-login` exec user
    /// against the organisation's realm. It holds no credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_base64: Option<String>,
}
