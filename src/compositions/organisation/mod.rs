//! Organisation: the tenancy root of SCO. One cluster-scoped `tenant.cloud.stakater.com/v1`
//! `Organisation` XR becomes a KCP workspace under the root workspace with a provider config
//! to manage objects in it, a Keycloak realm with the console and kubectl clients, an
//! `org-admins` group and the first administrator, an optional federated corporate OIDC
//! provider, the per-organisation token validation in KCP (behind a platform switch), and the
//! Usages that order their deletion.
//!
//! | XR field (`spec.parameters.`) | Resources (composition resource name) |
//! |---|---|
//! | `name` | `workspace` (Object → KCP `Workspace` `<name>` in `root`); `kubeconfig` (Secret) and `provider-config` (provider-kubernetes ProviderConfig `kcp-<name>`) for the workspace; `realm` (Realm `<name>`); names of everything else |
//! | `displayName` | the realm's display name |
//! | `admin.*` | `admins-group` (Group `org-admins`), `admin-user` (User), `admin-membership` (user Groups) |
//! | `identityProvider.*` | `identity-provider` (OIDC IdentityProvider), `identity-provider-client-id` (Secret holding the client ID) |
//! | (always) | `console-client`, `kubectl-client` (public PKCE clients), `console-groups-mapper`, `kubectl-groups-mapper` (`groups` claim) |
//! | (platform `tokenValidation.enabled`) | `auth-config` (Object → `WorkspaceAuthenticationConfiguration` trusting the realm), `project-workspace-type` (Object → `WorkspaceType` for project workspaces); with `tokenValidation.kcpAudience`, `console-kcp-audience-mapper` and `kubectl-kcp-audience-mapper` |
//! | (deletion order) | `usage-realm-by-*` (the realm outlives clients, group, user and identity provider), `usage-workspace-by-provider-config`, `usage-kubeconfig-by-provider-config`, `usage-identity-provider-client-id-by-identity-provider` |
//!
//! Order: the kubeconfig Secret and ProviderConfig appear once the workspace is observed
//! `Ready` with a URL and Crossplane has fetched the KCP admin kubeconfig (a required
//! resource declared on every call); the token validation objects go through that provider
//! config once it exists and the realm is ready. Until then the XR is `Ready=False` with
//! `WaitingForWorkspace`, `WaitingForKcpAdminKubeconfig`, `WaitingForProviderConfig` or
//! `WaitingForRealm`, never a Fatal. Once emitted, the kubeconfig Secret is kept (with its
//! observed data) even if the admin kubeconfig disappears, so that a rotation never deletes it.
//!
//! Choices the sources leave open:
//! - The XR is a new cluster-scoped kind, `tenant.cloud.stakater.com/v1` `Organisation`
//!   (the docs show `XOrgOnboarding` and `kubectl get organizations`); `spec.parameters.name`
//!   names the realm and the workspace as they are (the seeds' `org-acme` is an organisation
//!   called `org-acme`), is immutable, and may not be `master`.
//! - The workspace path is the upstream absolute one (`root:<name>`); the URL is read from the
//!   observed `Workspace.spec.URL` (or `<kcp.serverUrl>/clusters/<path>` when the platform
//!   sets an internal front-proxy URL for provider-kubernetes).
//! - The workspace's kubeconfig reuses the credentials of the admin kubeconfig's current
//!   context; it lives in the platform's secret namespace.
//! - The admin joins `org-admins` through a non-exhaustive user `Groups`, not an authoritative
//!   `Memberships`, so admins added later (IAM Group/User) are not removed.
//! - No password or invitation email is composed: the realm allows "forgot password" and
//!   requires email verification, so with the platform's SMTP server the admin sets a password
//!   through the login page (or logs in through the federated provider).
//! - The federated provider's client ID (not secret) sits in the XR; provider-keycloak reads it
//!   from a Secret, so the composition writes one. The client secret stays in the platform's
//!   Secret, referenced from the XR. Endpoints are given explicitly: a function cannot fetch
//!   a discovery document.
//! - Token validation: one `WorkspaceAuthenticationConfiguration` and one `WorkspaceType`
//!   (default name `project`, extending `root:universal`) inside the organisation's workspace,
//!   which KCP requires to be the same logical cluster. Projects create their workspaces with
//!   type `{name: project, path: root:<name>}` (shown in the status). Tokens of both clients
//!   are accepted; usernames and groups get the `oidc:` prefix by default. It is off by default
//!   because KCP's `WorkspaceAuthentication` feature gate is.
//! - Readiness: Objects from their `Ready` condition plus the workspace's `status.phase`;
//!   Keycloak resources and Usages from `Ready`; Secrets and ProviderConfigs once they exist.

