//! Names of the Organisation's composed resources and objects.
//!
//! Composition resource names are stable: Crossplane matches desired to observed resources
//! by them, so renaming one deletes and recreates the resource.

use crate::compositions::conventions;

/// The organisation's KCP workspace (an Object).
pub const WORKSPACE: &str = "workspace";
pub const KUBECONFIG: &str = "kubeconfig";
pub const PROVIDER_CONFIG: &str = "provider-config";
pub const REALM: &str = "realm";
pub const CONSOLE_CLIENT: &str = "console-client";
pub const KUBECTL_CLIENT: &str = "kubectl-client";
pub const CONSOLE_GROUPS: &str = "console-groups-mapper";
pub const KUBECTL_GROUPS: &str = "kubectl-groups-mapper";
pub const CONSOLE_AUDIENCE: &str = "console-kcp-audience-mapper";
pub const KUBECTL_AUDIENCE: &str = "kubectl-kcp-audience-mapper";
pub const ADMINS_GROUP: &str = "admins-group";
pub const ADMIN_USER: &str = "admin-user";
/// The Secret with the first administrator's initial password.
pub const ADMIN_PASSWORD: &str = "admin-initial-password";
pub const ADMIN_MEMBERSHIP: &str = "admin-membership";
pub const IDENTITY_PROVIDER: &str = "identity-provider";
pub const IDP_CLIENT_ID: &str = "identity-provider-client-id";
/// Requirement: the Secret with the SMTP password (`keycloak.smtp.auth.passwordSecret`).
pub const SMTP_PASSWORD_REQUIREMENT: &str = "smtp-password-secret";
/// Requirement: the Secret with the federated provider's client secret.
pub const IDP_CLIENT_SECRET_REQUIREMENT: &str = "identity-provider-client-secret";
pub const AUTH_CONFIG: &str = "auth-config";
pub const PROJECT_WORKSPACE_TYPE: &str = "project-workspace-type";
pub const USAGE_WORKSPACE: &str = "usage-workspace-by-provider-config";
pub const USAGE_KUBECONFIG: &str = "usage-kubeconfig-by-provider-config";
pub const USAGE_REALM_BY_GROUP: &str = "usage-realm-by-admins-group";
pub const USAGE_REALM_BY_USER: &str = "usage-realm-by-admin-user";
pub const USAGE_REALM_BY_IDP: &str = "usage-realm-by-identity-provider";
pub const USAGE_IDP_CLIENT_ID: &str = "usage-identity-provider-client-id-by-identity-provider";
/// Usage: the organisation's WorkspaceType outlives the workspace that has it.
pub const USAGE_ORG_WORKSPACE_TYPE: &str = "usage-org-workspace-type-by-workspace";
/// Usage: the organisation's authentication configuration outlives the type naming it.
pub const USAGE_ORG_AUTH_CONFIG: &str = "usage-org-auth-config-by-org-workspace-type";

/// A deterministic object name `<organisation>-<suffix>`.
pub fn object(org: &str, suffix: &str) -> String {
    conventions::name(&[org, suffix])
}

/// The Object holding the organisation's workspace (`<organisation>-workspace`), which the
/// Project composition keeps while a project workspace lives in it.
pub fn workspace_object(org: &str) -> String {
    object(org, "workspace")
}

/// The organisation's `Realm` managed resource (`<organisation>-realm`), which the Project
/// composition keeps while the project exists.
pub fn realm_object(org: &str) -> String {
    object(org, "realm")
}

/// The name of the workspace's provider-kubernetes ProviderConfig (`kcp-<organisation>`),
/// which the Project composition uses to create project workspaces in it.
pub fn provider_config(org: &str) -> String {
    conventions::name(&["kcp", org])
}

/// The name of the authentication configuration inside the organisation's workspace.
pub const AUTH_CONFIG_OBJECT: &str = "keycloak-realm";

/// Objects granting the administrators' group access to the organisation's workspace and
/// the creation of project workspaces in it.
pub const ADMINS_ACCESS: &str = "admins-workspace-access";
pub const PROJECT_CREATOR: &str = "project-creator-role";
pub const PROJECT_CREATORS: &str = "admins-project-creator";
/// Their names inside the workspace.
pub const ADMINS_ACCESS_OBJECT: &str = "sco-org-admins-access";
pub const PROJECT_CREATOR_OBJECT: &str = "sco-project-creator";
pub const PROJECT_CREATORS_OBJECT: &str = "sco-org-admins-project-creator";

/// The organisation's own workspace type and authentication configuration in the root
/// workspace (Objects), with token validation.
pub const ORG_AUTH_CONFIG: &str = "org-auth-config";
pub const ORG_WORKSPACE_TYPE: &str = "org-workspace-type";

/// Their name in the root workspace: `org-<organisation>`.
pub fn organisation_workspace_type(org: &str) -> String {
    conventions::name(&["org", org])
}
