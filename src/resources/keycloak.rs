//! provider-keycloak managed resources: realm, OpenID clients, protocol mappers, groups,
//! users, memberships and OIDC identity providers. Every kind exists cluster-scoped
//! (`<group>.keycloak.crossplane.io`) and namespaced (`<group>.keycloak.m.crossplane.io`); the
//! flavour follows the metadata's namespace. Field names follow the provider's CRDs.
//!
//! Group `Memberships` (`group.keycloak.crossplane.io`, `memberships` CRD at
//! `crossplane-contrib/provider-keycloak@b29d027a`) wraps Terraform's `keycloak_group_memberships`:
//! authoritative over the group's members, by username. On create or update the Terraform
//! provider looks every username up and stops at the first one missing with
//! `user with username <name> does not exist` (`keycloak/terraform-provider-keycloak`, formerly
//! `mrparkers/terraform-provider-keycloak`,
//! `keycloak/user.go` `AddUsersToGroup`), which Crossplane reports as condition `Synced: False`
//! with that text in the message; `status.atProvider.members` holds the usernames Keycloak
//! has in the group. [`ObservedMemberships`] reads both, to name the unknown members.
//!
//! **No late initialisation** ([`DEFAULT_POLICIES`]): every resource is managed with
//! `managementPolicies: [Observe, Create, Update, Delete]`. With the default `["*"]`, upjet
//! copies every value Keycloak reports into a `forProvider` field the desired state leaves
//! unset (`crossplane/upjet` `pkg/resource/lateinit.go`, `GenericLateInitializer`: "Copy unset
//! (nil) values"), and crossplane-runtime writes it back into the spec. So an optional setting
//! the function stops writing (the realm's `smtpServer` when the platform drops SMTP, an
//! identity provider's `jwksUrl`, `userInfoUrl` or `logoutUrl`, a group's last attribute) was
//! filled in again from Keycloak on the next poll and never removed. Without `LateInitialize`
//! upjet skips that step (`pkg/controller/external_tfpluginsdk.go` `Observe`,
//! `policyHasLateInit`; crossplane-runtime `pkg/reconciler/managed/reconciler.go`,
//! `ShouldLateInitialize`), which leaves the Terraform provider's plain semantics: a field
//! absent from the configuration is removed, except where its schema is Optional and Computed
//! (`keycloak_openid_client`'s `web_origins`, `valid_post_logout_redirect_uris`, `root_url`,
//! `base_url`: Terraform keeps the last value, keycloak/terraform-provider-keycloak#759).
//! Users are the exception ([`Managed::with_late_initialization`]): Keycloak links a user to
//! the identity provider they log in with, the Terraform provider's user update deletes every
//! link the configuration does not list (`keycloak/user.go` `UpdateUser`), and only late
//! initialisation copies the links into `forProvider`.
//!
//! **What was adopted is kept.** provider-keycloak (v2.0.0 and later) finds an object it has
//! no ID for by its identifying properties before creating one (`config/external_name.go`:
//! the realm by name, a client by `clientId`, a group by name and parent, a user by
//! username; `config/lookup/identifying_properties_lookup.go`), so a realm `acme` made by
//! hand is taken over silently, no conflict reported, and deleting the managed resource
//! would delete it with everything in it. crossplane-runtime writes
//! `crossplane.io/external-create-pending` only on the way to calling Create, before it does,
//! and never removes it (`pkg/reconciler/managed/reconciler.go`, v1.17 to v2.4): a resource
//! `Ready=True` without it was found, not created. Such a resource is composed without
//! `Delete` ([`Managed::without_delete`]; crossplane-runtime supports every policy set this
//! gives, `policies.go`) and the XR warns. It errs towards keeping: a resource recreated
//! after an orphaning delete or a migration lost the annotation and is kept too; a
//! realm someone makes between the lookup and the create is still deleted (the annotation
//! is there). Kinds that are relations, not objects ([`Parameters::KEPT_WHEN_ADOPTED`]),
//! are exempt.
//! Management policies are enabled in provider-keycloak by default (`--enable-management-policies`,
//! `cmd/provider/main.go`). With them disabled, upjet ignores `spec.initProvider` (it merges
//! it only with the feature on, `external_tfpluginsdk.go` `getExtendedParameters`) and
//! crossplane-runtime refuses any policy list but the default `["*"]` (`policies.go`
//! `Validate`): every resource here lists its policies, so such a provider refuses them
//! loudly rather than creating users without their initial password.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::condition::{self, Condition};
use super::{Meta, ProviderConfig, ProviderConfigRef, Reference, SecretKeySelector};

/// The `forProvider` parameters of one managed resource kind.
pub trait Parameters: Serialize {
    /// The short API group (`realm` in `realm.keycloak.crossplane.io`).
    const GROUP: &'static str;
    /// The served storage version.
    const VERSION: &'static str;
    /// The kind.
    const KIND: &'static str;
    /// Whether a resource of this kind that provider-keycloak found rather than created
    /// keeps its Keycloak object when it goes (see the module docs): true for objects,
    /// false for relations (a group's members, a user's groups), which belong to their
    /// group or user.
    const KEPT_WHEN_ADOPTED: bool = true;
}