pub mod spec;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::conventions::{self, XrIdentity};
use super::{Composition, Desired, Invalid, Observed, Waiting};
use crate::config::Platform;
use crate::resources::kcp::{self, ObservedWorkspace, WorkspaceTypeReference};
use crate::resources::keycloak::{self, Managed, RealmId, RequiredAction};
use crate::resources::kubeconfig::Kubeconfig;
use crate::resources::provider_kubernetes::{self as pk, Object, Readiness};
use crate::resources::secret::{Base64, ObservedSecret, Secret};
use crate::resources::usage::Usage;
use crate::resources::{
    Labels, Meta, ProviderConfig, Referable, Reference, SecretKeySelector, meta,
};
use crate::sdk::resource::Name;
use crate::sdk::response::{Match, Requirement};
use spec::OrganisationStatus;

/// The requirement under which Crossplane fetches the KCP admin kubeconfig Secret.
pub const KCP_ADMIN_KUBECONFIG: &str = "kcp-admin-kubeconfig";
/// The token claim carrying group names.
const GROUPS_CLAIM: &str = "groups";
/// The name of the authentication configuration inside the organisation's workspace.
const AUTH_CONFIG_NAME: &str = "keycloak-realm";
/// The Secret key of the workspace kubeconfig.
const KUBECONFIG_KEY: &str = "kubeconfig";
/// The Secret key of the identity provider's client ID.
const CLIENT_ID_KEY: &str = "clientId";

/// Platform settings of the Organisation composition (`organisation` in the `sco`
/// environment key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// KCP: where organisation workspaces go and how to reach them.
    pub kcp: KcpSettings,
    /// Keycloak: its public URL and the clients every realm gets.
    pub keycloak: KeycloakSettings,
    /// Validating project workspace tokens against the organisation's realm.
    pub token_validation: TokenValidation,
    /// Namespace of the Secrets the composition writes (workspace kubeconfigs, identity
    /// provider client IDs).
    pub secret_namespace: String,
    /// Name of the administrators' group in every realm.
    pub admin_group: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            kcp: KcpSettings::default(),
            keycloak: KeycloakSettings::default(),
            token_validation: TokenValidation::default(),
            secret_namespace: "crossplane-system".into(),
            admin_group: "org-admins".into(),
        }
    }
}

/// KCP settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct KcpSettings {
    /// Path of the workspace organisation workspaces are created in; the `kcpRoot` provider
    /// config must point at it.
    pub root_workspace: String,
    /// Type of organisation workspaces.
    pub organisation_workspace_type: WorkspaceTypeRef,
    /// The Secret holding the KCP admin kubeconfig, fetched as a required resource; its
    /// current context's credentials are reused for each organisation workspace.
    pub admin_kubeconfig: SecretKey,
    /// Base URL for workspace kubeconfigs (`<serverUrl>/clusters/<path>`), for example an
    /// in-cluster front-proxy Service; by default the workspace's own URL is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_url: Option<spec::HttpsUrl>,
}

impl Default for KcpSettings {
    fn default() -> Self {
        Self {
            root_workspace: "root".into(),
            organisation_workspace_type: WorkspaceTypeRef {
                name: "universal".into(),
                path: "root".into(),
            },
            admin_kubeconfig: SecretKey {
                name: "kcp-admin-kubeconfig".into(),
                namespace: "crossplane-system".into(),
                key: KUBECONFIG_KEY.into(),
            },
            server_url: None,
        }
    }
}

/// A KCP workspace type reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceTypeRef {
    /// The type's name.
    pub name: String,
    /// Path of the workspace holding it.
    pub path: String,
}

impl From<&WorkspaceTypeRef> for WorkspaceTypeReference {
    fn from(r: &WorkspaceTypeRef) -> Self {
        Self {
            name: r.name.clone(),
            path: r.path.clone(),
        }
    }
}

/// A key of a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKey {
    /// The Secret's name.
    pub name: String,
    /// The Secret's namespace.
    pub namespace: String,
    /// The key in its data.
    pub key: String,
}

/// Keycloak settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct KeycloakSettings {
    /// Keycloak's public URL, including any base path (`https://sso.example.com`); realm
    /// issuers are `<url>/realms/<organisation>`. Required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<spec::HttpsUrl>,
    /// The SCO console's client in every realm. Its redirect URIs are required.
    pub console: ClientSettings,
    /// The client `kubectl oidc-login` uses.
    pub kubectl: ClientSettings,
    /// The SMTP server realms send email (verification, password reset) through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
}

impl Default for KeycloakSettings {
    fn default() -> Self {
        Self {
            url: None,
            console: ClientSettings {
                client_id: "sco-console".into(),
                redirect_uris: Vec::new(),
                post_logout_redirect_uris: vec!["+".into()],
                web_origins: vec!["+".into()],
            },
            kubectl: ClientSettings {
                client_id: "kubectl".into(),
                redirect_uris: vec![
                    "http://localhost:8000".into(),
                    "http://localhost:18000".into(),
                ],
                post_logout_redirect_uris: Vec::new(),
                web_origins: Vec::new(),
            },
            smtp: None,
        }
    }
}

