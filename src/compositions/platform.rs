//! The platform settings every composition may read: provider config names, the waiting
//! TTL, where the function's own Secrets go, KCP, Keycloak and token validation. They are the
//! top-level keys of the `sco` environment key and of the input's `spec.platform`; each
//! composition's own settings sit beside them under its own key (`virtualMachine`), owned by
//! its module. [`MOVED`] lists keys that earlier versions read elsewhere.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{Email, HttpsUrl, Text};
use crate::resources::kcp::WorkspaceTypeReference;

/// Settings shared by every composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Platform {
    /// Names of the Crossplane provider configs composed resources use.
    pub provider_configs: ProviderConfigs,
    /// TTL of responses while a composition waits for something it depends on (a workspace
    /// URL, a load balancer address), so that the XR is looked at again soon.
    pub waiting_ttl: Ttl,
    /// Namespace of the Secrets cluster-scoped XRs compose (workspace kubeconfigs, identity
    /// provider client IDs); a namespaced XR keeps its Secrets in its own namespace.
    pub secret_namespace: String,
    /// KCP: where organisation workspaces go and how to reach them.
    pub kcp: KcpSettings,
    /// Keycloak: its public URL, the clients and the administrators' group of every realm.
    pub keycloak: KeycloakSettings,
    /// Validating workspace tokens against the organisation's realm, and the OIDC claims and
    /// prefixes KCP gives realm users and groups.
    pub token_validation: TokenValidation,
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            provider_configs: ProviderConfigs::default(),
            waiting_ttl: Ttl(Duration::from_secs(10)),
            secret_namespace: "crossplane-system".into(),
            kcp: KcpSettings::default(),
            keycloak: KeycloakSettings::default(),
            token_validation: TokenValidation::default(),
        }
    }
}

impl KeycloakSettings {
    /// Whether realms verify email addresses (and so need to send mail).
    pub fn verify_email(&self) -> bool {
        self.verify_email.unwrap_or(self.smtp.is_some())
    }
}

/// The clients Keycloak creates in every realm (the `*_CLIENT_ID` constants of
/// `org.keycloak.models.Constants`, set up by `RealmManager`): a platform client may not
/// take one of their IDs.
const KEYCLOAK_BUILT_IN_CLIENTS: [&str; 6] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

