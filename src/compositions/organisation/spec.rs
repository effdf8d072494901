//! The Organisation XR (`tenant.cloud.stakater.com/v1`, cluster-scoped): the source of its
//! XRD schema. Names, email addresses and URLs are newtypes that validate while the XR is
//! decoded, so a bad value becomes a Fatal result naming its field
//! (`spec.parameters.admin.email: "ada" is not an email address ...`).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::types::{
    DNS_LABEL_PATTERN, DnsLabel, Email, HttpsUrl, PersonName, Text, Username, check_dns_label,
    validated_string,
};

/// Keycloak's administration realm, which no organisation may take.
const RESERVED_REALM: &str = "master";

/// Spec of an Organisation: a tenant of SCO, with its own Keycloak realm and KCP workspace.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenant.cloud.stakater.com",
    version = "v1",
    kind = "Organisation",
    shortname = "org",
    status = "OrganisationStatus",
    category = "sco",
    doc = "An SCO organisation: a company, business unit or customer with its own Keycloak realm, first administrator and KCP workspace, under which its projects are created.",
    printcolumn = r#"{"name": "REALM", "type": "string", "jsonPath": ".status.realm.name"}"#,
    printcolumn = r#"{"name": "WORKSPACE-URL", "type": "string", "jsonPath": ".status.workspace.url", "priority": 1}"#
)]
pub struct OrganisationSpec {
    /// What the organisation is and who administers it.
    pub parameters: Parameters,
}

/// The organisation's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// Short, URL-safe name of the organisation (a DNS label: lower-case letters, digits and
    /// '-'). It names the Keycloak realm and the KCP workspace, and cannot change.
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self == oldSelf", "message": "the organisation name is immutable"},
        {"rule": "self != 'master'", "message": "master is Keycloak's administration realm: choose another name"},
    ]))]
    pub name: OrganisationName,
    /// Human-readable name, shown on the login page.
    pub display_name: Text<1, 255>,
    /// The first administrator, created in the realm and made a member of the
    /// administrators' group (`keycloak.adminGroup`, by default `org-admins`).
    pub admin: Administrator,
    /// A corporate OpenID Connect provider the organisation's users can log in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<IdentityProvider>,
}

/// The organisation's first administrator. They get an initial temporary password, in a
/// Secret the status names (`status.adminInitialPassword`); Keycloak asks for a new one at
/// the first login, and for email verification too where the platform has SMTP. With a
/// federated provider they link their corporate login to this user at its first use, by a
/// link mailed to them where the platform has SMTP, else by entering that password once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "(has(self.username) ? self.username : self.email) == (has(oldSelf.username) ? oldSelf.username : oldSelf.email)", "message": "the first administrator's username (unset means the email address) is fixed once the organisation exists: Keycloak cannot rename a user through the provider, and the user is only ever created"},
    {"rule": "(has(self.firstName) ? self.firstName : '') == (has(oldSelf.firstName) ? oldSelf.firstName : '') && (has(self.lastName) ? self.lastName : '') == (has(oldSelf.lastName) ? oldSelf.lastName : '')", "message": "the first administrator's name is fixed once the organisation exists: the user is only ever created (an update would remove their federated identity links); change it in Keycloak"},
    {"rule": "has(self.username) || self.email.matches('^[A-Za-z0-9+._@-]{3,255}$')", "message": "the first administrator's username defaults to the email address, which Keycloak refuses as a username (it takes letters, digits, '+', '.', '_', '@' and '-'): set username"},
]))]
pub struct Administrator {
    /// Email address. Lower-cased, as Keycloak stores it (`Ada@ACME.example` becomes
    /// `ada@acme.example`), so that it never differs from what Keycloak reports. Fixed once
    /// the organisation exists: the first administrator is created, never updated (an update
    /// would remove their federated identity links); they change it in Keycloak.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "the first administrator's email is fixed once the organisation exists: change it in Keycloak"}]))]
    pub email: Email,
    /// Username in the realm: 3 to 255 lower-case ASCII letters, digits, '+', '.', '_', '@'
    /// and '-'. Defaults to the lower-cased email address, which must then be such a name.
    /// Fixed once the organisation exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
    /// First name (none of the characters Keycloak refuses in a name:
    /// `<>&"$%!#?§;*~/\|^=[]{}()`). Fixed once the organisation exists, as the email is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<PersonName>,
    /// Last name (as the first name). Fixed once the organisation exists, as the email is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<PersonName>,
}

/// A corporate OpenID Connect provider to federate into the realm. Take the endpoints from
/// the provider's `.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityProvider {
    /// Alias of the provider in the realm (a DNS label). It is part of the redirect URI to
    /// register at the provider, which the status shows. It cannot change (Keycloak's
    /// provider would have to replace the provider, which upjet refuses).
    #[serde(default = "default_alias")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "the identity provider's alias is immutable: Keycloak's provider cannot change it in place; remove the identity provider and add it again under the new alias"}]))]
    pub alias: Alias,
    /// Name of the login button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Text<1, 255>>,
    /// Issuer: must equal the `iss` claim of the provider's tokens.
    pub issuer: HttpsUrl,
    /// Authorization endpoint.
    pub authorization_url: HttpsUrl,
    /// Token endpoint.
    pub token_url: HttpsUrl,
    /// JSON Web Key Set endpoint; when given, token signatures are validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<HttpsUrl>,
    /// Userinfo endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_info_url: Option<HttpsUrl>,
    /// End-session endpoint, for logging out of the provider too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<HttpsUrl>,
    /// Client ID registered at the provider (not a secret).
    pub client_id: Text<1, 255>,
    /// The Secret key holding the client secret registered at the provider.
    pub client_secret_ref: SecretKeyRef,
    /// Space-separated scopes to request.
    #[serde(default = "default_scopes")]
    pub scopes: Text<1, 1024>,
    /// Whether the provider's email addresses count as verified.
    #[serde(default)]
    pub trust_email: bool,
}