/// A public OpenID client (PKCE S256, authorization code flow only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSettings {
    /// The client ID.
    pub client_id: String,
    /// Where Keycloak may send the browser after login.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where Keycloak may send the browser after logout (`+`: the redirect URIs).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed CORS origins (`+`: those of the redirect URIs).
    #[serde(default)]
    pub web_origins: Vec<String>,
}

/// An SMTP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Smtp {
    /// Host name.
    pub host: String,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Sender address.
    pub from: String,
    /// Sender display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_display_name: Option<String>,
    /// Use SSL.
    #[serde(default)]
    pub ssl: bool,
    /// Use STARTTLS.
    #[serde(default)]
    pub starttls: bool,
    /// Login, when the server needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<SmtpAuth>,
}

/// SMTP login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmtpAuth {
    /// User name.
    pub username: String,
    /// The Secret key holding the password.
    pub password_secret: SecretKey,
}

/// Per-organisation token validation in KCP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TokenValidation {
    /// Compose the project workspace type and its authentication configuration. Needs KCP's
    /// `WorkspaceAuthentication` feature gate (off by default in KCP, so off here too).
    pub enabled: bool,
    /// Name of the workspace type for project workspaces, created in each organisation's
    /// workspace.
    pub project_workspace_type: String,
    /// Types the project workspace type extends.
    pub extends: Vec<WorkspaceTypeRef>,
    /// The claim that becomes the KCP username.
    pub username_claim: String,
    /// Prefix of usernames from the realm (must not be `system:`).
    pub username_prefix: String,
    /// Prefix of group names from the realm (must not be `system:`).
    pub groups_prefix: String,
    /// KCP's global API audience (`--api-audiences`), which every token needs; when set, both
    /// clients add it to their tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kcp_audience: Option<String>,
    /// PEM CA bundle KCP needs to fetch the realm's discovery document, when Keycloak's
    /// certificate is not publicly trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_certificate_authority: Option<String>,
}

impl Default for TokenValidation {
    fn default() -> Self {
        Self {
            enabled: false,
            project_workspace_type: "project".into(),
            extends: vec![WorkspaceTypeRef {
                name: "universal".into(),
                path: "root".into(),
            }],
            username_claim: "preferred_username".into(),
            username_prefix: "oidc:".into(),
            groups_prefix: "oidc:".into(),
            kcp_audience: None,
            issuer_certificate_authority: None,
        }
    }
}

/// The Organisation composition.
pub struct Organisation;

impl Composition for Organisation {
    const NAME: &'static str = "Organisation";
    const API_VERSION: &'static str = "tenant.cloud.stakater.com/v1";
    const KIND: &'static str = "Organisation";
    type Xr = spec::Organisation;

    fn render(
        xr: &spec::Organisation,
        observed: &Observed<'_>,
        platform: &Platform,
    ) -> Result<Desired, Invalid> {
        Render::new(xr, observed, platform)?.run()
    }

    fn definition() -> Value {
        super::xrd::definition::<spec::Organisation>()
    }
}

/// Which status flag a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Workspace,
    ProviderConfig,
    Realm,
    Clients,
    Admin,
    IdentityProvider,
    TokenValidation,
    DeletionOrder,
}

/// One render: the inputs, derived names, and the desired state being built.
struct Render<'a> {
    params: &'a spec::Parameters,
    observed: &'a Observed<'a>,
    platform: &'a Platform,
    settings: &'a Settings,
    /// Namespace of namespaced-flavour managed resources (`None` for this cluster-scoped XR).
    namespace: Option<String>,
    labels: Labels,
    issuer: String,
    desired: Desired,
    parts: BTreeMap<Name, Part>,
}

impl<'a> Render<'a> {
    fn new(
        xr: &'a spec::Organisation,
        observed: &'a Observed<'a>,
        platform: &'a Platform,
    ) -> Result<Self, Invalid> {
        let settings = &platform.organisation;
        let url = settings.keycloak.url.as_ref().ok_or_else(|| {
            Invalid::field(
                "platform organisation.keycloak.url",
                "is not set: set it to Keycloak's public URL (https://sso.example.com) in the sco-platform EnvironmentConfig",
            )
        })?;
        if settings.keycloak.console.redirect_uris.is_empty() {
            return Err(Invalid::field(
                "platform organisation.keycloak.console.redirectUris",
                "is empty: list the SCO console's redirect URIs (https://console.example.com/*)",
            ));
        }
        let identity = XrIdentity::of::<Organisation>(&xr.metadata);
        let params = &xr.spec.parameters;
        let org = params.name.as_str();
        Ok(Self {
            params,
            observed,
            platform,
            settings,
            namespace: identity.scope.namespace().map(str::to_owned),
            labels: identity.labels(Some(org), None),
            issuer: format!("{}/realms/{org}", url.as_str().trim_end_matches('/')),
            desired: Desired::default(),
            parts: BTreeMap::new(),
        })
    }

