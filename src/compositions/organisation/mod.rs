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
//! | (platform `tokenValidation.enabled`, in the root workspace) | `org-auth-config` (Object → `WorkspaceAuthenticationConfiguration` `org-<name>`), `org-workspace-type` (Object → `WorkspaceType` `org-<name>` extending the organisation workspace type, with that configuration): the type of new organisation workspaces |
//! | (platform `tokenValidation.enabled`) | `auth-config` (Object → `WorkspaceAuthenticationConfiguration` trusting the realm), `project-workspace-type` (Object → `WorkspaceType` for project workspaces; once made, it stays, bare, when token validation is switched off); with `tokenValidation.kcpAudience`, `console-kcp-audience-mapper` and `kubectl-kcp-audience-mapper` |
//! | (always, once the workspace's provider config exists) | `admins-workspace-access` (Object → ClusterRoleBinding of `<groupsPrefix><adminGroup>` to `system:kcp:workspace:access`), `project-creator-role` (Object → ClusterRole `sco-project-creator`: workspaces, `use` of workspace types), `admins-project-creator` (its binding), all in the organisation's workspace |
//! | (always) | `admin-initial-password` (Secret with the first administrator's temporary password, derived from the platform seed credential `sco-seed`: [`crate::compositions::secrets`]) |
//! | (deletion order) | `usage-realm-by-*` (the realm outlives clients, group, user and identity provider), `usage-workspace-by-provider-config`, `usage-provider-config-by-*` (the ProviderConfig outlives each object it manages in the workspace), `usage-kubeconfig-by-provider-config`, `usage-identity-provider-client-id-by-identity-provider`, with token validation `usage-org-workspace-type-by-workspace` and `usage-org-auth-config-by-org-workspace-type` (kcp resolves the workspace's type, and authenticates by it, while the workspace exists) |
//!
//! Order: the kubeconfig Secret and ProviderConfig appear once the workspace is observed
//! `Ready` with a URL and Crossplane has fetched the KCP admin kubeconfig (a required
//! resource declared on every call); the token validation objects go through that provider
//! config once it exists and the realm is ready. Until then the XR is `Ready=False` with
//! `WaitingForWorkspace`, `WaitingForKcpAdminKubeconfig`, `WaitingForProviderConfig` or
//! `WaitingForRealm` (the first administrator with `WaitingForAdminPassword` until the Secret
//! with its initial password exists; a federated provider with
//! `WaitingForIdentityProviderSecret`, below), never a Fatal. Once emitted, the kubeconfig
//! Secret is kept (with its observed data) even if the admin kubeconfig disappears, so that a
//! rotation never deletes it.
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
//! - First login (issue 13): the admin gets a temporary initial password in a composed Secret
//!   (named in `status.adminInitialPassword`), set through `spec.initProvider` so it applies
//!   at creation only; Keycloak then asks for a new password. Creation-only fields
//!   (`emailVerified`, `requiredActions`, `initialPassword`) live in `initProvider`: the
//!   Terraform provider re-applies `forProvider` on every poll (provider-keycloak issue 62,
//!   `keycloak/terraform-provider-keycloak` `provider/resource_keycloak_user.go`), and upjet
//!   ignores initProvider-only fields once the resource exists
//!   (`crossplane/upjet` `pkg/controller/ignored_tfpluginsdk.go`). The admin user is
//!   `managementPolicies: [Observe, Create, Delete]`: an Update would delete federated
//!   identity links (`keycloak/user.go` `UpdateUser`).
//! - Email verification and "forgot password" need mail: the realm sets `verifyEmail` and
//!   `resetPasswordAllowed` only when the platform has `keycloak.smtp` (Keycloak's
//!   `VerifyEmail` required action blocks the login when the mail cannot be sent);
//!   `keycloak.verifyEmail: true` without SMTP is refused.
//! - A federated provider keeps Keycloak's built-in `first broker login` flow (named
//!   explicitly) with `syncMode: IMPORT`: its "Handle Existing Account" step finds the
//!   pre-created admin by email and links once they prove the account: by a link mailed to
//!   it where the realm has SMTP ("Verify Existing Account By Email",
//!   `IdpEmailVerificationAuthenticator`), else by re-authenticating with the initial
//!   password (`keycloak/keycloak` `DefaultAuthenticationFlows.firstBrokerLoginFlow`). No auto-link
//!   flow: it would hand any account to whoever the provider vouches for with that email,
//!   and provider-keycloak's `authenticationflow` kinds are not in the validated schemas.
//! - Emails (and usernames) are lower-cased as Keycloak stores them
//!   (`keycloak/keycloak` `model/jpa/.../UserAdapter.java`), else they diff on every poll.
//! - The federated provider's client ID (not secret) sits in the XR; provider-keycloak reads it
//!   from a Secret, so the composition writes one. The client secret stays in the platform's
//!   Secret, referenced from the XR. Endpoints are given explicitly: a function cannot fetch
//!   a discovery document.
//! - The Secrets the platform or the XR name for provider-keycloak to read (the SMTP password,
//!   the federated provider's client secret) are required resources: upjet reads one that is
//!   missing, or a key it lacks, as an empty value without an error, which Keycloak takes as
//!   none (a realm's SMTP password dropped), so the XR warns while it is (`check_secret_key`);
//!   a new federated provider is not composed until its client secret has a value
//!   (`WaitingForIdentityProviderSecret`), an existing one is kept.
//! - Token validation: one `WorkspaceAuthenticationConfiguration` and one `WorkspaceType`
//!   (default name `project`, extending `root:universal`) inside the organisation's workspace,
//!   which KCP requires to be the same logical cluster. Projects create their workspaces with
//!   type `{name: project, path: root:<name>}` (shown in the status). Tokens of both clients
//!   are accepted; usernames and groups get the `oidc:` prefix by default. It is off by default
//!   because KCP's `WorkspaceAuthentication` feature gate is.
//! - Readiness: Objects from their `Ready` condition plus the workspace's `status.phase`;
//!   Keycloak resources and Usages from `Ready`; Secrets and ProviderConfigs once they exist.
//!
//! Settings: the shared KCP, Keycloak and token validation settings
//! ([`crate::compositions::platform`]); the workspace access (kubeconfig Secret and
//! ProviderConfig) is the shared [`crate::compositions::kcp`] code the Project composition
//! uses for project workspaces.