impl Platform {
    /// The rules between settings a schema cannot say: the offending key and why.
    pub fn check(&self) -> Result<(), Vec<(String, String)>> {
        let mut errors = Vec::new();
        if self.keycloak.verify_email == Some(true) && self.keycloak.smtp.is_none() {
            errors.push((
                "keycloak.verifyEmail".into(),
                "is true but keycloak.smtp is not set: Keycloak sends the verification mail at the first login and blocks the login when it cannot (VerifyEmail required action), so set keycloak.smtp or leave verifyEmail unset".into(),
            ));
        }
        // provider-keycloak finds an existing client by its client ID (its external-name
        // configuration), so a client ID the realm already has is adopted, not created: the
        // two clients would fight over one Keycloak client, and a built-in one would be
        // rewritten (and deleted with the organisation).
        let (console, kubectl) = (
            &self.keycloak.console.client_id,
            &self.keycloak.kubectl.client_id,
        );
        let before_clients = errors.len();
        for (key, id) in [
            ("keycloak.console.clientId", console),
            ("keycloak.kubectl.clientId", kubectl),
        ] {
            if id.is_empty() || KEYCLOAK_BUILT_IN_CLIENTS.contains(&id.as_str()) {
                errors.push((
                    key.into(),
                    format!(
                        "{id:?} is empty or a client every Keycloak realm has ({}): choose another client ID",
                        KEYCLOAK_BUILT_IN_CLIENTS.join(", ")
                    ),
                ));
            }
        }
        // Two IDs already refused need not be told apart as well.
        if console == kubectl && errors.len() == before_clients {
            errors.push((
                "keycloak.kubectl.clientId".into(),
                format!(
                    "{kubectl:?} is also keycloak.console.clientId: the two clients need their own client IDs"
                ),
            ));
        }
        let ca = &self.kcp.consumer_ca;
        match (ca.source, &ca.bundle) {
            (ConsumerCaSource::Bundle, Some(pem))
                if pem.contains("-----BEGIN CERTIFICATE-----") => {}
            (ConsumerCaSource::Bundle, _) => {
                errors.push((
                    "kcp.consumerCa.bundle".into(),
                    "holds no PEM certificate (-----BEGIN CERTIFICATE-----) but kcp.consumerCa.source is Bundle: set the CA that signs the certificate users' clients see at the workspace URL".into(),
                ));
            }
            (_, Some(_)) => {
                errors.push((
                    "kcp.consumerCa.bundle".into(),
                    format!(
                        "is set but kcp.consumerCa.source is {:?}, which does not use it: set source to Bundle, or remove the bundle",
                        ca.source
                    ),
                ));
            }
            (_, None) => {}
        }
        let tv = &self.token_validation;
        if tv.enabled && tv.kcp_audience.as_deref().is_none_or(str::is_empty) {
            errors.push((
                "tokenValidation.kcpAudience".into(),
                "is not set but tokenValidation.enabled is true: KCP accepts a token only if it carries KCP's global API audience (its --api-audiences) besides an audience of the workspace's authentication configuration, so without it every realm token is refused; set it to KCP's API audience (kcp-dev/kcp docs/content/concepts/authentication/workspace.md)".into(),
            ));
        }
        for (key, prefix) in [
            ("tokenValidation.usernamePrefix", &tv.username_prefix),
            ("tokenValidation.groupsPrefix", &tv.groups_prefix),
        ] {
            if tv.enabled && prefix.starts_with("system:") {
                errors.push((
                    key.into(),
                    "starts with system:, which KCP drops from per-workspace authentication".into(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The top-level keys of the shared settings.
    pub const KEYS: &'static [&'static str] = &[
        "providerConfigs",
        "waitingTtl",
        "secretNamespace",
        "kcp",
        "keycloak",
        "tokenValidation",
    ];
}

/// Keys read elsewhere by earlier versions, and where they are now: a layer that sets one is
/// refused with a message naming the new key.
pub const MOVED: &[(&str, &str)] = &[
    ("organisation.kcp", "kcp"),
    ("organisation.keycloak", "keycloak"),
    ("organisation.tokenValidation", "tokenValidation"),
    ("organisation.secretNamespace", "secretNamespace"),
    ("organisation.adminGroup", "keycloak.adminGroup"),
];

/// Provider config names. Cluster-scoped XRs reference `ProviderConfig`s of these names;
/// namespaced XRs reference `ClusterProviderConfig`s of these names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ProviderConfigs {
    /// provider-kubernetes config for the service cluster (where XRs live).
    pub kubernetes: String,
    /// provider-kubernetes config whose kubeconfig points at KCP's root workspace.
    pub kcp_root: String,
    /// provider-keycloak config with admin access to the Keycloak master realm.
    pub keycloak: String,
}

impl Default for ProviderConfigs {
    fn default() -> Self {
        Self {
            kubernetes: "kubernetes-provider".into(),
            kcp_root: "kcp-root-provider".into(),
            keycloak: "keycloak-provider".into(),
        }
    }
}

/// A duration written as `10s`, `5m`, `500ms` or `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct Ttl(pub Duration);

impl Serialize for Ttl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let text = if d.subsec_millis() != 0 {
            format!("{}ms", d.as_millis())
        } else if d.as_secs().is_multiple_of(3600) && d.as_secs() > 0 {
            format!("{}h", d.as_secs() / 3600)
        } else if d.as_secs().is_multiple_of(60) && d.as_secs() > 0 {
            format!("{}m", d.as_secs() / 60)
        } else {
            format!("{}s", d.as_secs())
        };
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Ttl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::sdk::args::parse_ttl(&text)
            .map(Ttl)
            .map_err(serde::de::Error::custom)
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
    pub server_url: Option<HttpsUrl>,
    /// The CA that project consumer kubeconfigs (`status.workspace.kubeconfigBase64`) trust
    /// for the workspace's URL (kcp's shard `externalURL`, the address users reach).
    pub consumer_ca: ConsumerCa,
}

/// Where the CA of consumer kubeconfigs comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ConsumerCa {
    /// `AdminKubeconfig` (the CA and TLS server name of the admin kubeconfig's current
    /// cluster: right when it addresses the same front-proxy users do), `SystemRoots` (no CA:
    /// the users' system roots, for a publicly trusted certificate) or `Bundle`.
    pub source: ConsumerCaSource,
    /// PEM certificates, with `source: Bundle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

/// The closed set of [`ConsumerCa::source`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConsumerCaSource {
    /// The admin kubeconfig's current cluster's CA and TLS server name.
    #[default]
    AdminKubeconfig,
    /// No CA in the kubeconfig: the client's system roots.
    SystemRoots,
    /// `bundle`.
    Bundle,
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
                key: "kubeconfig".into(),
            },
            server_url: None,
            consumer_ca: ConsumerCa::default(),
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
    pub url: Option<HttpsUrl>,
    /// The SCO console's client in every realm. Its redirect URIs are required.
    pub console: ClientSettings,
    /// The client `kubectl oidc-login` uses.
    pub kubectl: ClientSettings,
    /// The SMTP server realms send email (verification, password reset) through. Without
    /// one, realms neither verify email addresses nor offer "forgot password" (both need to
    /// send mail), and the first administrator logs in with the initial password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    /// Whether realms make users verify their email address; by default, exactly when `smtp`
    /// is set. `true` needs `smtp`: Keycloak blocks the login of an unverified user when it
    /// cannot send the mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_email: Option<bool>,
    /// Name of the administrators' group in every realm (with token validation on, the
    /// Project composition binds it as admin of every project workspace).
    pub admin_group: String,
    /// Every realm's password policy (Keycloak's syntax: policies joined by ` and `), `""`
    /// for none. The Terraform provider behind provider-keycloak keeps the realm's policy as
    /// given (`password_policy`, Optional, not Computed: `resource_keycloak_realm.go`), so a
    /// policy set in Keycloak by hand is undone at its next poll: set it here.
    pub password_policy: String,
    /// Keycloak's brute-force detection in every realm (temporary lockouts after repeated
    /// failed logins). Without a `brute_force_detection` block the Terraform provider
    /// switches it off explicitly (`setDefaultSecuritySettingsBruteForceDetection`), so it
    /// is on unless `enabled: false` here.
    pub brute_force_detection: BruteForceDetection,
    /// Every realm's themes, by name, as Keycloak's theme directories have them; unset, the
    /// server's default. Set them here rather than in a realm by hand: the Terraform provider
    /// behind provider-keycloak sends no theme it is not given (`login_theme` and the others
    /// are Optional, not Computed: `resource_keycloak_realm.go`) and Keycloak keeps a theme it
    /// is not sent, so a hand-set theme stays but turns every poll into a realm update.
    pub themes: RealmThemes,
}

/// A realm's themes (Keycloak's `loginTheme`, `accountTheme`, `emailTheme`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RealmThemes {
    /// The login pages' theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<Text<1, 255>>,
    /// The account console's theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Text<1, 255>>,
    /// The emails' theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Text<1, 255>>,
}