    fn run(mut self) -> Result<Desired, Invalid> {
        let kcp_admin = &self.settings.kcp.admin_kubeconfig;
        self.desired.requirements.insert(
            KCP_ADMIN_KUBECONFIG.to_owned(),
            Requirement {
                api_version: "v1".into(),
                kind: "Secret".into(),
                matching: Match::Name(kcp_admin.name.clone()),
                namespace: Some(kcp_admin.namespace.clone()),
            },
        );
        let workspace = self.workspace();
        let provider_config = self.provider_config(&workspace);
        self.keycloak();
        if self.settings.token_validation.enabled {
            self.token_validation(provider_config.as_ref());
        }
        self.status();
        Ok(self.desired)
    }

    fn org(&self) -> &'a str {
        self.params.name.as_str()
    }

    /// The workspace's absolute path.
    fn workspace_path(&self) -> String {
        kcp::child_path(&self.settings.kcp.root_workspace, self.org())
    }

    /// A deterministic object name `<organisation>-<suffix>`.
    fn name(&self, suffix: &str) -> String {
        conventions::name(&[self.org(), suffix])
    }

    /// Metadata of a managed resource: in the XR's namespace for a namespaced XR.
    fn meta(&self, name: &str) -> Meta {
        meta(name, self.ns(), &self.labels)
    }

    /// The namespace of namespaced-flavour managed resources.
    fn ns(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The name of the workspace's provider-kubernetes ProviderConfig (`kcp-<organisation>`).
    fn provider_config_name(&self) -> String {
        conventions::name(&["kcp", self.org()])
    }

    /// Where the composition's own Secrets go.
    fn secret_namespace(&self) -> String {
        self.ns()
            .unwrap_or(&self.settings.secret_namespace)
            .to_owned()
    }

    /// Whether the observed resource reports `Ready=True`.
    fn ready(&self, name: &str) -> bool {
        conventions::ready(self.observed, &Name::from(name))
    }

    fn add(&mut self, name: &str, part: Part, manifest: &impl Serialize, ready: bool) {
        self.desired.add(name, manifest, ready);
        self.parts.insert(Name::from(name), part);
    }

    fn wait(&mut self, reason: &str, message: String) {
        self.desired.waiting.get_or_insert(Waiting {
            reason: reason.to_owned(),
            message,
        });
    }

    fn keycloak_config(&self) -> ProviderConfig {
        ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone())
    }

    /// The organisation's workspace in the root workspace.
    fn workspace(&mut self) -> Object<kcp::Workspace> {
        let workspace = kcp::Workspace::new(
            meta(self.org(), None, &self.labels),
            WorkspaceTypeReference::from(&self.settings.kcp.organisation_workspace_type),
        );
        let object = Object::new(
            self.meta(&self.name("workspace")),
            workspace,
            &ProviderConfig::Platform(self.platform.provider_configs.kcp_root.clone()),
            Readiness::DeriveFromCelQuery(kcp::WORKSPACE_READY_QUERY.to_owned()),
        );
        let ready = self.ready(names::WORKSPACE) && self.observed_workspace().is_ready();
        self.add(names::WORKSPACE, Part::Workspace, &object, ready);
        object
    }

    fn observed_workspace(&self) -> ObservedWorkspace {
        let wrapped = self
            .observed
            .read::<pk::Observed<ObservedWorkspace>>(&Name::from(names::WORKSPACE));
        let manifest = wrapped
            .and_then(Result::ok)
            .and_then(pk::Observed::manifest);
        manifest.unwrap_or_default()
    }

    /// The kubeconfig Secret and ProviderConfig for the workspace, once it is ready and the
    /// admin kubeconfig is there; `None` until then.
    fn provider_config(
        &mut self,
        workspace: &Object<kcp::Workspace>,
    ) -> Option<pk::ProviderConfig> {
        let observed_ws = self.observed_workspace();
        let existing = self
            .observed
            .read::<ObservedSecret>(&Name::from(names::KUBECONFIG));
        let secret_exists = existing.is_some();
        let path = self.workspace_path();
        let Some(url) = observed_ws
            .url()
            .filter(|_| observed_ws.is_ready() || secret_exists)
        else {
            let state = observed_ws
                .phase()
                .map_or_else(|| "not created yet".to_owned(), |p| format!("in phase {p}"));
            self.wait(
                "WaitingForWorkspace",
                format!("KCP workspace {path} is {state}"),
            );
            return None;
        };
        let server = match &self.settings.kcp.server_url {
            Some(base) => format!("{}/clusters/{path}", base.as_str().trim_end_matches('/')),
            None => url.to_owned(),
        };
        let data = match self
            .admin_kubeconfig()
            .and_then(|admin| admin.pointed_at(&server, &path).map_err(|e| e.to_string()))
        {
            Ok(kubeconfig) => BTreeMap::from([(
                KUBECONFIG_KEY.to_owned(),
                Base64::from(kubeconfig.to_yaml()),
            )]),
            Err(why) => {
                let kept = existing.and_then(Result::ok).and_then(|s| {
                    let kept = s.data?.into_iter();
                    Some(kept.map(|(k, v)| (k, Base64(Cow::Owned(v.0)))).collect())
                });
                let message = match kept {
                    Some(_) => format!("{why}; the existing kubeconfig for {path} is kept"),
                    None => why,
                };
                self.wait("WaitingForKcpAdminKubeconfig", message);
                kept?
            }
        };
        let secret_namespace = self.secret_namespace();
        let secret = Secret::new(
            meta(
                &self.name("kcp-kubeconfig"),
                Some(&secret_namespace),
                &self.labels,
            ),
            data,
        )
        .opaque();
        let provider_config = pk::ProviderConfig::kubeconfig(
            self.meta(&self.provider_config_name()),
            &secret_namespace,
            secret.name(),
            KUBECONFIG_KEY,
        );
        let config_exists = self.observed.exists(&Name::from(names::PROVIDER_CONFIG));
        self.add(
            names::KUBECONFIG,
            Part::ProviderConfig,
            &secret,
            secret_exists,
        );
        self.add(
            names::PROVIDER_CONFIG,
            Part::ProviderConfig,
            &provider_config,
            config_exists,
        );
        self.usage(names::USAGE_WORKSPACE, workspace, &provider_config);
        self.usage_in(
            Some(secret_namespace),
            names::USAGE_KUBECONFIG,
            &secret,
            &provider_config,
        );
        Some(provider_config)
    }

    /// The KCP admin kubeconfig from the required resource, or why it is not usable (never
    /// quoting its content).
    fn admin_kubeconfig(&self) -> Result<Kubeconfig, String> {
        let source = &self.settings.kcp.admin_kubeconfig;
        let secret = format!("Secret {}/{}", source.namespace, source.name);
        let Some(found) = self.observed.required.get(KCP_ADMIN_KUBECONFIG) else {
            return Err(format!(
                "Crossplane has not fetched the KCP admin kubeconfig ({secret}) yet"
            ));
        };
        let object = found
            .first()
            .ok_or_else(|| format!("the KCP admin kubeconfig {secret} does not exist"))?;
        let encoded = object
            .pointer(&format!("/data/{}", source.key))
            .ok_or_else(|| format!("{secret} has no key {:?}", source.key))?;
        let bytes = serde_json::from_value::<ByteString>(encoded.clone())
            .map_err(|_| format!("{secret} key {:?} is not base64", source.key))?;
        Kubeconfig::parse(&bytes.0).map_err(|e| format!("{secret} key {:?}: {e}", source.key))
    }

    /// The realm, its clients, the admin group and user, and the federated provider.
    fn keycloak(&mut self) {
        let realm = self.realm();
        let realm_ready = self.ready(names::REALM);
        self.add(names::REALM, Part::Realm, &realm, realm_ready);
        let in_realm = RealmId::managed(realm.name());

        let kcp_audience = self
            .settings
            .token_validation
            .kcp_audience
            .clone()
            .filter(|_| self.settings.token_validation.enabled);
        for (client_name, settings, groups_mapper, audience_mapper) in [
            (
                names::CONSOLE_CLIENT,
                &self.settings.keycloak.console,
                names::CONSOLE_GROUPS,
                names::CONSOLE_AUDIENCE,
            ),
            (
                names::KUBECTL_CLIENT,
                &self.settings.keycloak.kubectl,
                names::KUBECTL_GROUPS,
                names::KUBECTL_AUDIENCE,
            ),
        ] {
            let client = self.client(client_name, settings, &in_realm);
            self.add_keycloak(client_name, Part::Clients, &client);
            self.usage(&format!("usage-realm-by-{client_name}"), &realm, &client);
            let mapper = keycloak::GroupMembershipProtocolMapperParameters {
                realm: in_realm.clone(),
                client_id_ref: Reference::to(client.name()),
                name: GROUPS_CLAIM.into(),
                claim_name: GROUPS_CLAIM.into(),
                full_path: false,
                add_to_id_token: true,
                add_to_access_token: true,
                add_to_userinfo: true,
            };
            let mapper = self.keycloak_resource(groups_mapper, mapper);
            self.add_keycloak(groups_mapper, Part::Clients, &mapper);
            if let Some(audience) = &kcp_audience {
                let mapper = keycloak::AudienceProtocolMapperParameters {
                    realm: in_realm.clone(),
                    client_id_ref: Reference::to(client.name()),
                    name: "kcp-audience".into(),
                    included_custom_audience: audience.clone(),
                    add_to_id_token: true,
                    add_to_access_token: true,
                };
                let mapper = self.keycloak_resource(audience_mapper, mapper);
                self.add_keycloak(audience_mapper, Part::Clients, &mapper);
            }
        }

        self.admin(&realm, &in_realm);
        if let Some(idp) = self.params.identity_provider.as_ref() {
            self.identity_provider(idp, &realm);
        }
    }

    fn realm(&self) -> keycloak::Realm {
        let smtp = self
            .settings
            .keycloak
            .smtp
            .as_ref()
            .map(|smtp| keycloak::SmtpServer {
                host: smtp.host.clone(),
                port: smtp.port.map(|p| p.to_string()),
                from: smtp.from.clone(),
                from_display_name: smtp.from_display_name.clone(),
                ssl: Some(smtp.ssl),
                starttls: Some(smtp.starttls),
                auth: smtp
                    .auth
                    .iter()
                    .map(|auth| keycloak::SmtpAuth {
                        username: auth.username.clone(),
                        password_secret_ref: self.secret_key(&auth.password_secret),
                    })
                    .collect(),
            });
        let params = keycloak::RealmParameters {
            realm: self.org().to_owned(),
            enabled: Some(true),
            display_name: Some(self.params.display_name.clone()),
            login_with_email_allowed: Some(true),
            duplicate_emails_allowed: Some(false),
            registration_allowed: Some(false),
            reset_password_allowed: Some(true),
            verify_email: Some(true),
            ssl_required: Some("external"),
            smtp_server: smtp.into_iter().collect(),
        };
        self.keycloak_resource("realm", params)
    }

    fn client(
        &self,
        composed: &str,
        settings: &ClientSettings,
        realm: &RealmId,
    ) -> keycloak::Client {
        let params = keycloak::ClientParameters {
            realm: realm.clone(),
            client_id: settings.client_id.clone(),
            name: Some(settings.client_id.clone()),
            access_type: keycloak::AccessType::Public,
            standard_flow_enabled: Some(true),
            implicit_flow_enabled: Some(false),
            direct_access_grants_enabled: Some(false),
            service_accounts_enabled: Some(false),
            pkce_code_challenge_method: Some(keycloak::PkceMethod::S256),
            valid_redirect_uris: settings.redirect_uris.clone(),
            valid_post_logout_redirect_uris: settings.post_logout_redirect_uris.clone(),
            web_origins: settings.web_origins.clone(),
        };
        self.keycloak_resource(composed.trim_end_matches("-client"), params)
    }

    /// The `org-admins` group, the first administrator, and their membership.
    fn admin(&mut self, realm: &keycloak::Realm, in_realm: &RealmId) {
        let group = keycloak::GroupParameters {
            realm: in_realm.clone(),
            name: self.settings.admin_group.clone(),
            parent_id_ref: None,
        };
        let group = self.keycloak_resource(&self.settings.admin_group, group);
        self.add_keycloak(names::ADMINS_GROUP, Part::Admin, &group);
        self.usage(names::USAGE_REALM_BY_GROUP, realm, &group);

        let admin = &self.params.admin;
        let user = keycloak::UserParameters {
            realm: in_realm.clone(),
            username: admin.username.as_ref().map_or_else(
                || admin.email.as_str().to_ascii_lowercase(),
                |u| u.as_str().to_owned(),
            ),
            email: Some(admin.email.to_string()),
            email_verified: Some(false),
            enabled: Some(true),
            first_name: admin.first_name.clone(),
            last_name: admin.last_name.clone(),
            required_actions: vec![RequiredAction::VerifyEmail, RequiredAction::UpdatePassword],
        };
        let user = self.keycloak_resource("admin", user);
        self.add_keycloak(names::ADMIN_USER, Part::Admin, &user);
        self.usage(names::USAGE_REALM_BY_USER, realm, &user);

        let membership = keycloak::UserGroupsParameters {
            realm: in_realm.clone(),
            user_id_ref: Reference::to(user.name()),
            group_ids_refs: vec![Reference::to(group.name())],
            exhaustive: false,
        };
        let membership = self.keycloak_resource("admin-groups", membership);
        self.add_keycloak(names::ADMIN_MEMBERSHIP, Part::Admin, &membership);
    }

    /// The federated OIDC provider and the Secret holding its client ID.
    fn identity_provider(&mut self, idp: &spec::IdentityProvider, realm: &keycloak::Realm) {
        let secret_namespace = self.secret_namespace();
        let client_id = Secret::new(
            meta(
                &self.name("idp-client-id"),
                Some(&secret_namespace),
                &self.labels,
            ),
            [(
                CLIENT_ID_KEY.to_owned(),
                Base64::from(idp.client_id.as_str()),
            )],
        )
        .opaque();
        let exists = self.observed.exists(&Name::from(names::IDP_CLIENT_ID));
        self.add(
            names::IDP_CLIENT_ID,
            Part::IdentityProvider,
            &client_id,
            exists,
        );

        let url = |u: &Option<spec::HttpsUrl>| u.as_ref().map(ToString::to_string);
        let params = keycloak::OidcIdentityProviderParameters {
            realm_ref: Reference::to(realm.name()),
            alias: idp.alias.to_string(),
            display_name: idp.display_name.clone(),
            enabled: true,
            issuer: Some(idp.issuer.to_string()),
            authorization_url: idp.authorization_url.to_string(),
            token_url: idp.token_url.to_string(),
            jwks_url: url(&idp.jwks_url),
            user_info_url: url(&idp.user_info_url),
            logout_url: url(&idp.logout_url),
            validate_signature: idp.jwks_url.is_some(),
            default_scopes: Some(idp.scopes.clone()),
            trust_email: idp.trust_email,
            client_id_secret_ref: SecretKeySelector::new(
                &secret_namespace,
                client_id.name(),
                CLIENT_ID_KEY,
                self.ns(),
            ),
            client_secret_secret_ref: SecretKeySelector::new(
                &idp.client_secret_ref.namespace,
                &idp.client_secret_ref.name,
                &idp.client_secret_ref.key,
                self.ns(),
            ),
        };
        let provider = self.keycloak_resource("identity-provider", params);
        self.add_keycloak(names::IDENTITY_PROVIDER, Part::IdentityProvider, &provider);
        self.usage(names::USAGE_REALM_BY_IDP, realm, &provider);
        self.usage_in(
            Some(secret_namespace),
            names::USAGE_IDP_CLIENT_ID,
            &client_id,
            &provider,
        );
    }

    /// The project workspace type trusting the realm, inside the organisation's workspace.
    fn token_validation(&mut self, provider_config: Option<&pk::ProviderConfig>) {
        let Some(provider_config) =
            provider_config.filter(|_| self.observed.exists(&Name::from(names::PROVIDER_CONFIG)))
        else {
            let message = format!(
                "the provider config for KCP workspace {} does not exist yet",
                self.workspace_path()
            );
            self.wait("WaitingForProviderConfig", message);
            return;
        };
        if !self.ready(names::REALM) {
            self.wait(
                "WaitingForRealm",
                format!("Keycloak realm {} is not ready yet", self.org()),
            );
            return;
        }
        let tv = &self.settings.token_validation;
        let clients = [
            &self.settings.keycloak.kubectl.client_id,
            &self.settings.keycloak.console.client_id,
        ];
        let jwt = kcp::JwtAuthenticator {
            issuer: kcp::Issuer {
                url: self.issuer.clone(),
                audiences: clients
                    .into_iter()
                    .chain(&tv.kcp_audience)
                    .cloned()
                    .collect(),
                audience_match_policy: Some("MatchAny"),
                certificate_authority: tv.issuer_certificate_authority.clone(),
            },
            claim_mappings: kcp::ClaimMappings {
                username: kcp::PrefixedClaim {
                    claim: tv.username_claim.clone(),
                    prefix: tv.username_prefix.clone(),
                },
                groups: kcp::PrefixedClaim {
                    claim: GROUPS_CLAIM.into(),
                    prefix: tv.groups_prefix.clone(),
                },
            },
        };
        let in_workspace = ProviderConfig::Composed(provider_config.name().to_owned());
        let auth_config = kcp::WorkspaceAuthenticationConfiguration::new(
            meta(AUTH_CONFIG_NAME, None, &self.labels),
            vec![jwt],
        );
        let auth_object = Object::new(
            self.meta(&self.name("auth-config")),
            auth_config,
            &in_workspace,
            Readiness::SuccessfulCreate,
        );
        let ready = self.ready(names::AUTH_CONFIG);
        self.add(
            names::AUTH_CONFIG,
            Part::TokenValidation,
            &auth_object,
            ready,
        );

        let spec = kcp::WorkspaceTypeSpec {
            authentication_configurations: vec![kcp::AuthenticationConfigurationReference {
                name: AUTH_CONFIG_NAME.into(),
            }],
            extend: (!tv.extends.is_empty()).then(|| kcp::WorkspaceTypeExtension {
                with: tv
                    .extends
                    .iter()
                    .map(WorkspaceTypeReference::from)
                    .collect(),
            }),
        };
        let workspace_type =
            kcp::WorkspaceType::new(meta(&tv.project_workspace_type, None, &self.labels), spec);
        let type_object = Object::new(
            self.meta(&self.name("project-workspace-type")),
            workspace_type,
            &in_workspace,
            Readiness::DeriveFromObject,
        );
        let ready = self.ready(names::PROJECT_WORKSPACE_TYPE);
        self.add(
            names::PROJECT_WORKSPACE_TYPE,
            Part::TokenValidation,
            &type_object,
            ready,
        );
    }

    /// Adds a Keycloak managed resource, ready when its `Ready` condition says so.
    fn add_keycloak<P: Serialize>(&mut self, name: &str, part: Part, resource: &Managed<P>) {
        let ready = self.ready(name);
        self.add(name, part, resource, ready);
    }

    /// Adds a Usage in the XR's scope: `used` outlives `user`.
    fn usage(&mut self, composed: &str, used: &impl Referable, user: &impl Referable) {
        self.usage_in(self.namespace.clone(), composed, used, user);
    }

    /// Adds a Usage: `used` outlives `user`. `namespace` makes it a namespaced `Usage`
    /// (both objects in that namespace or cluster-scoped), else a `ClusterUsage`.
    fn usage_in(
        &mut self,
        namespace: Option<String>,
        composed: &str,
        used: &impl Referable,
        user: &impl Referable,
    ) {
        let name = self.name(composed.trim_start_matches("usage-"));
        let usage = Usage::new(meta(&name, namespace.as_deref(), &self.labels), used, user);
        let ready = self.ready(composed);
        self.add(composed, Part::DeletionOrder, &usage, ready);
    }

    /// A Keycloak managed resource `<organisation>-<suffix>` on the platform's Keycloak config.
    fn keycloak_resource<P: keycloak::Parameters>(&self, suffix: &str, params: P) -> Managed<P> {
        Managed::new(
            self.meta(&self.name(suffix)),
            params,
            &self.keycloak_config(),
        )
    }

    fn secret_key(&self, key: &SecretKey) -> SecretKeySelector {
        SecretKeySelector::new(&key.namespace, &key.name, &key.key, self.ns())
    }

    /// Whether every resource of `part` was composed and is ready.
    fn part_ready(&self, part: Part) -> bool {
        let mut resources = self.parts.iter().filter(|(_, p)| **p == part).peekable();
        resources.peek().is_some()
            && resources.all(|(name, _)| self.desired.resources.get(name).is_some_and(|r| r.ready))
    }

    fn status(&mut self) {
        let org = self.org();
        let observed_ws = self.observed_workspace();
        let realm_ready = self.part_ready(Part::Realm);
        let provider_config_ready = self.part_ready(Part::ProviderConfig);
        let tv = &self.settings.token_validation;
        let token_validation_ready = tv.enabled.then(|| self.part_ready(Part::TokenValidation));
        let status = OrganisationStatus {
            workspace: observed_ws.url().map(|url| spec::WorkspaceStatus {
                name: org.to_owned(),
                path: self.workspace_path(),
                url: url.to_owned(),
            }),
            realm: realm_ready.then(|| spec::RealmStatus {
                name: org.to_owned(),
                issuer_url: self.issuer.clone(),
            }),
            provider_config: provider_config_ready.then(|| self.provider_config_name()),
            identity_provider: self
                .params
                .identity_provider
                .as_ref()
                .filter(|_| realm_ready)
                .map(|idp| spec::IdentityProviderStatus {
                    alias: idp.alias.to_string(),
                    redirect_uri: format!("{}/broker/{}/endpoint", self.issuer, idp.alias),
                }),
            project_workspace_type: (token_validation_ready == Some(true)).then(|| {
                spec::WorkspaceTypeStatus {
                    name: tv.project_workspace_type.clone(),
                    path: self.workspace_path(),
                }
            }),
            workspace_ready: self.part_ready(Part::Workspace),
            provider_config_ready,
            realm_ready,
            clients_ready: self.part_ready(Part::Clients),
            admin_ready: self.part_ready(Part::Admin),
            identity_provider_ready: self
                .params
                .identity_provider
                .as_ref()
                .map(|_| self.part_ready(Part::IdentityProvider)),
            token_validation_ready,
            all_resources_ready: self.desired.ready(),
        };
        if let Value::Object(map) = serde_json::to_value(status).expect("status serialises") {
            self.desired.status = map;
        }
    }
}

/// Composition resource names (stable: Crossplane matches desired to observed by them).
mod names {
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
    pub const ADMIN_MEMBERSHIP: &str = "admin-membership";
    pub const IDENTITY_PROVIDER: &str = "identity-provider";
    pub const IDP_CLIENT_ID: &str = "identity-provider-client-id";
    pub const AUTH_CONFIG: &str = "auth-config";
    pub const PROJECT_WORKSPACE_TYPE: &str = "project-workspace-type";
    pub const USAGE_WORKSPACE: &str = "usage-workspace-by-provider-config";
    pub const USAGE_KUBECONFIG: &str = "usage-kubeconfig-by-provider-config";
    pub const USAGE_REALM_BY_GROUP: &str = "usage-realm-by-admins-group";
    pub const USAGE_REALM_BY_USER: &str = "usage-realm-by-admin-user";
    pub const USAGE_REALM_BY_IDP: &str = "usage-realm-by-identity-provider";
    pub const USAGE_IDP_CLIENT_ID: &str = "usage-identity-provider-client-id-by-identity-provider";
}