fn default_alias() -> Alias {
    Alias("corporate".into())
}

fn default_scopes() -> Text<1, 1024> {
    Text::trusted("openid profile email")
}

/// A key of a Secret the function composed, as the status names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyStatus {
    /// The Secret's name.
    pub name: String,
    /// The Secret's namespace.
    pub namespace: String,
    /// The key in the Secret's data.
    pub key: String,
}

/// A key of a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: Text<1, 253>,
    /// The Secret's namespace.
    pub namespace: DnsLabel,
    /// The key in the Secret's data.
    #[serde(default = "default_secret_key")]
    pub key: Text<1, 253>,
}

fn default_secret_key() -> Text<1, 253> {
    Text::trusted("clientSecret")
}

/// Observed state of an Organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationStatus {
    /// The organisation's KCP workspace, once KCP serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceStatus>,
    /// The organisation's Keycloak realm, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<RealmStatus>,
    /// The provider-kubernetes ProviderConfig that manages objects in the workspace, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_config: Option<String>,
    /// The federated identity provider, once the realm exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<IdentityProviderStatus>,
    /// The Secret key holding the first administrator's initial (temporary) password, once
    /// the Secret exists. Hand it to the administrator: Keycloak asks for a new password at
    /// the first login. The value never appears in the status or in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_initial_password: Option<SecretKeyStatus>,
    /// The workspace type for project workspaces, whose tokens are validated against the
    /// realm (only where the platform enables it), once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_workspace_type: Option<WorkspaceTypeStatus>,
    /// Whether the KCP workspace is ready.
    #[serde(default)]
    pub workspace_ready: bool,
    /// Whether the workspace's kubeconfig Secret and ProviderConfig exist.
    #[serde(default)]
    pub provider_config_ready: bool,
    /// Whether the Keycloak realm is ready.
    #[serde(default)]
    pub realm_ready: bool,
    /// Whether the console and kubectl clients and their mappers are ready.
    #[serde(default)]
    pub clients_ready: bool,
    /// Whether the org-admins group, the first administrator and their membership are ready.
    #[serde(default)]
    pub admin_ready: bool,
    /// Whether the federated identity provider is ready (only when one is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider_ready: Option<bool>,
    /// Whether the project workspace type and its authentication configuration are ready
    /// (only where the platform enables token validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_validation_ready: Option<bool>,
    /// Whether every composed resource is ready.
    #[serde(default)]
    pub all_resources_ready: bool,
}

/// The organisation's KCP workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStatus {
    /// Its name in the root workspace.
    pub name: String,
    /// Its absolute path (`root:acme`).
    pub path: String,
    /// Its API endpoint.
    pub url: String,
}

/// The organisation's Keycloak realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RealmStatus {
    /// The realm's name.
    pub name: String,
    /// The OIDC issuer URL of its tokens.
    pub issuer_url: String,
}

/// The federated identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderStatus {
    /// Its alias in the realm.
    pub alias: String,
    /// The redirect URI to register for the client at the provider.
    pub redirect_uri: String,
}

/// A KCP workspace type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTypeStatus {
    /// The type's name.
    pub name: String,
    /// The path of the workspace that holds it.
    pub path: String,
}

validated_string!(
    /// An organisation name: a DNS label other than `master`.
    OrganisationName, check_organisation_name, length(1..=63), DNS_LABEL_PATTERN
);
validated_string!(
    /// An identity provider alias: a DNS label.
    Alias, check_dns_label, length(1..=63), DNS_LABEL_PATTERN
);

fn check_organisation_name(value: &str) -> Result<(), String> {
    check_dns_label(value)?;
    if value == RESERVED_REALM {
        return Err(format!(
            "{value:?} is Keycloak's administration realm; choose another name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_names() {
        assert!(OrganisationName::try_from("acme-corp".to_owned()).is_ok());
        assert!(
            OrganisationName::try_from("Acme".to_owned())
                .unwrap_err()
                .contains("not a DNS label")
        );
        assert!(
            OrganisationName::try_from("master".to_owned())
                .unwrap_err()
                .contains("administration realm")
        );
    }

    #[test]
    fn defaults_fill_the_identity_provider() {
        let idp: IdentityProvider = serde_json::from_value(serde_json::json!({
            "issuer": "https://login.example.com", "authorizationUrl": "https://login.example.com/a",
            "tokenUrl": "https://login.example.com/t", "clientId": "sco",
            "clientSecretRef": {"name": "acme-idp", "namespace": "crossplane-system"},
        }))
        .unwrap();
        assert_eq!(idp.alias.as_str(), "corporate");
        assert_eq!(idp.scopes.as_str(), "openid profile email");
        assert_eq!(idp.client_secret_ref.key.as_str(), "clientSecret");
        assert!(!idp.trust_email);
    }
}
