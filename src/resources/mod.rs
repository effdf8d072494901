//! Typed builders for the Kubernetes objects the compositions emit. No protocol types here:
//! each builder returns a serialisable value whose fields follow the upstream schema in
//! `schemas/` (the tests validate every rendered manifest against it).
//!
//! Readers of observed state (`Observed*`) name only the fields they use. Each derives
//! `JsonSchema` for the tests, which hold every field it names, and its JSON type, against the
//! upstream schema of its kind (`readers.rs`, which lists the readers here; each composition
//! lists its own).
//!
//! Crossplane managed resources come in two flavours: cluster-scoped (`kubernetes.crossplane.io`,
//! `*.keycloak.crossplane.io`, `helm.crossplane.io`) for cluster-scoped XRs, and namespaced
//! (`kubernetes.m.crossplane.io`, `*.keycloak.m.crossplane.io`, `helm.m.crossplane.io`) for
//! namespaced XRs. Every builder picks the flavour from the object's namespace: `None` builds the
//! cluster-scoped flavour, `Some(ns)` the namespaced one.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// The metadata a composed object carries: only what the function owns (name, namespace
/// in the namespaced flavour, labels), as server-side apply intent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Meta {
    /// metadata.name; empty for an embedded template, which has none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// metadata.namespace; `None` for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// metadata.labels.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
}

/// Labels, shared: every object an XR composes carries the same map, so each holds a
/// reference to it rather than a copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels(Arc<BTreeMap<String, String>>);

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl Labels {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These labels and `key: value`.
    #[must_use]
    pub fn with(&self, key: &str, value: &str) -> Self {
        let mut labels = BTreeMap::clone(&self.0);
        labels.insert(key.to_owned(), value.to_owned());
        Self::from(labels)
    }

    /// The label `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(labels: BTreeMap<String, String>) -> Self {
        Self(Arc::new(labels))
    }
}

/// Tests compare our builders with k8s-openapi's, which hold an `ObjectMeta`.
#[cfg(test)]
impl From<Meta> for k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    fn from(meta: Meta) -> Self {
        Self {
            name: (!meta.name.is_empty()).then_some(meta.name),
            namespace: meta.namespace,
            labels: (!meta.labels.is_empty()).then(|| BTreeMap::clone(&meta.labels.0)),
            ..Self::default()
        }
    }
}

/// Metadata with only what the function owns: name, namespace (namespaced flavour) and labels.
pub fn meta(name: &str, namespace: Option<&str>, labels: &Labels) -> Meta {
    Meta {
        name: name.to_owned(),
        namespace: namespace.map(str::to_owned),
        labels: labels.clone(),
    }
}

/// The `apiVersion`, `kind` and name of an object, for references to it (Usages).
pub trait Referable {
    /// apiVersion.
    fn api_version(&self) -> &str;
    /// kind.
    fn kind(&self) -> &str;
    /// metadata.
    fn metadata(&self) -> &Meta;
    /// metadata.name.
    fn name(&self) -> &str {
        &self.metadata().name
    }
}

/// An object another composite composes, known by its apiVersion, kind and name: the `of`
/// of a Usage that keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// apiVersion.
    pub api_version: &'static str,
    /// kind.
    pub kind: &'static str,
    /// Its metadata (the name, and the namespace of a namespaced kind).
    pub metadata: Meta,
}

impl Referable for Known {
    fn api_version(&self) -> &str {
        self.api_version
    }
    fn kind(&self) -> &str {
        self.kind
    }
    fn metadata(&self) -> &Meta {
        &self.metadata
    }
}

/// A Kubernetes quantity (`8Gi`) read from an observed object, in the form it was written.
/// CRDs declare quantities `x-kubernetes-int-or-string`, so one written as a number (`8`)
/// arrives as a number (a double, through `google.protobuf.Struct`); what Go's typed clients
/// write is always a string. The form matters when a quantity is written back: the API server
/// stores it as sent, and CEL compares what is stored, so HyperShift's "Etcd PV storage size is
/// immutable" (`self == oldSelf`) refuses `"8"` over `8`, and `"17179869184"` over `"16Gi"`
/// (tests/transitions.rs); [`Serialize`](serde::Serialize) writes it back exactly as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedQuantity {
    /// Written as a string: the text, verbatim.
    Text(String),
    /// Written as a number (integral values as integers, as the API server decodes them).
    Number(serde_json::Number),
}

