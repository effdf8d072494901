//! Generated secrets: stable, deterministic values a composition writes into a Secret it
//! composes (the first Organisation admin's and each IAM User's initial password; an
//! OpenShiftCluster's etcd encryption key and OIDC client secret), and the function
//! credentials they are derived from.
//!
//! A value is `HMAC-SHA256(seed, "<purpose>\0<xr uid>\0<counter>")` (RFC 2104, over the
//! `sha2` digest), expanded block by block and mapped onto an alphabet. The seed is a
//! platform secret delivered as a function credential: the Composition's pipeline step lists
//! `credentials: [{name: sco-seed, source: Secret, secretRef: {namespace, name}}]` and
//! Crossplane passes the Secret's data in `RunFunctionRequest.credentials`
//! (`crossplane/crossplane` `proto/fn/v1/run_function.proto`, `Credentials`/`CredentialData`).
//! The XR's `metadata.uid` makes the value unique per XR and the same on every call, so a
//! value is reproducible without storing state; once the composed Secret is observed its
//! value is read back and never changed, so rotating the seed never changes a live secret.
//!
//! Neither the seed nor a generated value is ever logged or put in a message or status:
//! [`Credentials`]'s `Debug` shows names only.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use super::{FieldError, Observed};
use crate::resources::secret::ObservedSecret;

/// The function credential holding the platform seed.
pub const SEED_CREDENTIAL: &str = "sco-seed";
/// The key of the seed in that credential's data.
pub const SEED_KEY: &str = "seed";
/// The shortest seed accepted, in bytes.
pub const SEED_MIN_LEN: usize = 32;

/// Letters and digits without look-alikes (`0`/`O`, `1`/`l`/`I`): typed by hand once.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// The pipeline step's function credentials: credential name → data key → bytes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(pub BTreeMap<String, BTreeMap<String, Vec<u8>>>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: credential data never reaches a log line.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Credentials {
    /// No credentials.
    pub fn none() -> &'static Self {
        static NONE: Credentials = Credentials(BTreeMap::new());
        &NONE
    }

    /// The platform seed, or the error naming the credential and how to create it.
    pub fn seed(&self) -> Result<&[u8], FieldError> {
        let how = format!(
            "create it with `kubectl -n crossplane-system create secret generic {SEED_CREDENTIAL} --from-literal={SEED_KEY}=$(openssl rand -base64 48)` and list it in the Composition's function-sco step as `credentials: [{{name: {SEED_CREDENTIAL}, source: Secret, secretRef: {{namespace: crossplane-system, name: {SEED_CREDENTIAL}}}}}]` (function-sco render: --credentials FILE)"
        );
        let data = self.0.get(SEED_CREDENTIAL).ok_or_else(|| FieldError {
            path: format!("credentials.{SEED_CREDENTIAL}"),
            message: format!(
                "is missing: generated secrets are derived from the platform seed; {how}"
            ),
        })?;
        let seed = data.get(SEED_KEY).ok_or_else(|| FieldError {
            path: format!("credentials.{SEED_CREDENTIAL}.{SEED_KEY}"),
            message: format!("is missing: the credential has no key {SEED_KEY:?}; {how}"),
        })?;
        if seed.len() < SEED_MIN_LEN {
            return Err(FieldError {
                path: format!("credentials.{SEED_CREDENTIAL}.{SEED_KEY}"),
                message: format!(
                    "is {} bytes long; use at least {SEED_MIN_LEN} random bytes; {how}",
                    seed.len()
                ),
            });
        }
        Ok(seed)
    }
}

/// A generated secret to be written into a composed Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Generated {
    /// The value.
    pub value: String,
    /// Whether it was read back from the observed Secret (else freshly derived).
    pub observed: bool,
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generated")
            .field("value", &"<redacted>")
            .field("observed", &self.observed)
            .finish()
    }
}