pub mod names;
pub mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use super::build::Build;
use super::conventions::XrIdentity;
use super::kcp::{self as kcp_access, Access};
use super::platform::{ClientSettings, Platform, SecretKey};
use super::secrets::{self, Generated};
use super::types::{HttpsUrl, check_new_username};
use super::{Composition, Context, Invalid, setting_path};
use crate::resources::kcp::{self, ObservedWorkspace, WorkspaceTypeReference};
use crate::resources::keycloak::{self, Managed, ManagementPolicy, RealmId};
use crate::resources::provider_kubernetes::{self as pk, Object, Readiness};
use crate::resources::rbac;
use crate::resources::secret::{Base64, Secret};
use crate::resources::{
    Labels, Meta, ProviderConfig, Referable, Reference, SecretKeySelector, meta,
};
use crate::sdk::response::Requirement;
use spec::OrganisationStatus;

pub use settings::Settings;

/// The token claim carrying group names.
const GROUPS_CLAIM: &str = "groups";
/// The Secret key of the identity provider's client ID.
const CLIENT_ID_KEY: &str = "clientId";
/// The Secret key of the first administrator's initial password.
const ADMIN_PASSWORD_KEY: &str = "password";
/// Length of the initial password (57-letter alphabet: about 140 bits).
const ADMIN_PASSWORD_LENGTH: usize = 24;
/// Keycloak's built-in flow for the first login through an identity provider.
const FIRST_BROKER_LOGIN_FLOW: &str = "first broker login";

/// The Organisation composition.
pub struct Organisation;

/// Which status flag a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// `workspaceReady`.
    Workspace,
    /// `providerConfigReady`.
    ProviderConfig,
    /// `realmReady`.
    Realm,
    /// `clientsReady`.
    Clients,
    /// `adminReady`.
    Admin,
    /// `identityProviderReady`.
    IdentityProvider,
    /// `tokenValidationReady`.
    TokenValidation,
    /// Usages, which count towards no flag but `allResourcesReady`.
    DeletionOrder,
}

impl Composition for Organisation {
    const NAME: &'static str = "Organisation";
    const API_VERSION: &'static str = "tenant.cloud.stakater.com/v1";
    const KIND: &'static str = "Organisation";
    const SETTINGS_KEY: &'static str = "organisation";
    type Xr = spec::Organisation;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = Org<'a>;
    type Status = OrganisationStatus;

    fn validate<'a>(
        xr: &'a spec::Organisation,
        cx: Context<'a, Settings>,
    ) -> Result<Org<'a>, Invalid> {
        let platform = cx.platform;
        let url = platform.keycloak.url.as_ref().ok_or_else(|| {
            Invalid::field(
                setting_path("keycloak.url"),
                "is not set: set it to Keycloak's public URL (https://sso.example.com) in the sco-platform EnvironmentConfig",
            )
        })?;
        check_clients(&platform.keycloak)?;
        let identity = XrIdentity::of::<Organisation>(&xr.metadata);
        let params = &xr.spec.parameters;
        let org = params.name.as_str();
        let admin_password = secrets::generated(
            cx.observed,
            names::ADMIN_PASSWORD,
            ADMIN_PASSWORD_KEY,
            xr.metadata.uid.as_deref(),
            "organisation-admin-initial-password",
            ADMIN_PASSWORD_LENGTH,
        )
        .map_err(|e| Invalid(vec![e]))?;
        let admin_username = match &params.admin.username {
            Some(username) => username.as_str().to_lowercase(),
            None => {
                // The username defaults to the address, which may hold characters an address
                // allows and Keycloak refuses in a username (`o'brien@...`).
                let username = params.admin.email.as_str().to_lowercase();
                if let Err(e) = check_new_username(&username) {
                    return Err(Invalid::field(
                        "spec.parameters.admin.email",
                        format!(
                            "{e}; the first admin's username defaults to the email address: set spec.parameters.admin.username"
                        ),
                    ));
                }
                username
            }
        };
        Ok(Org {
            admin_password,
            admin_username,
            params,
            platform,
            namespace: identity.scope.namespace().map(str::to_owned),
            labels: identity.labels(Some(org), None),
            issuer: format!("{}/realms/{org}", url.as_str().trim_end_matches('/')),
        })
    }

    fn compose(org: &Org<'_>, build: &mut Build<'_, Part>) {
        kcp_access::require_admin_kubeconfig(build, org.platform);
        let workspace = org.workspace(build);
        let provider_config = org.provider_config(build, &workspace);
        org.keycloak(build);
        org.admin_permissions(build, provider_config.as_ref());
        let own_type = org.has_own_workspace_type(build);
        if org.platform.token_validation.enabled {
            org.organisation_auth(build, &workspace, true, own_type != Some(false));
            org.token_validation(build, provider_config.as_ref());
            if own_type == Some(false) {
                build.warn(format!(
                    "KCP workspace {} was created before token validation was on, with another type than {}, and kcp never changes a workspace's type: the realm's tokens are not accepted in it (projects are unaffected); recreate the organisation to trust them there",
                    org.workspace_path(),
                    names::organisation_workspace_type(org.org())
                ));
            }
        } else {
            // kcp resolves a workspace's type whenever a workspace is created in it
            // (`pkg/admission/workspacetypeexists`: "workspace type cannot be resolved"), so
            // a type stays while a workspace may have it: without the realm.
            if own_type == Some(true) {
                org.organisation_auth(build, &workspace, false, true);
            }
            if let Some(provider_config) = &provider_config
                && build.exists(names::PROJECT_WORKSPACE_TYPE)
            {
                org.project_workspace_type(build, provider_config, false);
            }
        }
    }

    fn status(org: &Org<'_>, build: &Build<'_, Part>) -> OrganisationStatus {
        org.status(build)
    }
}