impl ObservedQuantity {
    /// The quantity as text (`8Gi`, `8`).
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Number(number) => number.to_string(),
        }
    }
}

impl serde::Serialize for ObservedQuantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Number(number) => number.serialize(serializer),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ObservedQuantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Form;
        impl serde::de::Visitor<'_> for Form {
            type Value = ObservedQuantity;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quantity, as a string or a number")
            }
            fn visit_str<E>(self, text: &str) -> Result<ObservedQuantity, E> {
                Ok(ObservedQuantity::Text(text.to_owned()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<ObservedQuantity, E> {
                Ok(ObservedQuantity::Number(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<ObservedQuantity, E> {
                Ok(ObservedQuantity::Number(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<ObservedQuantity, E> {
                // Integral doubles up to 2^53 are exact: the integer the object holds.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if n.fract() == 0.0 && n.abs() <= EXACT {
                    #[allow(clippy::cast_possible_truncation)]
                    return Ok(ObservedQuantity::Number((n as i64).into()));
                }
                serde_json::Number::from_f64(n)
                    .map(ObservedQuantity::Number)
                    .ok_or_else(|| E::custom(format!("{n} is not a quantity")))
            }
        }
        deserializer.deserialize_any(Form)
    }
}

#[cfg(test)]
impl schemars::JsonSchema for ObservedQuantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObservedQuantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["string", "number"]})
    }
}

/// Implements [`Referable`] for builder types with `api_version`, `kind` and `metadata` fields
/// (declared before the modules below, which use it).
macro_rules! referable {
    ($(impl $(<$($g:ident),+>)? for $ty:ty;)+) => {$(
        impl $(<$($g),+>)? $crate::resources::Referable for $ty {
            fn api_version(&self) -> &str {
                &self.api_version
            }
            fn kind(&self) -> &str {
                &self.kind
            }
            fn metadata(&self) -> &$crate::resources::Meta {
                &self.metadata
            }
        }
    )+};
}

pub mod cert_manager;
pub mod condition;
pub mod config_map;
pub mod external_dns;
pub mod helm;
pub mod hypershift;
pub mod kcp;
pub mod keycloak;
pub mod kubeconfig;
pub mod kubevirt;
pub mod mto;
pub mod net;
pub mod ovn;
pub mod provider_kubernetes;
pub mod rbac;
#[cfg(test)]
pub(crate) mod readers;
pub mod resource_quota;
pub mod secret;
pub mod service;
pub mod usage;
pub mod velero;

/// Which provider config a managed resource uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    /// One the platform provides: a `ProviderConfig` for cluster-scoped managed resources, a
    /// `ClusterProviderConfig` for namespaced ones.
    Platform(String),
    /// One a composition creates next to the resource: a `ProviderConfig` in either flavour
    /// (namespaced in the resource's namespace for namespaced ones).
    Composed(String),
}

/// `spec.providerConfigRef` of a managed resource: `{name}` in the cluster-scoped flavour,
/// `{kind, name}` in the namespaced one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigRef {
    /// `ClusterProviderConfig` or `ProviderConfig` (namespaced flavour only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The provider config's name.
    pub name: String,
}

impl ProviderConfig {
    /// The reference a managed resource in `namespace` (or cluster-scoped for `None`) carries.
    pub fn reference(&self, namespace: Option<&str>) -> ProviderConfigRef {
        let (name, namespaced_kind) = match self {
            Self::Platform(name) => (name, "ClusterProviderConfig"),
            Self::Composed(name) => (name, "ProviderConfig"),
        };
        ProviderConfigRef {
            kind: namespace.map(|_| namespaced_kind),
            name: name.clone(),
        }
    }
}