/// The value of key `key` in composed Secret `resource`: read back from the observed Secret
/// when it has one, else derived from the platform seed, the XR's `uid` and `purpose`
/// (`length` characters). The seed is required even when the value is read back, so that a
/// step missing its credential fails at once rather than at the first new XR. Errors when
/// the seed is missing or short, or the XR has no uid.
pub fn generated(
    observed: &Observed<'_>,
    resource: &str,
    key: &str,
    xr_uid: Option<&str>,
    purpose: &str,
    length: usize,
) -> Result<Generated, FieldError> {
    let seed = observed.credentials.seed()?;
    let kept = observed
        .read::<ObservedSecret>(resource)
        .and_then(Result::ok)
        .and_then(|s| s.data?.remove(key))
        .and_then(|v| String::from_utf8(v.0).ok())
        .filter(|v| !v.is_empty());
    if let Some(value) = kept {
        return Ok(Generated {
            value,
            observed: true,
        });
    }
    let uid = xr_uid.filter(|u| !u.is_empty()).ok_or_else(|| FieldError {
        path: "metadata.uid".into(),
        message: "is not set: generated secrets are derived from the XR's uid (the API server sets it; give one in a file for function-sco render)".into(),
    })?;
    Ok(Generated {
        value: derive(seed, uid, purpose, length),
        observed: false,
    })
}

/// `length` characters of `HMAC-SHA256(seed, purpose \0 uid \0 counter)`, block after block,
/// each byte mapped onto `ALPHABET` (rejection sampling keeps the mapping unbiased).
pub fn derive(seed: &[u8], uid: &str, purpose: &str, length: usize) -> String {
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(length);
    let mut counter = 0u32;
    while out.len() < length {
        let mut message = Vec::with_capacity(purpose.len() + uid.len() + 6);
        message.extend_from_slice(purpose.as_bytes());
        message.push(0);
        message.extend_from_slice(uid.as_bytes());
        message.push(0);
        message.extend_from_slice(&counter.to_be_bytes());
        for byte in hmac_sha256(seed, &message) {
            if byte < limit && out.len() < length {
                out.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
            }
        }
        counter += 1;
    }
    out
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let key: Cow<'_, [u8]> = if key.len() > BLOCK {
        Cow::Owned(Sha256::digest(key).to_vec())
    } else {
        Cow::Borrowed(key)
    };
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 and test case 6 (key longer than a block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn derived_values_are_stable_and_differ_by_uid_purpose_and_seed() {
        let seed = [7u8; 32];
        let a = derive(&seed, "uid-1", "admin-password", 24);
        assert_eq!(a, derive(&seed, "uid-1", "admin-password", 24));
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, derive(&seed, "uid-2", "admin-password", 24));
        assert_ne!(a, derive(&seed, "uid-1", "etcd-key", 24));
        assert_ne!(a, derive(&[8u8; 32], "uid-1", "admin-password", 24));
        assert_eq!(derive(&seed, "uid-1", "etcd-key", 100).len(), 100);
    }

    #[test]
    fn a_missing_or_short_seed_names_the_credential_and_how_to_create_it() {
        let err = Credentials::default().seed().unwrap_err();
        assert_eq!(err.path, "credentials.sco-seed");
        assert!(err.message.contains("create secret generic sco-seed"));
        let short = Credentials(BTreeMap::from([(
            SEED_CREDENTIAL.to_owned(),
            BTreeMap::from([(SEED_KEY.to_owned(), b"short".to_vec())]),
        )]));
        assert!(short.seed().unwrap_err().message.contains("5 bytes"));
    }

    #[test]
    fn debug_never_shows_data() {
        let creds = Credentials(BTreeMap::from([(
            SEED_CREDENTIAL.to_owned(),
            BTreeMap::from([(SEED_KEY.to_owned(), b"TOPSECRETSEED".to_vec())]),
        )]));
        assert!(!format!("{creds:?}").contains("TOPSECRET"));
        let generated = Generated {
            value: "hunter2".into(),
            observed: false,
        };
        assert!(!format!("{generated:?}").contains("hunter2"));
    }
}