/// The annotation crossplane-runtime writes just before it asks a provider to create the
/// external resource (and never removes).
pub const EXTERNAL_CREATE_PENDING: &str = "crossplane.io/external-create-pending";

/// A provider-keycloak managed resource with parameters `P`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Managed<P> {
    /// `<group>.keycloak.crossplane.io/<version>` or `<group>.keycloak.m.crossplane.io/<version>`.
    pub api_version: String,
    /// The kind.
    pub kind: &'static str,
    /// Metadata; a namespace makes it the namespaced flavour.
    pub metadata: Meta,
    /// Spec.
    pub spec: ManagedSpec<P>,
}

/// `spec` of a managed resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedSpec<P> {
    /// The desired state in Keycloak.
    pub for_provider: P,
    /// Fields applied only when the resource is created (upjet merges them into the first
    /// apply and then ignores them: `crossplane/upjet` `pkg/controller/ignored_tfpluginsdk.go`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_provider: Option<serde_json::Value>,
    /// What Crossplane may do with the external resource ([`DEFAULT_POLICIES`] unless set).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub management_policies: Vec<ManagementPolicy>,
    /// The provider-keycloak config (Keycloak URL and admin credentials).
    pub provider_config_ref: ProviderConfigRef,
}

impl<P: Parameters> Managed<P> {
    /// A managed resource; the flavour follows `metadata.namespace`.
    pub fn new(metadata: Meta, for_provider: P, provider_config: &ProviderConfig) -> Self {
        let namespace = metadata.namespace.as_deref();
        let flavour = if namespace.is_some() {
            "keycloak.m.crossplane.io"
        } else {
            "keycloak.crossplane.io"
        };
        Self {
            api_version: format!("{}.{flavour}/{}", P::GROUP, P::VERSION),
            kind: P::KIND,
            spec: ManagedSpec {
                for_provider,
                init_provider: None,
                management_policies: DEFAULT_POLICIES.to_vec(),
                provider_config_ref: provider_config.reference(namespace),
            },
            metadata,
        }
    }
}

impl<P> Managed<P> {
    /// With creation-only fields in `spec.initProvider`.
    pub fn with_init_provider(mut self, init: &impl Serialize) -> Self {
        self.spec.init_provider =
            Some(serde_json::to_value(init).expect("init parameters serialise"));
        self
    }

    /// With explicit management policies.
    pub fn with_management_policies(mut self, policies: &[ManagementPolicy]) -> Self {
        self.spec.management_policies = policies.to_vec();
        self
    }

    /// Without `Delete`: the Keycloak object stays when the managed resource goes.
    pub fn without_delete(mut self) -> Self {
        self.spec
            .management_policies
            .retain(|p| *p != ManagementPolicy::Delete);
        self
    }

    /// With every policy, late initialisation included: for a kind whose Terraform update
    /// rewrites state Keycloak adds by itself, which only late initialisation carries into
    /// `forProvider` (a user's federated identity links, see the IAM User). Spelled out
    /// rather than the CRD's default `["*"]`: where management policies are disabled
    /// (`--enable-management-policies=false`) upjet drops `spec.initProvider` silently, and
    /// only a non-default policy list makes crossplane-runtime refuse the resource instead
    /// (`policies.go` `Validate`).
    pub fn with_late_initialization(mut self) -> Self {
        self.spec.management_policies = vec![
            ManagementPolicy::Observe,
            ManagementPolicy::Create,
            ManagementPolicy::Update,
            ManagementPolicy::Delete,
            ManagementPolicy::LateInitialize,
        ];
        self
    }
}

/// What Crossplane may do with a Keycloak object unless a resource says otherwise: everything
/// but late initialisation (see the module docs).
pub const DEFAULT_POLICIES: [ManagementPolicy; 4] = [
    ManagementPolicy::Observe,
    ManagementPolicy::Create,
    ManagementPolicy::Update,
    ManagementPolicy::Delete,
];

/// A Crossplane management policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ManagementPolicy {
    /// Read the external resource.
    Observe,
    /// Create it when missing.
    Create,
    /// Update it on drift.
    Update,
    /// Delete it with the managed resource.
    Delete,
    /// Copy unset fields from the external resource into `forProvider`.
    LateInitialize,
}

referable! {
    impl<P> for Managed<P>;
}

/// Which realm a resource belongs to (`realmId` / `realmIdRef`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealmId {
    /// A realm managed elsewhere, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_id: Option<String>,
    /// A `Realm` managed resource, by metadata.name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_id_ref: Option<Reference>,
}

impl RealmId {
    /// The realm of the `Realm` managed resource called `name`.
    pub fn managed(name: &str) -> Self {
        Self {
            realm_id: None,
            realm_id_ref: Some(Reference::to(name)),
        }
    }

    /// An existing realm, by its name.
    pub fn existing(realm: &str) -> Self {
        Self {
            realm_id: Some(realm.to_owned()),
            realm_id_ref: None,
        }
    }
}