/// A valid Organisation: its parameters, the settings it reads and what follows from them.
pub struct Org<'a> {
    /// The first administrator's initial password (never logged).
    admin_password: Generated,
    /// The first administrator's username: `admin.username`, else the lower-cased address.
    admin_username: String,
    params: &'a spec::Parameters,
    platform: &'a Platform,
    /// Namespace of namespaced-flavour managed resources (`None` for this cluster-scoped XR).
    namespace: Option<String>,
    labels: Labels,
    issuer: String,
}

impl<'a> Org<'a> {
    fn org(&self) -> &'a str {
        self.params.name.as_str()
    }

    /// The workspace's absolute path.
    fn workspace_path(&self) -> String {
        kcp::child_path(&self.platform.kcp.root_workspace, self.org())
    }

    /// A deterministic object name `<organisation>-<suffix>`.
    fn name(&self, suffix: &str) -> String {
        names::object(self.org(), suffix)
    }

    /// Metadata of a managed resource: in the XR's namespace for a namespaced XR.
    fn meta(&self, name: &str) -> Meta {
        meta(name, self.ns(), &self.labels)
    }

    /// The namespace of namespaced-flavour managed resources.
    fn ns(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Where the composition's own Secrets go.
    fn secret_namespace(&self) -> String {
        self.ns()
            .unwrap_or(&self.platform.secret_namespace)
            .to_owned()
    }

    fn keycloak_config(&self) -> ProviderConfig {
        ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone())
    }

    /// Adds a Usage in the XR's scope: `used` outlives `user`.
    fn usage(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        used: &impl Referable,
        user: &impl Referable,
    ) {
        self.usage_in(build, self.ns(), composed, used, user);
    }

    /// Adds a Usage named after `composed`: `used` outlives `user`. `namespace` makes it a
    /// namespaced `Usage` (both objects in that namespace or cluster-scoped), else a
    /// `ClusterUsage`.
    fn usage_in(
        &self,
        build: &mut Build<'_, Part>,
        namespace: Option<&str>,
        composed: &str,
        used: &impl Referable,
        user: &impl Referable,
    ) {
        let name = self.name(composed.trim_start_matches("usage-"));
        build.usage(
            composed,
            Part::DeletionOrder,
            meta(&name, namespace, &self.labels),
            used,
            user,
        );
    }

    /// The Usage that keeps the workspace's ProviderConfig until `object`, which it reaches
    /// inside the workspace, is gone (`usage-provider-config-by-<composed>`). With background
    /// deletion provider-kubernetes' own ProviderConfigUsage finalizer would hold it too, but
    /// not when the XR is deleted in the foreground, where that usage goes while the Object
    /// is still terminating (crossplane/crossplane#4661; crossplane-runtime#1113 adds a
    /// finalizer that closes it for providers built on it); the Object would then
    /// be left unable to delete what it manages. The workspace outlives the ProviderConfig
    /// (`usage-workspace-by-provider-config`), and so every object in it.
    fn kept_by_provider_config(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        provider_config: &pk::ProviderConfig,
        object: &impl Referable,
    ) {
        let usage = format!("usage-provider-config-by-{composed}");
        self.usage(build, &usage, provider_config, object);
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

    /// The organisation's workspace in the root workspace.
    fn workspace(&self, build: &mut Build<'_, Part>) -> Object<kcp::Workspace> {
        let wanted = if self.platform.token_validation.enabled {
            self.own_workspace_type()
        } else {
            WorkspaceTypeReference::from(&self.platform.kcp.organisation_workspace_type)
        };
        // kcp makes spec.type immutable: an existing workspace keeps the type it was created
        // with (a workspace created before token validation was switched on stays universal
        // and must be recreated to trust the realm itself).
        let workspace_type = applied_workspace_type(build).unwrap_or(wanted);
        let workspace = kcp::Workspace::new(meta(self.org(), None, &self.labels), workspace_type);
        let object = Object::new(
            self.meta(&names::workspace_object(self.org())),
            workspace,
            &ProviderConfig::Platform(self.platform.provider_configs.kcp_root.clone()),
            Readiness::DeriveFromCelQuery(kcp::WORKSPACE_READY_QUERY.to_owned()),
        );
        let ready = build.ready(names::WORKSPACE) && observed_workspace(build).is_ready();
        build.add(names::WORKSPACE, Part::Workspace, &object, ready);
        object
    }

    /// The kubeconfig Secret and ProviderConfig for the workspace (the shared KCP access),
    /// and the Usages that keep the workspace and the Secret until the ProviderConfig is gone.
    fn provider_config(
        &self,
        build: &mut Build<'_, Part>,
        workspace: &Object<kcp::Workspace>,
    ) -> Option<pk::ProviderConfig> {
        let observed = observed_workspace(build);
        let path = self.workspace_path();
        let secret_namespace = self.secret_namespace();
        let access = Access {
            path: &path,
            workspace: &observed,
            secret_resource: names::KUBECONFIG,
            secret: meta(
                &self.name("kcp-kubeconfig"),
                Some(&secret_namespace),
                &self.labels,
            ),
            provider_config_resource: names::PROVIDER_CONFIG,
            provider_config: self.meta(&names::provider_config(self.org())),
        };
        let (secret, provider_config) =
            kcp_access::provider_config(build, self.platform, access, Part::ProviderConfig)?;
        self.usage(build, names::USAGE_WORKSPACE, workspace, &provider_config);
        self.usage_in(
            build,
            Some(&secret_namespace),
            names::USAGE_KUBECONFIG,
            &secret,
            &provider_config,
        );
        Some(provider_config)
    }

    /// The realm, its clients, the admin group and user, and the federated provider.
    fn keycloak(&self, build: &mut Build<'_, Part>) {
        let realm = self.realm();
        build.add_keycloak(names::REALM, Part::Realm, &realm);
        if let Some(auth) = self
            .platform
            .keycloak
            .smtp
            .as_ref()
            .and_then(|s| s.auth.as_ref())
        {
            let secret = &auth.password_secret;
            check_secret_key(
                build,
                names::SMTP_PASSWORD_REQUIREMENT,
                [&secret.namespace, &secret.name, &secret.key],
                || {
                    let logins = if self.platform.keycloak.verify_email() {
                        "; with keycloak.verifyEmail, a new user's first login waits for a mail that is not sent"
                    } else {
                        ""
                    };
                    format!(
                        "so provider-keycloak sends the realm no SMTP password (keycloak.smtp.auth.passwordSecret) and Keycloak drops the one it has: the realm sends no mail (address verification, password reset) until the Secret has it{logins}"
                    )
                },
            );
        }
        let in_realm = RealmId::managed(realm.name());

        let tv = &self.platform.token_validation;
        let kcp_audience = tv.kcp_audience.clone().filter(|_| tv.enabled);
        for (client_name, settings, groups_mapper, audience_mapper) in [
            (
                names::CONSOLE_CLIENT,
                &self.platform.keycloak.console,
                names::CONSOLE_GROUPS,
                names::CONSOLE_AUDIENCE,
            ),
            (
                names::KUBECTL_CLIENT,
                &self.platform.keycloak.kubectl,
                names::KUBECTL_GROUPS,
                names::KUBECTL_AUDIENCE,
            ),
        ] {
            let client = self.client(client_name, settings, &in_realm);
            build.add_keycloak(client_name, Part::Clients, &client);
            self.usage(
                build,
                &format!("usage-realm-by-{client_name}"),
                &realm,
                &client,
            );
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
            build.add_keycloak(groups_mapper, Part::Clients, &mapper);
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
                build.add_keycloak(audience_mapper, Part::Clients, &mapper);
            }
        }

        self.admin(build, &realm, &in_realm);
        if let Some(idp) = self.params.identity_provider.as_ref() {
            self.identity_provider(build, idp, &realm);
        }
    }

    fn realm(&self) -> keycloak::Realm {
        let smtp = self
            .platform
            .keycloak
            .smtp
            .as_ref()
            .map(|smtp| keycloak::SmtpServer {
                host: smtp.host.to_string(),
                port: smtp.port.map(|p| p.to_string()),
                from: smtp.from.to_string(),
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
        let themes = &self.platform.keycloak.themes;
        let params = keycloak::RealmParameters {
            realm: self.org().to_owned(),
            enabled: Some(true),
            display_name: Some(self.params.display_name.to_string()),
            login_with_email_allowed: Some(true),
            duplicate_emails_allowed: Some(false),
            registration_allowed: Some(false),
            reset_password_allowed: Some(self.platform.keycloak.smtp.is_some()),
            verify_email: Some(self.platform.keycloak.verify_email()),
            ssl_required: Some("external"),
            smtp_server: smtp.into_iter().collect(),
            password_policy: Some(self.platform.keycloak.password_policy.clone())
                .filter(|p| !p.is_empty()),
            security_defenses: Some(&self.platform.keycloak.brute_force_detection)
                .filter(|b| b.enabled)
                .map(|b| keycloak::SecurityDefenses {
                    brute_force_detection: vec![keycloak::BruteForceDetection {
                        max_login_failures: b.max_login_failures,
                        wait_increment_seconds: b.wait_increment_seconds,
                        quick_login_check_milli_seconds: b.quick_login_check_milli_seconds,
                        minimum_quick_login_wait_seconds: b.minimum_quick_login_wait_seconds,
                        max_failure_wait_seconds: b.max_failure_wait_seconds,
                        failure_reset_time_seconds: b.failure_reset_time_seconds,
                    }],
                })
                .into_iter()
                .collect(),
            login_theme: themes.login.as_ref().map(ToString::to_string),
            account_theme: themes.account.as_ref().map(ToString::to_string),
            email_theme: themes.email.as_ref().map(ToString::to_string),
        };
        Managed::new(
            self.meta(&names::realm_object(self.org())),
            params,
            &self.keycloak_config(),
        )
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
    fn admin(&self, build: &mut Build<'_, Part>, realm: &keycloak::Realm, in_realm: &RealmId) {
        let group = keycloak::GroupParameters {
            realm: in_realm.clone(),
            name: self.platform.keycloak.admin_group.clone(),
            parent_id_ref: None,
            attributes: std::collections::BTreeMap::new(),
        };
        let mut group = self.keycloak_resource(&self.platform.keycloak.admin_group, group);
        // The object is named after `keycloak.adminGroup`, a setting that may change. Crossplane
        // keeps the name an existing composed resource has, so the membership and the Usage
        // must name that object, not one named after the new setting (which never exists).
        if let Some(name) = build.observed_name(names::ADMINS_GROUP) {
            name.clone_into(&mut group.metadata.name);
        }
        build.add_keycloak(names::ADMINS_GROUP, Part::Admin, &group);
        self.usage(build, names::USAGE_REALM_BY_GROUP, realm, &group);

        let secret_namespace = self.secret_namespace();
        let password = Secret::new(
            meta(
                &self.name("admin-initial-password"),
                Some(&secret_namespace),
                &self.labels,
            ),
            [(
                ADMIN_PASSWORD_KEY.to_owned(),
                Base64::from(self.admin_password.value.clone()),
            )],
        )
        .opaque();
        build.add_existing(names::ADMIN_PASSWORD, Part::Admin, &password);
        if !build.exists(names::ADMIN_PASSWORD) {
            // provider-keycloak resolves the initial password when it creates the user, and
            // upjet sends an empty value for a Secret it cannot find (`IgnoreNotFound`,
            // `pkg/resource/sensitive.go`; crossplane/upjet#651): the user waits for it.
            build.wait(
                "WaitingForAdminPassword",
                format!(
                    "the first administrator's initial password Secret {secret_namespace}/{} does not exist yet",
                    password.name()
                ),
            );
            return;
        }

        let admin = &self.params.admin;
        let user = keycloak::UserParameters {
            realm: in_realm.clone(),
            username: self.admin_username.clone(),
            email: Some(admin.email.as_str().to_lowercase()),
            email_verified: None,
            enabled: Some(true),
            first_name: admin.first_name.as_ref().map(|n| n.to_string()),
            last_name: admin.last_name.as_ref().map(|n| n.to_string()),
            required_actions: Vec::new(),
        };
        // Creation-only: Keycloak clears required actions and verifies the address as the
        // admin completes them; in forProvider the provider would reset both on every poll.
        let init = keycloak::UserInitParameters::first_login(
            Some(false),
            self.platform.keycloak.verify_email(),
            SecretKeySelector::new(
                &secret_namespace,
                password.name(),
                ADMIN_PASSWORD_KEY,
                self.ns(),
            ),
        );
        let user = self
            .keycloak_resource("admin", user)
            .with_init_provider(&init)
            .with_management_policies(&[
                ManagementPolicy::Observe,
                ManagementPolicy::Create,
                ManagementPolicy::Delete,
            ]);
        build.add_keycloak(names::ADMIN_USER, Part::Admin, &user);
        if build.adopted(names::ADMIN_USER) {
            // The Terraform provider sets the initial password only when it creates the user.
            build.warn(format!(
                "the first administrator {} already existed in the realm, so the initial \
                 password was not set: they log in with the credentials they have, not the one \
                 in Secret {}/{}",
                self.admin_username,
                self.secret_namespace(),
                self.name("admin-initial-password")
            ));
        }
        self.usage(build, names::USAGE_REALM_BY_USER, realm, &user);

        let membership = keycloak::UserGroupsParameters {
            realm: in_realm.clone(),
            user_id_ref: Reference::to(user.name()),
            group_ids_refs: vec![Reference::to(group.name())],
            exhaustive: false,
        };
        let membership = self.keycloak_resource("admin-groups", membership);
        build.add_keycloak(names::ADMIN_MEMBERSHIP, Part::Admin, &membership);
    }

    /// The federated OIDC provider and the Secret holding its client ID.
    fn identity_provider(
        &self,
        build: &mut Build<'_, Part>,
        idp: &spec::IdentityProvider,
        realm: &keycloak::Realm,
    ) {
        let secret = &idp.client_secret_ref;
        let has_client_secret = check_secret_key(
            build,
            names::IDP_CLIENT_SECRET_REQUIREMENT,
            [secret.namespace.as_str(), &secret.name, &secret.key],
            || {
                format!(
                    "so provider-keycloak gives identity provider {} no client secret (spec.parameters.identityProvider.clientSecretRef): logins through it fail at the provider's token endpoint until the Secret has it",
                    idp.alias.as_str()
                )
            },
        );
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
        let exists = build.exists(names::IDP_CLIENT_ID);
        build.add(
            names::IDP_CLIENT_ID,
            Part::IdentityProvider,
            &client_id,
            exists,
        );
        // upjet sends an empty value for a Secret it cannot find (`IgnoreNotFound`,
        // `pkg/resource/sensitive.go`): the provider would be created with client ID "" or
        // without a client secret, and logins through it would fail until an update carried
        // the value (a secret Keycloak reads back masked, like the SMTP password, may not
        // show upjet a difference to apply once its state was rebuilt from the Secret).
        let secrets_ready = exists && has_client_secret;
        if !secrets_ready && !build.exists(names::IDENTITY_PROVIDER) {
            let missing = if exists {
                format!(
                    "the Secret {}/{} with the identity provider's client secret (key {}) has no value yet",
                    secret.namespace.as_str(),
                    secret.name,
                    secret.key
                )
            } else {
                format!(
                    "the Secret {secret_namespace}/{} with the identity provider's client ID does not exist yet",
                    client_id.name()
                )
            };
            build.wait("WaitingForIdentityProviderSecret", missing);
            return;
        }

        let url = |u: &Option<HttpsUrl>| u.as_ref().map(ToString::to_string);
        let params = keycloak::OidcIdentityProviderParameters {
            realm_ref: Reference::to(realm.name()),
            alias: idp.alias.to_string(),
            // Always written: the Terraform schema makes it Optional+Computed, so a name
            // left out would keep the last one (empty: the login page shows the alias).
            display_name: Some(
                idp.display_name
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            enabled: true,
            issuer: Some(idp.issuer.to_string()),
            authorization_url: idp.authorization_url.to_string(),
            token_url: idp.token_url.to_string(),
            jwks_url: url(&idp.jwks_url),
            user_info_url: url(&idp.user_info_url),
            logout_url: url(&idp.logout_url),
            // With back-channel logout (the Terraform default) Keycloak only calls the
            // end-session endpoint from the server and never sends the browser there
            // (`OIDCIdentityProvider.keycloakInitiatedBrowserLogout`): a corporate session
            // would outlive the logout.
            backchannel_supported: idp.logout_url.is_some().then_some(false),
            validate_signature: idp.jwks_url.is_some(),
            default_scopes: Some(idp.scopes.to_string()),
            trust_email: idp.trust_email,
            // Nothing reads the corporate provider's tokens: Keycloak need not keep them.
            store_token: false,
            first_broker_login_flow_alias: Some(FIRST_BROKER_LOGIN_FLOW.into()),
            sync_mode: Some("IMPORT"),
            client_id_secret_ref: SecretKeySelector::new(
                &secret_namespace,
                client_id.name(),
                CLIENT_ID_KEY,
                self.ns(),
            ),
            client_secret_secret_ref: SecretKeySelector::new(
                idp.client_secret_ref.namespace.as_str(),
                &idp.client_secret_ref.name,
                &idp.client_secret_ref.key,
                self.ns(),
            ),
        };
        let provider = self.keycloak_resource("identity-provider", params);
        build.add_keycloak(names::IDENTITY_PROVIDER, Part::IdentityProvider, &provider);
        self.usage(build, names::USAGE_REALM_BY_IDP, realm, &provider);
        self.usage_in(
            build,
            Some(&secret_namespace),
            names::USAGE_IDP_CLIENT_ID,
            &client_id,
            &provider,
        );
    }

    /// What the realm's administrators' group may do in the organisation's workspace: enter
    /// it and create (and delete) project workspaces of the project type. kcp grants nothing
    /// of the kind by itself: the workspace content authorizer wants verb `access` on `/`
    /// from the workspace's own bindings, and only the workspace's creator (here
    /// provider-kubernetes) is bound as owner (`kcp-dev/kcp` `docs/content/concepts/
    /// authorization/authorizers.md`, `pkg/authorization/bootstrap/policy.go`). The group is
    /// `<tokenValidation.groupsPrefix><keycloak.adminGroup>` (`oidc:org-admins`): the name kcp
    /// gives the realm's groups claim. Not cluster-admin: that would let them change the
    /// workspace type and so which issuer is trusted. The Project composition binds the same
    /// group as admin of each project workspace.
    fn admin_permissions(
        &self,
        build: &mut Build<'_, Part>,
        provider_config: Option<&pk::ProviderConfig>,
    ) {
        let Some(provider_config) =
            provider_config.filter(|_| build.exists(names::PROVIDER_CONFIG))
        else {
            return;
        };
        let in_workspace = ProviderConfig::Composed(provider_config.name().to_owned());
        let group = format!(
            "{}{}",
            self.platform.token_validation.groups_prefix, self.platform.keycloak.admin_group
        );
        let subjects = || vec![rbac::Subject::group(group.clone())];
        let access = rbac::ClusterRoleBinding::workspace_access(
            meta(names::ADMINS_ACCESS_OBJECT, None, &self.labels),
            subjects(),
        );
        let creator = rbac::ClusterRole::new(
            meta(names::PROJECT_CREATOR_OBJECT, None, &self.labels),
            vec![
                rbac::PolicyRule::resources(
                    &["tenancy.kcp.io"],
                    &["workspaces"],
                    &["get", "list", "watch", "create", "delete"],
                ),
                rbac::PolicyRule::resources(
                    &["tenancy.kcp.io"],
                    &["workspacetypes"],
                    &["get", "list", "watch", "use"],
                ),
            ],
        );
        let creators = rbac::ClusterRoleBinding::new(
            meta(names::PROJECT_CREATORS_OBJECT, None, &self.labels),
            names::PROJECT_CREATOR_OBJECT,
            subjects(),
        );
        for (composed, suffix, manifest) in [
            (
                names::ADMINS_ACCESS,
                "admins-access",
                serde_json::to_value(&access),
            ),
            (
                names::PROJECT_CREATOR,
                "project-creator",
                serde_json::to_value(&creator),
            ),
            (
                names::PROJECT_CREATORS,
                "admins-project-creator",
                serde_json::to_value(&creators),
            ),
        ] {
            let manifest = manifest.expect("RBAC objects serialise");
            let object = Object::new(
                self.meta(&self.name(suffix)),
                manifest,
                &in_workspace,
                Readiness::SuccessfulCreate,
            );
            build.add_managed(composed, Part::Admin, &object);
            self.kept_by_provider_config(build, composed, provider_config, &object);
        }
    }

    /// The JWT authenticator trusting the realm's tokens from both clients.
    fn jwt(&self) -> kcp::JwtAuthenticator {
        let tv = &self.platform.token_validation;
        let clients = [
            &self.platform.keycloak.kubectl.client_id,
            &self.platform.keycloak.console.client_id,
        ];
        kcp::JwtAuthenticator {
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
        }
    }

    /// The organisation's own workspace type `root:org-<name>`.
    fn own_workspace_type(&self) -> WorkspaceTypeReference {
        WorkspaceTypeReference {
            name: names::organisation_workspace_type(self.org()),
            path: self.platform.kcp.root_workspace.clone(),
        }
    }

    /// Whether the organisation's workspace, as applied, has the organisation's own type
    /// (`org-<name>`, made while token validation was on); `None` before it is applied.
    fn has_own_workspace_type(&self, build: &Build<'_, Part>) -> Option<bool> {
        applied_workspace_type(build).map(|applied| applied == self.own_workspace_type())
    }

    /// The organisation's own workspace type and authentication configuration, in the root
    /// workspace: kcp's front-proxy authenticates a request with the authentication
    /// configurations of the target workspace's *type*, which must live beside the type
    /// (`kcp-dev/kcp` `pkg/authentication/index.go`, `docs/content/concepts/authentication/
    /// workspace.md`). The organisation workspace's default type `root:universal` is shared
    /// by every universal workspace, so trusting the realm there would admit every
    /// organisation's users everywhere: each organisation gets `org-<name>`, extending the
    /// platform's organisation workspace type. Only new organisation workspaces get it
    /// (`Workspace.spec.type` is immutable); an existing one keeps its type.
    ///
    /// With `trust` the type carries the realm's authentication configuration, else it is
    /// bare (token validation switched off, the workspace still has it). kcp resolves a
    /// workspace's type, and authenticates by its configurations, for as long as the
    /// workspace exists: when `workspace_has_it` (`has_own_workspace_type`, not `Some(false)`)
    /// a Usage keeps the type until the workspace Object is gone, and another the
    /// configuration until the type is.
    fn organisation_auth(
        &self,
        build: &mut Build<'_, Part>,
        workspace: &Object<kcp::Workspace>,
        trust: bool,
        workspace_has_it: bool,
    ) {
        let in_root = ProviderConfig::Platform(self.platform.provider_configs.kcp_root.clone());
        let name = names::organisation_workspace_type(self.org());
        let mut auth = None;
        if trust {
            let auth_config = kcp::WorkspaceAuthenticationConfiguration::new(
                meta(&name, None, &self.labels),
                vec![self.jwt()],
            );
            let auth_object = Object::new(
                self.meta(&self.name("org-auth-config")),
                auth_config,
                &in_root,
                Readiness::SuccessfulCreate,
            );
            build.add_managed(names::ORG_AUTH_CONFIG, Part::TokenValidation, &auth_object);
            auth = Some(auth_object);
        }
        let spec = kcp::WorkspaceTypeSpec {
            authentication_configurations: if trust {
                vec![kcp::AuthenticationConfigurationReference { name: name.clone() }]
            } else {
                Vec::new()
            },
            extend: Some(kcp::WorkspaceTypeExtension {
                with: vec![WorkspaceTypeReference::from(
                    &self.platform.kcp.organisation_workspace_type,
                )],
            }),
        };
        let workspace_type = kcp::WorkspaceType::new(meta(&name, None, &self.labels), spec);
        let type_object = Object::new(
            self.meta(&self.name("org-workspace-type")),
            workspace_type,
            &in_root,
            Readiness::DeriveFromObject,
        );
        build.add_managed(
            names::ORG_WORKSPACE_TYPE,
            Part::TokenValidation,
            &type_object,
        );
        if workspace_has_it {
            self.usage(
                build,
                names::USAGE_ORG_WORKSPACE_TYPE,
                &type_object,
                workspace,
            );
        }
        if let Some(auth) = &auth {
            self.usage(build, names::USAGE_ORG_AUTH_CONFIG, auth, &type_object);
        }
    }

    /// The project workspace type trusting the realm, inside the organisation's workspace.
    fn token_validation(
        &self,
        build: &mut Build<'_, Part>,
        provider_config: Option<&pk::ProviderConfig>,
    ) {
        let Some(provider_config) =
            provider_config.filter(|_| build.exists(names::PROVIDER_CONFIG))
        else {
            let message = format!(
                "the provider config for KCP workspace {} does not exist yet",
                self.workspace_path()
            );
            build.wait("WaitingForProviderConfig", message);
            return;
        };
        if !build.ready(names::REALM) {
            build.wait(
                "WaitingForRealm",
                format!("Keycloak realm {} is not ready yet", self.org()),
            );
            return;
        }
        let jwt = self.jwt();
        let in_workspace = ProviderConfig::Composed(provider_config.name().to_owned());
        let auth_config = kcp::WorkspaceAuthenticationConfiguration::new(
            meta(names::AUTH_CONFIG_OBJECT, None, &self.labels),
            vec![jwt],
        );
        let auth_object = Object::new(
            self.meta(&self.name("auth-config")),
            auth_config,
            &in_workspace,
            Readiness::SuccessfulCreate,
        );
        let ready = build.ready(names::AUTH_CONFIG);
        build.add(
            names::AUTH_CONFIG,
            Part::TokenValidation,
            &auth_object,
            ready,
        );
        self.kept_by_provider_config(build, names::AUTH_CONFIG, provider_config, &auth_object);
        self.project_workspace_type(build, provider_config, true);
    }

    /// The type of project workspaces, inside the organisation's workspace: with `trust`, it
    /// carries the realm's authentication configuration; else it is bare. Once made, it stays
    /// when token validation is switched off: the projects' workspaces keep it
    /// (`Workspace.spec.type` is immutable) and kcp refuses every workspace created inside one
    /// whose type it cannot resolve (`pkg/admission/workspacetypeexists`). Only the realm's
    /// trust goes: kcp then authenticates those workspaces like any other
    /// (`pkg/authentication/index.go`, `Lookup` of an unknown type).
    fn project_workspace_type(
        &self,
        build: &mut Build<'_, Part>,
        provider_config: &pk::ProviderConfig,
        trust: bool,
    ) {
        let tv = &self.platform.token_validation;
        let in_workspace = ProviderConfig::Composed(provider_config.name().to_owned());
        let spec = kcp::WorkspaceTypeSpec {
            authentication_configurations: if trust {
                vec![kcp::AuthenticationConfigurationReference {
                    name: names::AUTH_CONFIG_OBJECT.into(),
                }]
            } else {
                Vec::new()
            },
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
        let ready = build.ready(names::PROJECT_WORKSPACE_TYPE);
        build.add(
            names::PROJECT_WORKSPACE_TYPE,
            Part::TokenValidation,
            &type_object,
            ready,
        );
        self.kept_by_provider_config(
            build,
            names::PROJECT_WORKSPACE_TYPE,
            provider_config,
            &type_object,
        );
    }

    fn status(&self, build: &Build<'_, Part>) -> OrganisationStatus {
        let org = self.org();
        let observed_ws = observed_workspace(build);
        let realm_ready = build.part_ready(Part::Realm);
        let provider_config_ready = build.part_ready(Part::ProviderConfig);
        let tv = &self.platform.token_validation;
        // The organisation's workspace trusts the realm only through its own type.
        let token_validation_ready = tv.enabled.then(|| {
            build.part_ready(Part::TokenValidation)
                && self.has_own_workspace_type(build) != Some(false)
        });
        OrganisationStatus {
            workspace: observed_ws.url().map(|url| spec::WorkspaceStatus {
                name: org.to_owned(),
                path: self.workspace_path(),
                url: url.to_owned(),
            }),
            realm: realm_ready.then(|| spec::RealmStatus {
                name: org.to_owned(),
                issuer_url: self.issuer.clone(),
            }),
            provider_config: provider_config_ready.then(|| names::provider_config(org)),
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
            admin_initial_password: (build.exists(names::ADMIN_PASSWORD)
                && !build.adopted(names::ADMIN_USER))
            .then(|| spec::SecretKeyStatus {
                name: self.name("admin-initial-password"),
                namespace: self.secret_namespace(),
                key: ADMIN_PASSWORD_KEY.to_owned(),
            }),
            workspace_ready: build.part_ready(Part::Workspace),
            provider_config_ready,
            realm_ready,
            clients_ready: build.part_ready(Part::Clients),
            admin_ready: build.part_ready(Part::Admin),
            identity_provider_ready: self
                .params
                .identity_provider
                .as_ref()
                .map(|_| build.part_ready(Part::IdentityProvider)),
            token_validation_ready,
            all_resources_ready: build.all_ready(),
        }
    }
}

/// What the Terraform provider and the CRDs refuse in the two clients' settings: the
/// authorization code flow without a redirect URI (`ValidateOpenidClient`), and a URI listed
/// twice in a list the CRD keeps as a set.
fn check_clients(
    keycloak: &crate::compositions::platform::KeycloakSettings,
) -> Result<(), Invalid> {
    for (key, client, empty) in [
        (
            "console",
            &keycloak.console,
            "is empty: list the SCO console's redirect URIs (https://console.example.com/*)",
        ),
        (
            "kubectl",
            &keycloak.kubectl,
            "is empty: the client's login (authorization code flow) needs at least one redirect URI",
        ),
    ] {
        if client.redirect_uris.is_empty() {
            return Err(Invalid::field(
                setting_path(&format!("keycloak.{key}.redirectUris")),
                empty,
            ));
        }
        for (list, uris) in [
            ("redirectUris", &client.redirect_uris),
            ("postLogoutRedirectUris", &client.post_logout_redirect_uris),
            ("webOrigins", &client.web_origins),
        ] {
            let twice = uris
                .iter()
                .enumerate()
                .find_map(|(i, uri)| uris[..i].contains(uri).then_some(uri));
            if let Some(uri) = twice {
                return Err(Invalid::field(
                    setting_path(&format!("keycloak.{key}.{list}")),
                    format!(
                        "lists {uri:?} twice: Keycloak's provider keeps it as a set; list each once"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The workspace manifest last applied through the Object (`spec.forProvider.manifest`).
#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AppliedWorkspace {
    spec: Option<AppliedSpec>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct AppliedSpec {
    for_provider: Option<AppliedForProvider>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AppliedForProvider {
    manifest: Option<AppliedManifest>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AppliedManifest {
    spec: Option<AppliedWorkspaceSpec>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AppliedWorkspaceSpec {
    r#type: Option<AppliedType>,
}

#[derive(Debug, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AppliedType {
    name: String,
    path: String,
}

/// Asks Crossplane for the Secret holding a value provider-keycloak reads from `key`
/// (namespace, name, key) and warns, once it is fetched, while it cannot give one: upjet reads
/// a Secret that does not exist, or a key it lacks, as an empty value without an error (upjet
/// `pkg/resource/sensitive.go` `GetSensitiveParameters`, which ignores NotFound;
/// `pkg/controller/api.go` `GetSecretValue`, `data[key]`), and Keycloak takes an empty value
/// as none. `consequence` says what that does (built only to warn). Whether the value is there
/// (not known before Crossplane has fetched the Secret: false).
fn check_secret_key(
    build: &mut Build<'_, Part>,
    requirement: &str,
    [namespace, name, key]: [&str; 3],
    consequence: impl FnOnce() -> String,
) -> bool {
    build.require(requirement, Requirement::secret(namespace, name));
    let Some(found) = build.required(requirement) else {
        return false;
    };
    let problem = match found.first().map(|secret| secret["data"].get(key)) {
        None => format!("Secret {namespace}/{name} does not exist"),
        Some(None) => format!("Secret {namespace}/{name} has no key {key}"),
        Some(Some(value)) if value.as_str().is_none_or(str::is_empty) => {
            format!("key {key} of Secret {namespace}/{name} is empty")
        }
        Some(Some(_)) => return true,
    };
    build.warn(format!("{problem}, {}", consequence()));
    false
}

/// The type of the organisation's workspace as last applied, if it was.
fn applied_workspace_type(build: &Build<'_, Part>) -> Option<WorkspaceTypeReference> {
    let applied = build
        .read::<AppliedWorkspace>(names::WORKSPACE)
        .and_then(|o| o.spec?.for_provider?.manifest?.spec?.r#type)?;
    Some(WorkspaceTypeReference {
        name: applied.name,
        path: applied.path,
    })
}

/// The organisation's workspace as observed inside its Object.
fn observed_workspace(build: &Build<'_, Part>) -> ObservedWorkspace {
    build
        .read::<pk::Observed<ObservedWorkspace>>(names::WORKSPACE)
        .and_then(pk::Observed::manifest)
        .unwrap_or_default()
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::readers::reader;
    use crate::resources::{kcp, provider_kubernetes as pk};
    vec![
        reader::<AppliedWorkspace>(pk::CLUSTER_API_VERSION, "Object"),
        reader::<AppliedManifest>(kcp::API_VERSION, "Workspace"),
    ]
}
