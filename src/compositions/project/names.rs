//! Names of the Project's composed resources and objects.
//!
//! Composition resource names are stable: Crossplane matches desired to observed resources by
//! them, so renaming one deletes and recreates the resource. Cluster-scoped object names on
//! the service cluster (Tenant, Quota, ClusterUserDefinedNetwork, managed resources) start
//! with `<organisation>-<project>`, so that two organisations with a project of the same
//! name cannot clash by accident; the namespaces are `ws-<project>-<suffix>` as SCO
//! documents, guarded by the ownership check.

use crate::compositions::conventions;

/// The project's KCP workspace (an Object through the organisation's provider config).
pub const WORKSPACE: &str = "workspace";
/// The project workspace's kubeconfig Secret.
pub const KUBECONFIG: &str = "kubeconfig";
/// The project workspace's ProviderConfig.
pub const PROVIDER_CONFIG: &str = "provider-config";
/// The MTO Quota (an Object).
pub const QUOTA: &str = "quota";
/// The MTO Tenant (an Object).
pub const TENANT: &str = "tenant";
/// The ClusterUserDefinedNetwork (an Object).
pub const NETWORK: &str = "network";
/// The workspace-access ClusterRoleBinding (an Object).
pub const ACCESS_BINDING: &str = "binding-access";
/// Requirement: the organisation's provider config.
pub const ORG_PROVIDER_CONFIG: &str = "organisation-provider-config";
/// Usage: the workspace outlives the Tenant.
pub const USAGE_WORKSPACE_BY_TENANT: &str = "usage-workspace-by-tenant";
/// Usage: the Quota outlives the Tenant.
pub const USAGE_QUOTA_BY_TENANT: &str = "usage-quota-by-tenant";
/// Usage: the network outlives the Tenant.
pub const USAGE_NETWORK_BY_TENANT: &str = "usage-network-by-tenant";
/// Usage: the project ProviderConfig outlives the workspace.
pub const USAGE_PROVIDER_CONFIG_BY_WORKSPACE: &str = "usage-provider-config-by-workspace";
/// Usage: the kubeconfig Secret outlives the ProviderConfig.
pub const USAGE_KUBECONFIG_BY_PROVIDER_CONFIG: &str = "usage-kubeconfig-by-provider-config";
/// Usage: the organisation's ProviderConfig outlives the project workspace.
pub const USAGE_ORG_PROVIDER_CONFIG_BY_WORKSPACE: &str =
    "usage-organisation-provider-config-by-workspace";
/// Usage: the organisation's workspace outlives the project workspace.
pub const USAGE_ORG_WORKSPACE_BY_WORKSPACE: &str = "usage-organisation-workspace-by-workspace";
/// Usage: the organisation's realm outlives the project workspace.
pub const USAGE_ORG_REALM_BY_WORKSPACE: &str = "usage-organisation-realm-by-workspace";
/// Usage: the Organisation composite outlives the project workspace (refusing its deletion).
pub const USAGE_ORGANISATION_BY_WORKSPACE: &str = "usage-organisation-by-workspace";

/// The APIBinding Object of the API with namespace suffix `suffix`.
pub fn api_binding(suffix: &str) -> String {
    format!("apibinding-{suffix}")
}

/// The ClusterRole Object of `role`.
pub fn role(role: &str) -> String {
    format!("role-{role}")
}

/// The ClusterRoleBinding Object of `role`.
pub fn binding(role: &str) -> String {
    format!("binding-{role}")
}

/// The Keycloak Group of `role`.
pub fn group(role: &str) -> String {
    format!("group-{role}")
}

/// The Keycloak Memberships of `role`.
pub fn members(role: &str) -> String {
    format!("members-{role}")
}

/// The KubeVirt limits marker (a ResourceQuota Object) in the namespace of suffix `suffix`.
pub fn kubevirt_limits(suffix: &str) -> String {
    format!("kubevirt-limits-{suffix}")
}

/// The KubeVirt limits marker's name in each project namespace.
pub const KUBEVIRT_LIMITS_QUOTA: &str = "sco-kubevirt-limits";

/// The requirement fetching namespace `ws-<project>-<suffix>`.
pub fn namespace_requirement(suffix: &str) -> String {
    format!("namespace-{suffix}")
}

/// A Usage: `used` outlives `user` (composition resource names).
pub fn usage(used: &str, user: &str) -> String {
    format!("usage-{used}-by-{user}")
}

/// The project's service namespace for namespace suffix `suffix`.
pub fn namespace(project: &str, suffix: &str) -> String {
    format!("ws-{project}-{suffix}")
}

/// A deterministic cluster-scoped object name `<organisation>-<project>[-<suffix>]`.
pub fn object(org: &str, project: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        conventions::name(&[org, project])
    } else {
        conventions::name(&[org, project, suffix])
    }
}

/// The project workspace's ProviderConfig and kubeconfig Secret (`kcp-<org>-<project>`).
pub fn provider_config(org: &str, project: &str) -> String {
    conventions::name(&["kcp", org, project])
}

/// The Keycloak group of `role` in the organisation's realm (`<project>-<role>`).
pub fn keycloak_group(project: &str, role: &str) -> String {
    format!("{project}-{role}")
}

/// ClusterRole (and its binding) of `role` inside the project workspace.
pub fn workspace_role(role: &str) -> String {
    format!("sco-project-{role}")
}

/// The workspace-access ClusterRoleBinding inside the project workspace.
pub const WORKSPACE_ACCESS_BINDING: &str = "sco-project-access";