/// apiVersion of the cluster-scoped `Realm`.
pub const REALM_API_VERSION: &str = "realm.keycloak.crossplane.io/v1alpha1";

/// apiVersion of the namespaced `Group` (an IAM Group names its parent by it).
pub const GROUP_NAMESPACED_API_VERSION: &str = "group.keycloak.m.crossplane.io/v1alpha1";

/// `Realm` (`realm.keycloak.crossplane.io`).
pub type Realm = Managed<RealmParameters>;

/// `forProvider` of a `Realm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealmParameters {
    /// The realm's name, which is also its ID.
    pub realm: String,
    /// Whether users and clients can use the realm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Name shown on the login page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether users may log in with their email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_with_email_allowed: Option<bool>,
    /// Whether two users may share an email address (must be false with email login).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_emails_allowed: Option<bool>,
    /// Whether users may register themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_allowed: Option<bool>,
    /// Whether the login page offers "forgot password".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_password_allowed: Option<bool>,
    /// Whether users must verify their email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_email: Option<bool>,
    /// `none`, `external` or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_required: Option<&'static str>,
    /// The SMTP server the realm sends email through (at most one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub smtp_server: Vec<SmtpServer>,
    /// Password policies joined by ` and ` (`length(12) and notUsername`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<String>,
    /// Security defenses (at most one): brute-force detection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_defenses: Vec<SecurityDefenses>,
    /// The login pages' theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_theme: Option<String>,
    /// The account console's theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_theme: Option<String>,
    /// The emails' theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_theme: Option<String>,
}

/// `securityDefenses[]` of a `Realm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDefenses {
    /// Brute-force detection (at most one); present means on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub brute_force_detection: Vec<BruteForceDetection>,
}

/// `securityDefenses[].bruteForceDetection[]` of a `Realm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BruteForceDetection {
    /// Failures before a wait.
    pub max_login_failures: u32,
    /// Wait added at each lockout.
    pub wait_increment_seconds: u32,
    /// Failures closer together than this count as quick.
    pub quick_login_check_milli_seconds: u32,
    /// Wait after a quick failure.
    pub minimum_quick_login_wait_seconds: u32,
    /// Longest wait.
    pub max_failure_wait_seconds: u32,
    /// When the failure count resets.
    pub failure_reset_time_seconds: u32,
}

impl Parameters for RealmParameters {
    const GROUP: &'static str = "realm";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "Realm";
}

/// `smtpServer[]` of a `Realm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpServer {
    /// Host name.
    pub host: String,
    /// Port (a string in the provider's schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Sender address.
    pub from: String,
    /// Sender display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_display_name: Option<String>,
    /// Use SSL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl: Option<bool>,
    /// Use STARTTLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttls: Option<bool>,
    /// Login to the SMTP server (at most one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auth: Vec<SmtpAuth>,
}

/// `smtpServer[].auth[]` of a `Realm`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpAuth {
    /// User name.
    pub username: String,
    /// The Secret key holding the password.
    pub password_secret_ref: SecretKeySelector,
}

/// OpenID `Client` (`openidclient.keycloak.crossplane.io/v1alpha2`).
pub type Client = Managed<ClientParameters>;

/// `accessType` of a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum AccessType {
    /// No secret: browsers and CLIs (with PKCE).
    #[default]
    #[serde(rename = "PUBLIC")]
    Public,
    /// Has a client secret.
    #[serde(rename = "CONFIDENTIAL")]
    Confidential,
    /// Only validates tokens.
    #[serde(rename = "BEARER-ONLY")]
    BearerOnly,
}

/// `pkceCodeChallengeMethod` of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PkceMethod {
    /// SHA-256 challenge (the one to use).
    S256,
    /// Plain challenge.
    #[serde(rename = "plain")]
    Plain,
}

/// `forProvider` of an OpenID `Client`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The client ID used in authentication requests and tokens.
    pub client_id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Public, confidential or bearer-only.
    pub access_type: AccessType,
    /// Whether the authorization code flow is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_flow_enabled: Option<bool>,
    /// Whether the implicit flow is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_flow_enabled: Option<bool>,
    /// Whether the resource-owner password flow is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_access_grants_enabled: Option<bool>,
    /// Whether the client has a service account (client credentials flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_accounts_enabled: Option<bool>,
    /// PKCE method required from clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkce_code_challenge_method: Option<PkceMethod>,
    /// Where the browser may be sent after login.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_redirect_uris: Vec<String>,
    /// Where the browser may be sent after logout (`+`: the redirect URIs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_post_logout_redirect_uris: Vec<String>,
    /// Allowed CORS origins (`+`: the redirect URIs' origins).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub web_origins: Vec<String>,
}

impl Parameters for ClientParameters {
    const GROUP: &'static str = "openidclient";
    const VERSION: &'static str = "v1alpha2";
    const KIND: &'static str = "Client";
}

/// A confidential OpenID `Client` whose secret the composition sets from a Secret
/// (`clientSecretSecretRef`), so the Secret its relying party reads and Keycloak agree.
pub type ConfidentialClient = Managed<ConfidentialClientParameters>;

