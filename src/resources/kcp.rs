//! KCP tenancy (`tenancy.kcp.io/v1alpha1`): the `Workspace`, the `WorkspaceType` that presets
//! workspaces, and the `WorkspaceAuthenticationConfiguration` a type uses to admit tokens from
//! an extra OIDC issuer. All are cluster-scoped inside their logical cluster and reach KCP
//! wrapped in provider-kubernetes `Object`s.

use serde::{Deserialize, Serialize};

use super::Meta;

/// apiVersion of the tenancy kinds.
pub const API_VERSION: &str = "tenancy.kcp.io/v1alpha1";
/// The `status.phase` of a workspace that serves requests.
pub const PHASE_READY: &str = "Ready";
/// provider-kubernetes CEL readiness query for a wrapped `Workspace`.
pub const WORKSPACE_READY_QUERY: &str = "object.status.phase == 'Ready'";

/// The absolute path of workspace `name` inside the workspace at `parent` (`root:acme`).
pub fn child_path(parent: &str, name: &str) -> String {
    format!("{parent}:{name}")
}

/// A reference to a `WorkspaceType`: its name and the path of the workspace that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceTypeReference {
    /// The type's name (lower case).
    pub name: String,
    /// The absolute path of the workspace holding the type (`root`).
    pub path: String,
}

/// A KCP `Workspace`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `Workspace`.
    pub kind: &'static str,
    /// Metadata (the name is the workspace's name in its parent).
    pub metadata: Meta,
    /// Spec.
    pub spec: WorkspaceSpec,
}

/// `spec` of a Workspace: only the (immutable) type is ours; KCP sets `URL` and `cluster`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkspaceSpec {
    /// The workspace's type.
    #[serde(rename = "type")]
    pub type_: WorkspaceTypeReference,
}

impl Workspace {
    /// A workspace of type `type_`.
    pub fn new(metadata: Meta, type_: WorkspaceTypeReference) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "Workspace",
            metadata,
            spec: WorkspaceSpec { type_ },
        }
    }
}

/// What KCP reports about a workspace, read from the observed object: `spec.URL` and
/// `status.phase`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ObservedWorkspace {
    spec: Option<ObservedWorkspaceSpec>,
    status: Option<ObservedWorkspaceStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct ObservedWorkspaceSpec {
    #[serde(rename = "URL")]
    url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct ObservedWorkspaceStatus {
    phase: Option<String>,
}

impl ObservedWorkspace {
    /// `status.phase` (`Scheduling`, `Initializing`, `Ready`, ...), if reported.
    pub fn phase(&self) -> Option<&str> {
        let phase = self.status.as_ref()?.phase.as_deref();
        phase.filter(|p| !p.is_empty())
    }

    /// `spec.URL`, once KCP has set it.
    pub fn url(&self) -> Option<&str> {
        let url = self.spec.as_ref()?.url.as_deref();
        url.filter(|u| !u.is_empty())
    }

    /// Whether the workspace is `Ready`.
    pub fn is_ready(&self) -> bool {
        self.phase() == Some(PHASE_READY)
    }
}

/// A KCP `WorkspaceType`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceType {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `WorkspaceType`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: WorkspaceTypeSpec,
}

/// `spec` of a WorkspaceType (the fields the compositions set).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTypeSpec {
    /// `WorkspaceAuthenticationConfiguration`s (in the same workspace) whose JWT issuers every
    /// workspace of this type also trusts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authentication_configurations: Vec<AuthenticationConfigurationReference>,
    /// Types this one extends (inherits initializers and parent/child limits from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend: Option<WorkspaceTypeExtension>,
}

/// A reference to a `WorkspaceAuthenticationConfiguration` by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthenticationConfigurationReference {
    /// Its name.
    pub name: String,
}

/// `spec.extend` of a WorkspaceType.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceTypeExtension {
    /// The extended types.
    pub with: Vec<WorkspaceTypeReference>,
}

impl WorkspaceType {
    /// A workspace type.
    pub fn new(metadata: Meta, spec: WorkspaceTypeSpec) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "WorkspaceType",
            metadata,
            spec,
        }
    }
}

/// A KCP `WorkspaceAuthenticationConfiguration`: JWT authenticators for the workspaces of the
/// types that reference it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceAuthenticationConfiguration {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `WorkspaceAuthenticationConfiguration`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: AuthenticationConfigurationSpec,
}

/// `spec` of a WorkspaceAuthenticationConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticationConfigurationSpec {
    /// The JWT authenticators.
    pub jwt: Vec<JwtAuthenticator>,
}

/// One JWT authenticator (the shape of Kubernetes' structured authentication configuration).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuthenticator {
    /// The issuer and the audiences it must have issued the token for.
    pub issuer: Issuer,
    /// How claims become the Kubernetes user.
    pub claim_mappings: ClaimMappings,
}