/// Keycloak's brute-force detection settings (its own defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BruteForceDetection {
    /// Whether failed logins lock a user out for a while.
    pub enabled: bool,
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

impl Default for BruteForceDetection {
    fn default() -> Self {
        Self {
            enabled: true,
            max_login_failures: 30,
            wait_increment_seconds: 60,
            quick_login_check_milli_seconds: 1000,
            minimum_quick_login_wait_seconds: 60,
            max_failure_wait_seconds: 900,
            failure_reset_time_seconds: 43_200,
        }
    }
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
            verify_email: None,
            admin_group: "org-admins".into(),
            password_policy: "length(12) and notUsername and notEmail".into(),
            brute_force_detection: BruteForceDetection::default(),
            themes: RealmThemes::default(),
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
    pub host: Text<1, 253>,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<std::num::NonZeroU16>,
    /// Sender address. Keycloak checks it only when it sends a mail
    /// (`DefaultEmailSenderProvider.checkFromAddress`), and the first login of a user who
    /// must verify their address waits for that mail, so a bad one is refused here.
    pub from: Email,
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
    /// KCP's global API audience (`--api-audiences`), which every token needs; when set and
    /// token validation is on, both clients add it to their tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kcp_audience: Option<String>,
    /// PEM CA bundle KCP needs to fetch the realm's discovery document, when Keycloak's
    /// certificate is not publicly trusted; OpenShiftClusters trust it too for their OAuth
    /// against the realm (token validation on or off).
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_keys_are_the_serialised_fields() {
        let Value::Object(fields) = serde_json::to_value(Platform::default()).unwrap() else {
            panic!("an object");
        };
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut expected = Platform::KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn platform_clients_need_their_own_ids_and_none_keycloak_has() {
        assert_eq!(Platform::default().check(), Ok(()));
        let mut platform = Platform::default();
        platform.keycloak.kubectl.client_id = "sco-console".into();
        let errors = platform.check().unwrap_err();
        let [(key, message)] = &errors[..] else {
            panic!("{errors:?}")
        };
        assert_eq!(key, "keycloak.kubectl.clientId");
        assert!(
            message.contains("also keycloak.console.clientId"),
            "{message}"
        );
        let keys = |platform: &Platform| -> Vec<String> {
            platform
                .check()
                .unwrap_err()
                .into_iter()
                .map(|(key, _)| key)
                .collect()
        };
        platform.keycloak.kubectl.client_id = "admin-cli".into();
        assert_eq!(keys(&platform), ["keycloak.kubectl.clientId"]);
        platform.keycloak.kubectl.client_id = "kubectl".into();
        platform.keycloak.console.client_id = String::new();
        assert_eq!(keys(&platform), ["keycloak.console.clientId"]);
        // Every broken rule at once, each key once.
        platform.keycloak.kubectl.client_id = String::new();
        platform.keycloak.verify_email = Some(true);
        platform.token_validation.enabled = true;
        platform.token_validation.groups_prefix = "system:groups:".into();
        assert_eq!(
            keys(&platform),
            [
                "keycloak.verifyEmail",
                "keycloak.console.clientId",
                "keycloak.kubectl.clientId",
                "tokenValidation.kcpAudience",
                "tokenValidation.groupsPrefix",
            ]
        );
    }

    #[test]
    fn a_consumer_ca_bundle_goes_with_its_source() {
        let check = |ca: Value| {
            let mut platform = Platform::default();
            platform.kcp.consumer_ca = serde_json::from_value(ca).unwrap();
            platform.check().map_err(|errors| {
                let [(key, message)] = &errors[..] else {
                    panic!("{errors:?}")
                };
                assert_eq!(key, "kcp.consumerCa.bundle");
                message.clone()
            })
        };
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(check(json!({"source": "Bundle", "bundle": pem})), Ok(()));
        assert_eq!(check(json!({"source": "SystemRoots"})), Ok(()));
        assert!(
            check(json!({"source": "Bundle"}))
                .unwrap_err()
                .contains("no PEM")
        );
        assert!(
            check(json!({"source": "Bundle", "bundle": "MIIB"}))
                .unwrap_err()
                .contains("no PEM")
        );
        assert!(
            check(json!({"bundle": pem}))
                .unwrap_err()
                .contains("source is AdminKubeconfig")
        );
    }

    #[test]
    fn ttl_text_round_trips() {
        for text in ["10s", "5m", "2h", "500ms"] {
            let ttl: Ttl = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(serde_json::to_value(ttl).unwrap(), json!(text));
        }
    }
}