/// `forProvider` of a confidential OpenID `Client` with the authorization code flow only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidentialClientParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The client ID.
    pub client_id: String,
    /// Display name.
    pub name: String,
    access_type: AccessType,
    standard_flow_enabled: bool,
    implicit_flow_enabled: bool,
    direct_access_grants_enabled: bool,
    service_accounts_enabled: bool,
    /// The Secret key holding the client secret.
    pub client_secret_secret_ref: SecretKeySelector,
    /// Where the browser may be sent after login.
    pub valid_redirect_uris: Vec<String>,
}

impl ConfidentialClientParameters {
    /// A confidential client `client_id` in `realm` with the secret in `secret` and the
    /// authorization code flow to `redirect_uris` only.
    pub fn new(
        realm: RealmId,
        client_id: &str,
        secret: SecretKeySelector,
        redirect_uris: Vec<String>,
    ) -> Self {
        Self {
            realm,
            client_id: client_id.to_owned(),
            name: client_id.to_owned(),
            access_type: AccessType::Confidential,
            standard_flow_enabled: true,
            implicit_flow_enabled: false,
            direct_access_grants_enabled: false,
            service_accounts_enabled: false,
            client_secret_secret_ref: secret,
            valid_redirect_uris: redirect_uris,
        }
    }
}

/// An observed OpenID client, as far as compositions read it: the redirect URIs it was last
/// given (`spec.forProvider.validRedirectUris`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ObservedClient {
    spec: ObservedClientSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, rename_all = "camelCase")]
struct ObservedClientSpec {
    for_provider: ObservedClientParameters,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, rename_all = "camelCase")]
struct ObservedClientParameters {
    valid_redirect_uris: Vec<String>,
}

impl ObservedClient {
    /// The redirect URIs, empty when it has none.
    pub fn into_redirect_uris(self) -> Vec<String> {
        self.spec.for_provider.valid_redirect_uris
    }
}

impl Parameters for ConfidentialClientParameters {
    const GROUP: &'static str = "openidclient";
    const VERSION: &'static str = "v1alpha2";
    const KIND: &'static str = "Client";
}

/// `GroupMembershipProtocolMapper` (`openidgroup.keycloak.crossplane.io`): puts the user's
/// group names into a token claim.
pub type GroupMembershipProtocolMapper = Managed<GroupMembershipProtocolMapperParameters>;

/// `forProvider` of a `GroupMembershipProtocolMapper`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembershipProtocolMapperParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The `Client` managed resource the mapper belongs to.
    pub client_id_ref: Reference,
    /// The mapper's display name.
    pub name: String,
    /// The claim to fill.
    pub claim_name: String,
    /// Whether values are full paths (`/parent/child`) rather than names.
    pub full_path: bool,
    /// Add the claim to ID tokens.
    pub add_to_id_token: bool,
    /// Add the claim to access tokens.
    pub add_to_access_token: bool,
    /// Add the claim to the userinfo response.
    pub add_to_userinfo: bool,
}

impl Parameters for GroupMembershipProtocolMapperParameters {
    const GROUP: &'static str = "openidgroup";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "GroupMembershipProtocolMapper";
}

/// `AudienceProtocolMapper` (`openidgroup.keycloak.crossplane.io`): adds an audience to tokens.
pub type AudienceProtocolMapper = Managed<AudienceProtocolMapperParameters>;

/// `forProvider` of an `AudienceProtocolMapper`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudienceProtocolMapperParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The `Client` managed resource the mapper belongs to.
    pub client_id_ref: Reference,
    /// The mapper's display name.
    pub name: String,
    /// The audience to add.
    pub included_custom_audience: String,
    /// Add it to ID tokens.
    pub add_to_id_token: bool,
    /// Add it to access tokens.
    pub add_to_access_token: bool,
}

impl Parameters for AudienceProtocolMapperParameters {
    const GROUP: &'static str = "openidgroup";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "AudienceProtocolMapper";
}

/// `Group` (`group.keycloak.crossplane.io`).
pub type Group = Managed<GroupParameters>;

/// `forProvider` of a `Group`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The group's name.
    pub name: String,
    /// The parent `Group` managed resource, for a subgroup (the Terraform provider creates
    /// it under `/groups/<parent>/children`; `parent_id` is `ForceNew`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id_ref: Option<Reference>,
    /// Attributes: one string per name, several values joined by `##` (the Terraform
    /// provider's `MULTIVALUE_ATTRIBUTE_SEPARATOR`, split again when applied).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Parameters for GroupParameters {
    const GROUP: &'static str = "group";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "Group";
}

/// `Memberships` (`group.keycloak.crossplane.io`): the members of a group, authoritatively
/// (members added any other way are removed).
pub type Memberships = Managed<MembershipsParameters>;

/// `forProvider` of a `Memberships`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipsParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The `Group` managed resource.
    pub group_id_ref: Reference,
    /// Usernames of the members.
    pub members: Vec<String>,
}

impl Parameters for MembershipsParameters {
    const GROUP: &'static str = "group";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "Memberships";
    const KEPT_WHEN_ADOPTED: bool = false;
}

