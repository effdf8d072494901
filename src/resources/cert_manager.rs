//! cert-manager: the `Certificate` (`cert-manager.io/v1`, namespaced) whose issued key pair
//! lands in a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`), e.g. the named
//! certificate of a hosted cluster's custom API server name.
//!
//! Fields follow `cert-manager/cert-manager@2d0d7f7f`
//! `deploy/crds/cert-manager.io_certificates.yaml` (its field descriptions, generated from
//! `pkg/apis/certmanager/v1`): `issuerRef.kind` defaults to `Issuer` and `group` to
//! `cert-manager.io` (both are always written here, so a change of issuer is a change of the
//! manifest); `duration` and `renewBefore` are Go durations (defaults: 90 days, and renewal at
//! 2/3 of the lifetime; cert-manager refuses a duration under 1h and a renewBefore under 5m);
//! `privateKey.rotationPolicy` defaults to `Always` since v1.18. Status: condition `Ready`
//! (`True` once the Secret holds a valid, up-to-date certificate) and `notAfter`.

use serde::{Deserialize, Serialize};

use super::Meta;
use super::condition::{self, Condition};

/// apiVersion of the `Certificate`.
pub const API_VERSION: &str = "cert-manager.io/v1";
/// cert-manager's API group, the issuer group of its own Issuers.
pub const ISSUER_GROUP: &str = "cert-manager.io";

/// A `Certificate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// `cert-manager.io/v1`.
    pub api_version: &'static str,
    /// `Certificate`.
    pub kind: &'static str,
    /// Metadata (namespaced).
    pub metadata: Meta,
    /// Spec.
    pub spec: CertificateSpec,
}

/// `spec` of a Certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// The Secret (in the Certificate's namespace) the key pair is stored in.
    pub secret_name: String,
    /// Subject alternative names.
    pub dns_names: Vec<String>,
    /// The issuer.
    pub issuer_ref: IssuerRef,
    /// Requested lifetime, a Go duration (`2160h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// How long before expiry to renew, a Go duration (`720h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renew_before: Option<String>,
    /// The private key's options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<PrivateKey>,
}

/// Whether the issuer is namespaced (in the Certificate's namespace) or cluster-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IssuerKind {
    /// An `Issuer` in the Certificate's namespace.
    Issuer,
    /// A `ClusterIssuer`.
    ClusterIssuer,
}

/// `spec.issuerRef` of a Certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerRef {
    /// The issuer's name.
    pub name: String,
    /// Its kind.
    pub kind: IssuerKind,
    /// Its API group (`cert-manager.io`, or an external issuer's).
    pub group: String,
}

impl IssuerRef {
    /// A cert-manager `Issuer` or `ClusterIssuer` called `name`.
    pub fn cert_manager(kind: IssuerKind, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            group: ISSUER_GROUP.to_owned(),
        }
    }
}

/// Private key algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyAlgorithm {
    /// RSA (size 2048, 3072 or 4096).
    #[serde(rename = "RSA")]
    Rsa,
    /// ECDSA (size 256, 384 or 521).
    #[serde(rename = "ECDSA")]
    Ecdsa,
    /// Ed25519 (no size).
    Ed25519,
}

/// When the private key is regenerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RotationPolicy {
    /// Keep the key across renewals.
    Never,
    /// A new key on every issuance.
    Always,
}

/// `spec.privateKey` of a Certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKey {
    /// The algorithm.
    pub algorithm: KeyAlgorithm,
    /// Key size in bits (RSA) or curve size (ECDSA); `None` for Ed25519 or the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// When the key is regenerated.
    pub rotation_policy: RotationPolicy,
}

impl Certificate {
    /// A certificate for `spec`.
    pub fn new(metadata: Meta, spec: CertificateSpec) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "Certificate",
            metadata,
            spec,
        }
    }
}

referable! {
    impl for Certificate;
}

/// What cert-manager reports about a Certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedCertificate {
    status: Option<ObservedCertificateStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedCertificateStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    not_after: Option<String>,
}

impl ObservedCertificate {
    /// The `Ready` condition, once cert-manager has set it.
    pub fn ready_condition(&self) -> Option<&Condition> {
        condition::find(&self.status.as_ref()?.conditions, "Ready")
    }

    /// Whether `Ready` is `True`: the Secret holds a valid certificate for the current spec.
    pub fn is_ready(&self) -> bool {
        self.ready_condition().is_some_and(Condition::is_true)
    }

    /// `status.notAfter` (RFC 3339): when the current certificate expires.
    pub fn not_after(&self) -> Option<&str> {
        self.status.as_ref()?.not_after.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::json;

    #[test]
    fn api_server_certificate() {
        let certificate = Certificate::new(
            meta("dev-api", Some("ws-shop-clusters"), &Labels::default()),
            CertificateSpec {
                secret_name: "dev-api-tls".into(),
                dns_names: vec!["api.dev.example.com".into()],
                issuer_ref: IssuerRef::cert_manager(IssuerKind::ClusterIssuer, "letsencrypt"),
                duration: Some("2160h".into()),
                renew_before: None,
                private_key: Some(PrivateKey {
                    algorithm: KeyAlgorithm::Ecdsa,
                    size: Some(256),
                    rotation_policy: RotationPolicy::Always,
                }),
            },
        );
        assert_eq!(
            (certificate.api_version(), certificate.kind()),
            (API_VERSION, "Certificate")
        );
        assert_eq!(
            serde_json::to_value(&certificate).unwrap()["spec"],
            json!({
                "secretName": "dev-api-tls",
                "dnsNames": ["api.dev.example.com"],
                "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                "duration": "2160h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            })
        );
    }

    #[test]
    fn reads_ready_and_expiry() {
        let issued: ObservedCertificate = serde_json::from_value(json!({"status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                            "message": "Certificate is up to date and has not expired"}],
            "notAfter": "2027-03-02T21:00:00Z",
            "renewalTime": "2027-01-31T21:00:00Z",
        }}))
        .unwrap();
        assert!(issued.is_ready());
        assert_eq!(issued.not_after(), Some("2027-03-02T21:00:00Z"));

        let pending: ObservedCertificate = serde_json::from_value(json!({"status": {
            "conditions": [{"type": "Ready", "status": "False", "reason": "DoesNotExist",
                            "message": "Issuing certificate as Secret does not exist"}],
        }}))
        .unwrap();
        assert!(!pending.is_ready());
        assert_eq!(pending.ready_condition().unwrap().reason, "DoesNotExist");
        assert_eq!(pending.not_after(), None);

        let fresh = ObservedCertificate::default();
        assert!(!fresh.is_ready() && fresh.ready_condition().is_none());
    }
}