/// A reference to another managed resource by `metadata.name` (`*Ref` fields). Namespaced
/// resources only refer to resources in their own namespace, so no namespace is set.
///
/// Resolved on every reconcile (`policy.resolve: Always`), not only while the target field is
/// empty (crossplane-runtime's default `IfNotPresent`: "We don't resolve values that are
/// already set"): what a reference resolves to is a Keycloak ID, and an object deleted in
/// Keycloak by hand comes back with a new one (provider-keycloak looks it up by name, then
/// creates it). With the first ID kept, a `Memberships` would add its members to a group that
/// is gone, failing on every poll, and a subgroup would be created under a dead parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// metadata.name of the referenced managed resource.
    pub name: String,
    /// How it resolves.
    pub policy: ReferencePolicy,
}

/// `policy` of a [`Reference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReferencePolicy {
    /// When: `Always`.
    pub resolve: &'static str,
}

impl Reference {
    /// A reference to the managed resource called `name`, resolved on every reconcile.
    pub fn to(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            policy: ReferencePolicy { resolve: "Always" },
        }
    }
}

/// A key of a Secret (`*SecretRef` fields). Cluster-scoped managed resources name the
/// Secret's namespace; namespaced ones read Secrets in their own namespace only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretKeySelector {
    /// The key in the Secret's data.
    pub key: String,
    /// The Secret's name.
    pub name: String,
    /// The Secret's namespace (cluster-scoped flavour only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl SecretKeySelector {
    /// Key `key` of Secret `name`, for a managed resource in `namespace` (`None`: a
    /// cluster-scoped one, which must name `secret_namespace`).
    pub fn new(secret_namespace: &str, name: &str, key: &str, namespace: Option<&str>) -> Self {
        Self {
            key: key.to_owned(),
            name: name.to_owned(),
            namespace: namespace.is_none().then(|| secret_namespace.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    #[test]
    fn provider_config_refs_follow_the_flavour() {
        let platform = ProviderConfig::Platform("keycloak".into());
        assert_eq!(
            serde_json::to_value(platform.reference(None)).unwrap(),
            json!({"name": "keycloak"})
        );
        assert_eq!(
            serde_json::to_value(platform.reference(Some("team"))).unwrap(),
            json!({"kind": "ClusterProviderConfig", "name": "keycloak"})
        );
        let composed = ProviderConfig::Composed("kcp-acme".into());
        assert_eq!(
            serde_json::to_value(composed.reference(Some("team"))).unwrap(),
            json!({"kind": "ProviderConfig", "name": "kcp-acme"})
        );
    }

    #[test]
    fn secret_refs_name_a_namespace_only_when_cluster_scoped() {
        let cluster = SecretKeySelector::new("crossplane-system", "idp", "clientSecret", None);
        assert_eq!(cluster.namespace.as_deref(), Some("crossplane-system"));
        let namespaced =
            SecretKeySelector::new("crossplane-system", "idp", "clientSecret", Some("team"));
        assert_eq!(
            serde_json::to_value(namespaced).unwrap(),
            json!({"key": "clientSecret", "name": "idp"})
        );
    }

    #[test]
    fn labels_are_shared_and_extended_by_copy() {
        let labels = Labels::from(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
        let vm = meta("vm", Some("ns"), &labels);
        let template = labels.with("app", "vm");
        assert_eq!(labels.get("app"), None);
        assert_eq!(
            (template.get("k"), template.get("app")),
            (Some("v"), Some("vm"))
        );
        let object_meta = ObjectMeta::from(vm.clone());
        assert_eq!(
            serde_json::to_value(&object_meta).unwrap(),
            serde_json::to_value(&vm).unwrap()
        );
        assert_eq!(ObjectMeta::from(Meta::default()), ObjectMeta::default());
    }

    #[test]
    fn metadata_carries_only_what_is_set() {
        let m = serde_json::to_value(meta("a", None, &Labels::default())).unwrap();
        assert_eq!(m, json!({"name": "a"}));
        let labels = Labels::from(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
        let m = serde_json::to_value(meta("a", Some("ns"), &labels)).unwrap();
        assert_eq!(
            m,
            json!({"name": "a", "namespace": "ns", "labels": {"k": "v"}})
        );
    }
}