/// `User` (`user.keycloak.crossplane.io`).
pub type User = Managed<UserParameters>;

/// A required action a user must complete at their next login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequiredAction {
    /// Verify the email address.
    VerifyEmail,
    /// Choose a password.
    UpdatePassword,
    /// Complete the profile.
    UpdateProfile,
    /// Set up one-time passwords.
    ConfigureTotp,
}

/// `forProvider` of a `User`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The username (Keycloak lower-cases it).
    pub username: String,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the address counts as verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Whether the user may log in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Actions required at the next login.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_actions: Vec<RequiredAction>,
}

/// `initProvider` of a `User`: what matters only when the user is created. The Terraform
/// provider reads `emailVerified` and `requiredActions` back and re-applies `forProvider`
/// on every poll (`keycloak/terraform-provider-keycloak` `provider/resource_keycloak_user.go`;
/// `crossplane-contrib/provider-keycloak` issue 62), so a completed first login would be
/// undone; `initialPassword` is create-only upstream too (`onlyDiffOnCreate`). There is no
/// `realmIdRef` here: references live in `forProvider` only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInitParameters {
    /// Whether the address counts as verified when the user is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Actions required at the first login: never empty ([`Self::first_login`] lists
    /// `UPDATE_PASSWORD`). A temporary initial password makes Keycloak add `UPDATE_PASSWORD`
    /// itself (`UserResource.updateUserFromRep`), the Terraform provider reads
    /// `required_actions` back (Optional, not Computed), and provider-keycloak never
    /// late-initialises it into `forProvider` (`config/user`'s ignored fields): upjet hides
    /// the difference only for a field `initProvider` names (`filterInitExclusiveDiffs`), and
    /// it reads `initProvider` through the generated `tf:"required_actions,omitempty"` tag, so
    /// an empty list names nothing. Unnamed, the User would be updated on every poll until the
    /// first login (an update that leaves Keycloak's actions as they are: it sends `null`),
    /// and each update re-creates the user's identity-provider links (`keycloak/user.go`
    /// `UpdateUser`).
    pub required_actions: Vec<RequiredAction>,
    /// The password set when the user is created.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub initial_password: Vec<InitialPassword>,
}

/// `initialPassword[]` of a `User`: the value comes from a Secret (the CRD has no plain value).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitialPassword {
    /// Whether Keycloak asks for a new password at the first login (it adds
    /// `UPDATE_PASSWORD` itself; `requiredActions` lists it too, see
    /// [`UserInitParameters::required_actions`]).
    pub temporary: bool,
    /// The Secret key holding the password (`namespace` only for the cluster-scoped kind).
    pub value_secret_ref: SecretKeySelector,
}

impl UserInitParameters {
    /// A user's first login: a temporary initial password from `password`, the address
    /// unverified unless `email_verified` is `None`, and with `verify_email` the
    /// `VERIFY_EMAIL` action besides the `UPDATE_PASSWORD` the temporary password brings.
    pub fn first_login(
        email_verified: Option<bool>,
        verify_email: bool,
        password: SecretKeySelector,
    ) -> Self {
        let mut required_actions = Vec::new();
        if verify_email {
            required_actions.push(RequiredAction::VerifyEmail);
        }
        required_actions.push(RequiredAction::UpdatePassword);
        Self {
            email_verified,
            required_actions,
            initial_password: vec![InitialPassword {
                temporary: true,
                value_secret_ref: password,
            }],
        }
    }
}

impl Parameters for UserParameters {
    const GROUP: &'static str = "user";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "User";
}

/// User `Groups` (`user.keycloak.crossplane.io`): the groups a user is in; with
/// `exhaustive: false` it only adds, leaving memberships made elsewhere alone.
pub type UserGroups = Managed<UserGroupsParameters>;

/// `forProvider` of a user `Groups`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupsParameters {
    /// The realm.
    #[serde(flatten)]
    pub realm: RealmId,
    /// The `User` managed resource.
    pub user_id_ref: Reference,
    /// The `Group` managed resources.
    pub group_ids_refs: Vec<Reference>,
    /// Whether groups the user joined some other way are removed.
    pub exhaustive: bool,
}

impl Parameters for UserGroupsParameters {
    const GROUP: &'static str = "user";
    const VERSION: &'static str = "v1alpha1";
    const KIND: &'static str = "Groups";
    const KEPT_WHEN_ADOPTED: bool = false;
}

/// OIDC `IdentityProvider` (`oidc.keycloak.crossplane.io/v1alpha2`): a federated OpenID
/// Connect provider users can log in with.
pub type OidcIdentityProvider = Managed<OidcIdentityProviderParameters>;

