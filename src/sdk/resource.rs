//! Names, readiness and small helpers for Kubernetes objects.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use pbstruct::{PathError, SerdeError, Struct};

pub use super::proto::v1::Ready;

/// An object as the request carries it (the observed composite resource), read into typed
/// values on demand: callers never see its encoding.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a>(&'a Struct);

impl<'a> Object<'a> {
    /// The object encoded as `encoded`.
    pub fn new(encoded: &'a Struct) -> Self {
        Self(encoded)
    }

    /// The object read into `T`, naming the failing field path in the error.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, PathError> {
        pbstruct::from_struct(self.0)
    }

    /// The object read into `T` with every failing field reported, not only the first
    /// ([`pbstruct::from_value_collecting`]); for explaining a failed [`Object::read`].
    pub fn read_collecting<T: DeserializeOwned>(&self) -> pbstruct::Collected<T> {
        pbstruct::from_value_collecting(pbstruct::to_json_value(self.0))
    }

    /// The strings at `keys` of the object at `path`, empty where absent.
    pub fn strs_at<const N: usize>(&self, path: &[&str], keys: [&str; N]) -> [&'a str; N] {
        self.0.strs_at(path, keys)
    }
}

/// A composed resource's manifest, encoded once from its typed builder into the bytes the
/// response carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest(Struct);

impl Manifest {
    /// Encodes `manifest`, which must serialise as an object.
    pub fn of<T: Serialize + ?Sized>(manifest: &T) -> Result<Self, SerdeError> {
        pbstruct::to_struct(manifest).map(Self)
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.to_json())
    }

    /// The encoded manifest.
    pub fn into_encoded(self) -> Struct {
        self.0
    }
}

/// A composition resource name: the key of a composed resource in desired and observed state.
///
/// Crossplane stores it in the `crossplane.io/composition-resource-name` annotation and uses it
/// to match desired to observed resources, so it must be stable across reconciles. It is not the
/// object's `metadata.name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// A composition resource name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Maps keyed by names are looked up with a `&str`, without building a `Name`.
impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// Kubernetes' limit for DNS labels and most object names.
pub const DNS_LABEL_MAX: usize = 63;

/// A deterministic DNS-1123 label made of `parts` joined by `-`.
///
/// Parts are lower-cased and characters outside `[a-z0-9-]` become `-`. A result longer than
/// `max` is cut and given a suffix of the first 8 hex digits of the SHA-256 of the full name,
/// so two long names that share a prefix stay distinct and the same input always gives the
/// same name.
pub fn child_name(parts: &[&str], max: usize) -> String {
    let mut full = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !full.is_empty() {
            full.push('-');
        }
        // Most parts are names already (a project, a role): copied whole.
        if part
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
        {
            full.push_str(part);
            continue;
        }
        full.extend(part.chars().map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        }));
    }
    let trimmed = full.trim_matches('-');
    if trimmed.len() <= max {
        return trimmed.to_owned();
    }
    let digest = Sha256::digest(trimmed.as_bytes());
    let suffix: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = max.saturating_sub(suffix.len() + 1);
    let head = trimmed[..keep].trim_end_matches('-');
    format!("{head}-{suffix}")
}

/// Whether `name` is a valid DNS-1123 label (lower-case alphanumerics and `-`, at most 63,
/// starting and ending alphanumeric).
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= DNS_LABEL_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_joined_and_cleaned() {
        assert_eq!(child_name(&["Acme", "org_admins"], 63), "acme-org-admins");
        assert_eq!(child_name(&["a", "", "b"], 63), "a-b");
        // Names copied whole and parts cleaned join the same way.
        assert_eq!(
            child_name(&["-acme", "web-1", "Ü.x-"], 63),
            "acme-web-1---x"
        );
    }

    #[test]
    fn long_names_get_a_stable_hash_suffix() {
        let long = "x".repeat(80);
        let a = child_name(&[&long, "one"], 63);
        let b = child_name(&[&long, "two"], 63);
        assert_eq!(a.len(), 63);
        assert_ne!(a, b);
        assert_eq!(a, child_name(&[&long, "one"], 63));
        assert!(is_dns_label(&a));
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("acme-corp"));
        assert!(!is_dns_label("Acme"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }
}
