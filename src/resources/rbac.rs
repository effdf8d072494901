//! Kubernetes RBAC (`rbac.authorization.k8s.io/v1`): `ClusterRole` and `ClusterRoleBinding`,
//! as the compositions write them through a provider config into another API server, wrapped
//! in provider-kubernetes `Object`s: a project's KCP workspace (Project), the organisation's
//! (Organisation), a hosted cluster (OpenShiftCluster's access bindings).
//!
//! KCP facts this relies on (`kcp-dev/kcp`, read at `000df6e8` / `02cc6240`):
//! - Every request into a workspace first needs verb `access` on non-resource URL `/` there
//!   (the workspace content authorizer). kcp's bootstrap policy defines ClusterRole
//!   `system:kcp:workspace:access` with exactly that one rule
//!   (`pkg/authorization/bootstrap/policy.go`, `SystemKcpWorkspaceAccessGroup`), so a binding to
//!   it ([`ClusterRoleBinding::workspace_access`]) is what lets a user in at all; RBAC on
//!   resources is checked after that.
//! - In a new workspace kcp binds only the workspace's owner: the logical-cluster controller
//!   creates ClusterRoleBinding `workspace-admin` to `cluster-admin` for the user in the
//!   LogicalCluster's `experimental.tenancy.kcp.io/owner` annotation, i.e. whoever created the
//!   Workspace (`pkg/reconciler/tenancy/logicalcluster/logicalcluster_controller.go`). For a
//!   composed workspace that is provider-kubernetes' identity, not a project member: every
//!   human needs bindings of ours.
//! - Kubernetes' own aggregated roles (`admin`, `edit`, `view`) come from the bootstrap policy,
//!   not from the workspace, and aggregate only ClusterRoles stored beside them; an APIBinding
//!   brings no ClusterRoles into the consumer workspace. So aggregation never covers a bound
//!   API's group: the roles here list every bound group in their own rules (inference from the
//!   bootstrap authorizer's design; see the research note).

use serde::{Deserialize, Serialize};

use super::Meta;

/// apiVersion of the RBAC kinds.
pub const API_VERSION: &str = "rbac.authorization.k8s.io/v1";
/// The API group of roles and subjects.
pub const GROUP: &str = "rbac.authorization.k8s.io";
/// kcp's ClusterRole granting `access` on `/` in a workspace.
pub const WORKSPACE_ACCESS_ROLE: &str = "system:kcp:workspace:access";

/// One `rules[]` entry of a ClusterRole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// API groups (`""` for the core group, `*` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resources (`*` for all, `pods/log` for a subresource).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Verbs (required by the API server).
    pub verbs: Vec<String>,
    /// Non-resource URLs (`/healthz`, `/`); only in ClusterRoles, and then without groups
    /// or resources.
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl PolicyRule {
    /// `verbs` on `resources` of `groups`.
    pub fn resources(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        Self {
            api_groups: strings(groups),
            resources: strings(resources),
            verbs: strings(verbs),
            non_resource_urls: Vec::new(),
        }
    }

    /// `verbs` on non-resource `urls`.
    pub fn urls(urls: &[&str], verbs: &[&str]) -> Self {
        Self {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..Self::default()
        }
    }
}

/// A `ClusterRole`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRole {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: &'static str,
    /// `ClusterRole`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped).
    pub metadata: Meta,
    /// The rules (no aggregation rule: see the module doc).
    pub rules: Vec<PolicyRule>,
}

impl ClusterRole {
    /// A cluster role with these rules.
    pub fn new(metadata: Meta, rules: Vec<PolicyRule>) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "ClusterRole",
            metadata,
            rules,
        }
    }
}

/// A `roleRef` to a ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    /// `rbac.authorization.k8s.io`.
    pub api_group: &'static str,
    /// `ClusterRole`.
    pub kind: &'static str,
    /// The role's name.
    pub name: String,
}

/// The kind of a user or group subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SubjectKind {
    /// A user, by the username the authenticator produced (with its prefix).
    User,
    /// A group, by name (with its prefix).
    Group,
}

/// One `subjects[]` entry of a binding (users and groups only; no service accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// `rbac.authorization.k8s.io` (required for users and groups).
    pub api_group: &'static str,
    /// User or Group.
    pub kind: SubjectKind,
    /// The name.
    pub name: String,
}

impl Subject {
    /// User `name`.
    pub fn user(name: impl Into<String>) -> Self {
        Self {
            api_group: GROUP,
            kind: SubjectKind::User,
            name: name.into(),
        }
    }

    /// Group `name`.
    pub fn group(name: impl Into<String>) -> Self {
        Self {
            api_group: GROUP,
            kind: SubjectKind::Group,
            name: name.into(),
        }
    }
}

/// A `ClusterRoleBinding`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRoleBinding {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: &'static str,
    /// `ClusterRoleBinding`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped).
    pub metadata: Meta,
    /// The role granted (immutable once created).
    pub role_ref: RoleRef,
    /// Who is granted it; omitted when empty (the API allows a binding without subjects).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
}

impl ClusterRoleBinding {
    /// A binding of ClusterRole `role` to `subjects`.
    pub fn new(metadata: Meta, role: &str, subjects: Vec<Subject>) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "ClusterRoleBinding",
            metadata,
            role_ref: RoleRef {
                api_group: GROUP,
                kind: "ClusterRole",
                name: role.to_owned(),
            },
            subjects,
        }
    }

    /// A binding of kcp's `system:kcp:workspace:access` to `subjects`: lets them into the
    /// workspace, nothing more.
    pub fn workspace_access(metadata: Meta, subjects: Vec<Subject>) -> Self {
        Self::new(metadata, WORKSPACE_ACCESS_ROLE, subjects)
    }
}