/// `forProvider` of an OIDC `IdentityProvider`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcIdentityProviderParameters {
    /// The `Realm` managed resource (this kind names the realm `realm`, not `realmId`).
    pub realm_ref: Reference,
    /// Unique alias; part of the broker redirect URI.
    pub alias: String,
    /// Name on the login page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether users can log in with it.
    pub enabled: bool,
    /// Expected `iss` of its tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Authorization endpoint.
    pub authorization_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// JWKS endpoint for signature validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Userinfo endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info_url: Option<String>,
    /// End-session endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    /// Whether the provider takes a back-channel (server-side) logout request at its
    /// end-session endpoint; `false` sends the browser there (Terraform default: true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_supported: Option<bool>,
    /// Whether token signatures are validated (needs `jwksUrl`).
    pub validate_signature: bool,
    /// Space-separated scopes to request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_scopes: Option<String>,
    /// Whether its email addresses count as verified.
    pub trust_email: bool,
    /// Whether Keycloak keeps the provider's access and refresh tokens after each login. The
    /// Terraform provider defaults it to true (`store_token`, `Default: true`, in
    /// `generic_keycloak_identity_provider.go`), unlike Keycloak, so it is always written.
    pub store_token: bool,
    /// The flow run the first time a federated user logs in (Keycloak's built-in
    /// `first broker login` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broker_login_flow_alias: Option<String>,
    /// How the provider's claims update a user: `IMPORT` (at the first login only),
    /// `FORCE` (at every login) or `LEGACY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_mode: Option<&'static str>,
    /// The Secret key holding the client ID registered at the provider.
    pub client_id_secret_ref: SecretKeySelector,
    /// The Secret key holding the client secret.
    pub client_secret_secret_ref: SecretKeySelector,
}

impl Parameters for OidcIdentityProviderParameters {
    const GROUP: &'static str = "oidc";
    const VERSION: &'static str = "v1alpha2";
    const KIND: &'static str = "IdentityProvider";
}

/// What provider-keycloak reports about a `Memberships` (either flavour): its conditions and
/// the members Keycloak has (`status.atProvider.members`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedMemberships {
    status: Option<ObservedMembershipsStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedMembershipsStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    at_provider: Option<MembershipsAtProvider>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct MembershipsAtProvider {
    #[serde(default)]
    members: Vec<String>,
}

/// The Terraform provider's message for a username it cannot find.
const UNKNOWN_USER: (&str, &str) = ("user with username ", " does not exist");