/// `issuer` of a JWT authenticator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    /// The issuer URL; must equal the tokens' `iss` claim. Discovery is fetched from
    /// `<url>/.well-known/openid-configuration`.
    pub url: String,
    /// Accepted audiences.
    pub audiences: Vec<String>,
    /// `MatchAny` (required with more than one audience).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience_match_policy: Option<&'static str>,
    /// PEM CA bundle for fetching discovery, when the issuer's certificate is not publicly trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
}

/// `claimMappings` of a JWT authenticator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimMappings {
    /// The claim holding the username.
    pub username: PrefixedClaim,
    /// The claim holding the groups.
    pub groups: PrefixedClaim,
}

/// A claim and the prefix put in front of its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefixedClaim {
    /// The claim name.
    pub claim: String,
    /// The prefix (may be empty, then values are used as they are).
    pub prefix: String,
}

impl WorkspaceAuthenticationConfiguration {
    /// An authentication configuration with these authenticators.
    pub fn new(metadata: Meta, jwt: Vec<JwtAuthenticator>) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "WorkspaceAuthenticationConfiguration",
            metadata,
            spec: AuthenticationConfigurationSpec { jwt },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, meta};
    use serde_json::json;

    fn root_type(name: &str) -> WorkspaceTypeReference {
        WorkspaceTypeReference {
            name: name.into(),
            path: "root".into(),
        }
    }

    #[test]
    fn workspace() {
        let ws = Workspace::new(
            meta("acme", None, &Labels::default()),
            root_type("universal"),
        );
        assert_eq!(
            serde_json::to_value(ws).unwrap(),
            json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "acme"},
                   "spec": {"type": {"name": "universal", "path": "root"}}})
        );
        assert_eq!(child_path("root", "acme"), "root:acme");
    }

    #[test]
    fn observed_workspace_phase_and_url() {
        let read = |v| serde_json::from_value::<ObservedWorkspace>(v).unwrap();
        let ready = json!({"spec": {"URL": "https://kcp/clusters/root:acme"}, "status": {"phase": "Ready"}});
        let observed = read(ready);
        assert!(observed.is_ready());
        assert_eq!(observed.url(), Some("https://kcp/clusters/root:acme"));
        let scheduling = json!({"spec": {"URL": ""}, "status": {"phase": "Scheduling"}});
        let observed = read(scheduling);
        assert!(!observed.is_ready());
        assert_eq!(
            (observed.phase(), observed.url()),
            (Some("Scheduling"), None)
        );
        assert_eq!(read(json!({})), ObservedWorkspace::default());
    }

    #[test]
    fn workspace_type_with_authentication() {
        let spec = WorkspaceTypeSpec {
            authentication_configurations: vec![AuthenticationConfigurationReference {
                name: "keycloak-acme".into(),
            }],
            extend: Some(WorkspaceTypeExtension {
                with: vec![root_type("universal")],
            }),
        };
        let value = serde_json::to_value(WorkspaceType::new(
            meta("project", None, &Labels::default()),
            spec,
        ))
        .unwrap();
        assert_eq!(
            value["spec"]["authenticationConfigurations"],
            json!([{"name": "keycloak-acme"}])
        );
        assert_eq!(
            value["spec"]["extend"]["with"][0],
            json!({"name": "universal", "path": "root"})
        );
        let bare = serde_json::to_value(WorkspaceType::new(
            meta("plain", None, &Labels::default()),
            WorkspaceTypeSpec::default(),
        ))
        .unwrap();
        assert_eq!(bare["spec"], json!({}));
    }

    #[test]
    fn authentication_configuration() {
        let jwt = JwtAuthenticator {
            issuer: Issuer {
                url: "https://sso.example.com/realms/acme".into(),
                audiences: vec!["kubectl".into(), "sco-console".into()],
                audience_match_policy: Some("MatchAny"),
                certificate_authority: None,
            },
            claim_mappings: ClaimMappings {
                username: PrefixedClaim {
                    claim: "preferred_username".into(),
                    prefix: "oidc:".into(),
                },
                groups: PrefixedClaim {
                    claim: "groups".into(),
                    prefix: "oidc:".into(),
                },
            },
        };
        let value = serde_json::to_value(WorkspaceAuthenticationConfiguration::new(
            meta("keycloak-acme", None, &Labels::default()),
            vec![jwt],
        ))
        .unwrap();
        assert_eq!(value["kind"], "WorkspaceAuthenticationConfiguration");
        assert_eq!(
            value["spec"]["jwt"][0],
            json!({
                "issuer": {"url": "https://sso.example.com/realms/acme", "audiences": ["kubectl", "sco-console"], "audienceMatchPolicy": "MatchAny"},
                "claimMappings": {"username": {"claim": "preferred_username", "prefix": "oidc:"}, "groups": {"claim": "groups", "prefix": "oidc:"}},
            })
        );
    }
}