/// A project role: what `access[].role` grants in the project workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProjectRole {
    /// Everything in the workspace, RBAC included.
    Admin,
    /// Read and write workloads, no RBAC changes.
    Edit,
    /// Read only (no Secrets).
    View,
}

/// Read verbs.
const READ: [&str; 3] = ["get", "list", "watch"];
/// Write verbs.
const WRITE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

impl ProjectRole {
    /// The rules of this role in a workspace where `bound_groups` are bound: the built-in
    /// kinds of a KCP workspace (core `namespaces`, `configmaps`, `secrets`, `events`,
    /// `serviceaccounts`; RBAC for admin, read-only for the others) and every resource of each
    /// bound group. Explicit rules, since aggregation does not reach bound APIs.
    pub fn rules(self, bound_groups: &[&str]) -> Vec<PolicyRule> {
        let mut groups: Vec<&str> = bound_groups.to_vec();
        groups.sort_unstable();
        groups.dedup();
        let rbac = [GROUP];
        match self {
            Self::Admin => vec![
                PolicyRule::resources(&[""], &["*"], &["*"]),
                PolicyRule::resources(&rbac, &["*"], &["*"]),
                PolicyRule::resources(&groups, &["*"], &["*"]),
            ],
            Self::Edit => vec![
                PolicyRule::resources(
                    &[""],
                    &["configmaps", "namespaces", "secrets", "serviceaccounts"],
                    &WRITE,
                ),
                PolicyRule::resources(&[""], &["events"], &READ),
                PolicyRule::resources(
                    &rbac,
                    &[
                        "clusterroles",
                        "clusterrolebindings",
                        "roles",
                        "rolebindings",
                    ],
                    &READ,
                ),
                PolicyRule::resources(&groups, &["*"], &WRITE),
            ],
            Self::View => vec![
                PolicyRule::resources(
                    &[""],
                    &["configmaps", "events", "namespaces", "serviceaccounts"],
                    &READ,
                ),
                PolicyRule::resources(&groups, &["*"], &READ),
            ],
        }
        .into_iter()
        .filter(|rule| !rule.api_groups.is_empty())
        .collect()
    }
}

referable! {
    impl for ClusterRole;
    impl for ClusterRoleBinding;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use k8s_openapi::api::rbac::v1 as k8s;
    use serde_json::json;

    #[test]
    fn cluster_role_writes_what_k8s_openapi_writes() {
        let role = ClusterRole::new(
            meta("sco-project-view", None, &Labels::default()),
            vec![
                PolicyRule::resources(
                    &["", "compute.cloud.stakater.com"],
                    &["configmaps", "virtualmachines"],
                    &["get", "list", "watch"],
                ),
                PolicyRule::urls(&["/"], &["access"]),
            ],
        );
        let value = serde_json::to_value(&role).unwrap();
        let theirs = k8s::ClusterRole {
            metadata: role.metadata.clone().into(),
            rules: Some(vec![
                k8s::PolicyRule {
                    api_groups: Some(vec!["".into(), "compute.cloud.stakater.com".into()]),
                    resources: Some(vec!["configmaps".into(), "virtualmachines".into()]),
                    verbs: vec!["get".into(), "list".into(), "watch".into()],
                    ..Default::default()
                },
                k8s::PolicyRule {
                    non_resource_urls: Some(vec!["/".into()]),
                    verbs: vec!["access".into()],
                    ..Default::default()
                },
            ]),
            aggregation_rule: None,
        };
        let mut theirs = serde_json::to_value(theirs).unwrap();
        theirs["apiVersion"] = json!(API_VERSION);
        theirs["kind"] = json!("ClusterRole");
        assert_eq!(value, theirs);
        assert_eq!(
            value["rules"][1],
            json!({"verbs": ["access"], "nonResourceURLs": ["/"]})
        );
        assert_eq!(role.kind(), "ClusterRole");
    }

    #[test]
    fn workspace_access_binding() {
        let binding = ClusterRoleBinding::workspace_access(
            meta("sco-project-access", None, &Labels::default()),
            vec![Subject::group("oidc:shop-view"), Subject::user("oidc:ada")],
        );
        assert_eq!(
            serde_json::to_value(&binding).unwrap(),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "sco-project-access"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:kcp:workspace:access"},
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:shop-view"},
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "oidc:ada"},
                ],
            })
        );
        let empty =
            ClusterRoleBinding::new(meta("nobody", None, &Labels::default()), "view", Vec::new());
        assert!(
            serde_json::to_value(&empty)
                .unwrap()
                .get("subjects")
                .is_none()
        );
    }

    #[test]
    fn project_roles_name_every_bound_group() {
        let groups = [
            "kubernetes.cloud.stakater.com",
            "compute.cloud.stakater.com",
            "compute.cloud.stakater.com",
        ];
        let view = ProjectRole::View.rules(&groups);
        assert_eq!(
            serde_json::to_value(&view).unwrap(),
            json!([
                {"apiGroups": [""], "resources": ["configmaps", "events", "namespaces", "serviceaccounts"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["compute.cloud.stakater.com", "kubernetes.cloud.stakater.com"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
            ])
        );
        let edit = serde_json::to_value(ProjectRole::Edit.rules(&groups)).unwrap();
        assert_eq!(edit[3]["verbs"], json!(WRITE));
        assert_eq!(
            edit[2]["verbs"],
            json!(READ),
            "edit reads RBAC, never writes it"
        );
        let admin = serde_json::to_value(ProjectRole::Admin.rules(&[])).unwrap();
        assert_eq!(
            admin,
            json!([
                {"apiGroups": [""], "resources": ["*"], "verbs": ["*"]},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["*"], "verbs": ["*"]},
            ]),
            "no rule for an empty group list"
        );
    }
}