impl ObservedMemberships {
    /// `status.conditions`.
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }

    /// Whether `Ready` is `True`.
    pub fn is_ready(&self) -> bool {
        condition::find(self.conditions(), "Ready").is_some_and(Condition::is_true)
    }

    /// The message of `Synced` when it is `False` (the last reconcile failed).
    pub fn sync_error(&self) -> Option<&str> {
        let synced = condition::find(self.conditions(), "Synced")?;
        (synced.status == "False").then_some(synced.message.as_str())
    }

    /// The usernames Keycloak reports in the group.
    pub fn members(&self) -> &[String] {
        let at_provider = self.status.as_ref().and_then(|s| s.at_provider.as_ref());
        at_provider.map_or(&[], |a| &a.members)
    }

    /// The username the last reconcile failed on as unknown, if that is why it failed.
    pub fn unknown_member(&self) -> Option<&str> {
        let message = self.sync_error()?;
        let (_, rest) = message.split_once(UNKNOWN_USER.0)?;
        let (name, _) = rest.split_once(UNKNOWN_USER.1)?;
        Some(name).filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
    }

    /// The `desired` usernames not (yet) in the group. Keycloak stores usernames lower-cased,
    /// so they are compared case-insensitively.
    pub fn missing<'a>(&self, desired: &'a [String]) -> Vec<&'a str> {
        let members = self.members();
        desired
            .iter()
            .filter(|d| !members.iter().any(|m| m.eq_ignore_ascii_case(d)))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::{Value, json};

    fn keycloak() -> ProviderConfig {
        ProviderConfig::Platform("keycloak-provider".into())
    }

    fn render<P: Parameters>(namespace: Option<&str>, params: P) -> Value {
        serde_json::to_value(Managed::new(
            meta("x", namespace, &Labels::default()),
            params,
            &keycloak(),
        ))
        .unwrap()
    }

    #[test]
    fn without_delete_keeps_every_other_policy_crossplane_runtime_supports() {
        use ManagementPolicy::{Create, Delete, LateInitialize, Observe, Update};
        let group = || {
            Managed::new(
                meta("x", None, &Labels::default()),
                GroupParameters::default(),
                &keycloak(),
            )
        };
        let policies = |m: Managed<GroupParameters>| m.without_delete().spec.management_policies;
        assert_eq!(policies(group()), [Observe, Create, Update]);
        assert_eq!(
            policies(group().with_management_policies(&[Observe, Create, Delete])),
            [Observe, Create]
        );
        // Every policy but Delete.
        assert_eq!(
            policies(group().with_late_initialization()),
            [Observe, Create, Update, LateInitialize]
        );
    }

    #[test]
    fn the_namespaced_group_api_version_is_the_one_groups_render_with() {
        let group = render(Some("team"), GroupParameters::default());
        assert_eq!(group["apiVersion"], GROUP_NAMESPACED_API_VERSION);
    }

    #[test]
    fn realm_in_both_flavours() {
        let params = RealmParameters {
            realm: "acme".into(),
            enabled: Some(true),
            ..Default::default()
        };
        let cluster = render(None, params.clone());
        assert_eq!(cluster["apiVersion"], REALM_API_VERSION);
        assert_eq!(cluster["kind"], "Realm");
        assert_eq!(
            cluster["spec"],
            json!({
                "forProvider": {"realm": "acme", "enabled": true},
                // No LateInitialize: an optional field no longer written is removed.
                "managementPolicies": ["Observe", "Create", "Update", "Delete"],
                "providerConfigRef": {"name": "keycloak-provider"},
            })
        );
        let namespaced = render(Some("team"), params);
        assert_eq!(
            namespaced["apiVersion"],
            "realm.keycloak.m.crossplane.io/v1alpha1"
        );
        assert_eq!(
            namespaced["spec"]["providerConfigRef"],
            json!({"kind": "ClusterProviderConfig", "name": "keycloak-provider"})
        );
    }

    #[test]
    fn public_pkce_client() {
        let client = render(
            Some("team"),
            ClientParameters {
                realm: RealmId::existing("acme"),
                client_id: "kubectl".into(),
                access_type: AccessType::Public,
                standard_flow_enabled: Some(true),
                pkce_code_challenge_method: Some(PkceMethod::S256),
                valid_redirect_uris: vec!["http://localhost:8000".into()],
                ..Default::default()
            },
        );
        assert_eq!(
            client["apiVersion"],
            "openidclient.keycloak.m.crossplane.io/v1alpha2"
        );
        assert_eq!(
            client["spec"]["forProvider"],
            json!({"realmId": "acme", "clientId": "kubectl", "accessType": "PUBLIC", "standardFlowEnabled": true,
                   "pkceCodeChallengeMethod": "S256", "validRedirectUris": ["http://localhost:8000"]})
        );
        assert_eq!(
            serde_json::to_value(AccessType::BearerOnly).unwrap(),
            "BEARER-ONLY"
        );
        assert_eq!(serde_json::to_value(PkceMethod::Plain).unwrap(), "plain");
    }

    #[test]
    fn mappers_groups_users_and_memberships() {
        let mapper = render(
            Some("team"),
            GroupMembershipProtocolMapperParameters {
                realm: RealmId::managed("acme-realm"),
                client_id_ref: Reference::to("acme-kubectl"),
                name: "groups".into(),
                claim_name: "groups".into(),
                full_path: false,
                add_to_id_token: true,
                add_to_access_token: true,
                add_to_userinfo: true,
            },
        );
        assert_eq!(
            mapper["apiVersion"],
            "openidgroup.keycloak.m.crossplane.io/v1alpha1"
        );
        assert_eq!(
            mapper["spec"]["forProvider"]["realmIdRef"],
            json!({"name": "acme-realm", "policy": {"resolve": "Always"}})
        );
        assert_eq!(
            mapper["spec"]["forProvider"]["clientIdRef"],
            json!({"name": "acme-kubectl", "policy": {"resolve": "Always"}})
        );

        let audience = render(
            Some("team"),
            AudienceProtocolMapperParameters {
                realm: RealmId::existing("acme"),
                client_id_ref: Reference::to("acme-kubectl"),
                name: "kcp".into(),
                included_custom_audience: "https://kcp.example.com".into(),
                add_to_id_token: true,
                add_to_access_token: true,
            },
        );
        assert_eq!(audience["kind"], "AudienceProtocolMapper");

        let group = render(
            Some("team"),
            GroupParameters {
                realm: RealmId::existing("acme"),
                name: "shop-admin".into(),
                parent_id_ref: None,
                attributes: BTreeMap::new(),
            },
        );
        assert_eq!(
            group["apiVersion"],
            "group.keycloak.m.crossplane.io/v1alpha1"
        );
        assert_eq!(
            group["spec"]["forProvider"],
            json!({"realmId": "acme", "name": "shop-admin"})
        );

        let user = render(
            Some("team"),
            UserParameters {
                realm: RealmId::existing("acme"),
                username: "ada".into(),
                required_actions: vec![RequiredAction::VerifyEmail, RequiredAction::UpdatePassword],
                ..Default::default()
            },
        );
        assert_eq!(user["apiVersion"], "user.keycloak.m.crossplane.io/v1alpha1");
        assert_eq!(
            user["spec"]["forProvider"]["requiredActions"],
            json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"])
        );

        let memberships = render(
            Some("team"),
            MembershipsParameters {
                realm: RealmId::existing("acme"),
                group_id_ref: Reference::to("shop-admin"),
                members: vec!["ada".into()],
            },
        );
        assert_eq!(memberships["kind"], "Memberships");
        assert_eq!(
            memberships["spec"]["forProvider"]["members"],
            json!(["ada"])
        );

        let groups = render(
            None,
            UserGroupsParameters {
                realm: RealmId::managed("acme-realm"),
                user_id_ref: Reference::to("acme-admin"),
                group_ids_refs: vec![Reference::to("acme-org-admins")],
                exhaustive: false,
            },
        );
        assert_eq!(groups["apiVersion"], "user.keycloak.crossplane.io/v1alpha1");
        assert_eq!(groups["kind"], "Groups");
        assert_eq!(groups["spec"]["forProvider"]["exhaustive"], false);
    }

    #[test]
    fn a_subgroup_refers_to_its_parent_and_carries_its_attributes_as_strings() {
        let group = render(
            Some("team"),
            GroupParameters {
                realm: RealmId::existing("acme"),
                name: "engineering".into(),
                parent_id_ref: Some(Reference::to("acme-group-teams")),
                attributes: BTreeMap::from([("slack".to_owned(), "#eng###oncall".to_owned())]),
            },
        );
        assert_eq!(
            group["spec"]["forProvider"],
            json!({"realmId": "acme", "name": "engineering",
                   "parentIdRef": {"name": "acme-group-teams", "policy": {"resolve": "Always"}},
                   "attributes": {"slack": "#eng###oncall"}})
        );
    }

    #[test]
    fn oidc_identity_provider_secret_refs_follow_the_flavour() {
        let params = |namespace: Option<&str>| OidcIdentityProviderParameters {
            realm_ref: Reference::to("acme-realm"),
            alias: "corporate".into(),
            display_name: None,
            enabled: true,
            issuer: Some("https://login.example.com".into()),
            authorization_url: "https://login.example.com/authorize".into(),
            token_url: "https://login.example.com/token".into(),
            jwks_url: None,
            user_info_url: None,
            logout_url: None,
            backchannel_supported: None,
            validate_signature: false,
            default_scopes: None,
            trust_email: false,
            store_token: false,
            first_broker_login_flow_alias: None,
            sync_mode: None,
            client_id_secret_ref: SecretKeySelector::new(
                "crossplane-system",
                "acme-idp",
                "clientId",
                namespace,
            ),
            client_secret_secret_ref: SecretKeySelector::new(
                "crossplane-system",
                "acme-idp",
                "clientSecret",
                namespace,
            ),
        };
        let cluster = render(None, params(None));
        assert_eq!(
            cluster["apiVersion"],
            "oidc.keycloak.crossplane.io/v1alpha2"
        );
        assert_eq!(cluster["kind"], "IdentityProvider");
        assert_eq!(
            cluster["spec"]["forProvider"]["clientIdSecretRef"]["namespace"],
            "crossplane-system"
        );
        let namespaced = render(Some("team"), params(Some("team")));
        assert_eq!(
            namespaced["apiVersion"],
            "oidc.keycloak.m.crossplane.io/v1alpha2"
        );
        assert_eq!(
            namespaced["spec"]["forProvider"]["clientSecretSecretRef"],
            json!({"key": "clientSecret", "name": "acme-idp"})
        );
        assert_eq!(
            namespaced["spec"]["forProvider"]["realmRef"],
            json!({"name": "acme-realm", "policy": {"resolve": "Always"}})
        );
    }

    #[test]
    fn managed_resources_are_referable() {
        let realm = Managed::new(
            meta("acme-realm", None, &Labels::default()),
            RealmParameters::default(),
            &keycloak(),
        );
        assert_eq!(
            (realm.api_version(), realm.kind(), realm.name()),
            (
                "realm.keycloak.crossplane.io/v1alpha1",
                "Realm",
                "acme-realm"
            )
        );
    }

    #[test]
    fn observed_memberships_name_the_unknown_member() {
        let read = |v| serde_json::from_value::<ObservedMemberships>(v).unwrap();
        let failed = read(json!({"status": {
            "conditions": [
                {"type": "Synced", "status": "False", "reason": "ReconcileError",
                 "message": "create failed: async create failed: failed to create the resource: [{0 user with username grace does not exist  []}]"},
                {"type": "Ready", "status": "False", "reason": "Creating"},
            ],
            "atProvider": {"members": ["ada"]},
        }}));
        assert_eq!(failed.unknown_member(), Some("grace"));
        assert!(!failed.is_ready());
        let desired = vec!["Ada".to_owned(), "grace".to_owned()];
        assert_eq!(failed.missing(&desired), ["grace"]);
        let ready = read(json!({"status": {
            "conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "True"}],
            "atProvider": {"members": ["ada", "grace"]},
        }}));
        assert!(ready.is_ready());
        assert_eq!((ready.sync_error(), ready.unknown_member()), (None, None));
        assert!(ready.missing(&desired).is_empty());
        let other = read(json!({"status": {"conditions": [
            {"type": "Synced", "status": "False", "message": "connection refused"},
        ]}}));
        assert_eq!(
            (other.sync_error(), other.unknown_member()),
            (Some("connection refused"), None)
        );
        assert_eq!(ObservedMemberships::default().members(), &[] as &[String]);
    }

    #[test]
    fn unknown_member_is_one_non_empty_word() {
        let failed = |message: &str| {
            serde_json::from_value::<ObservedMemberships>(json!({"status": {"conditions": [
                {"type": "Synced", "status": "False", "message": message}]}}))
            .unwrap()
        };
        assert_eq!(
            failed("user with username  does not exist").unknown_member(),
            None
        );
        assert_eq!(
            failed("user with username a b does not exist").unknown_member(),
            None
        );
    }
}
