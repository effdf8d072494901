//! provider-kubernetes: the `Object` that wraps any manifest (to reach another cluster, a KCP
//! workspace, or cluster-scoped kinds from a namespaced XR) and the `ProviderConfig` that
//! points provider-kubernetes at a cluster through a kubeconfig Secret.
//!
//! An Object's manifest is the whole desired state of the wrapped object: what it leaves out
//! (a Quota key, a LimitRange, a backup's snapshot flags) must go from the live object. That
//! holds with server-side apply only (`SSAResourceSyncer`, field manager
//! `provider-kubernetes/<object>`, which also takes back fields someone else edited); the
//! default of provider-kubernetes before its beta SSA (v1.3.0 with the field-manager
//! migration) sent the manifest as a JSON merge patch, which only adds
//! (`internal/controller/cluster/object/syncer.go` `PatchingResourceSyncer`, crossplane-runtime
//! `APIPatchingApplicator`). The README names the version the platform must run.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::{Meta, ProviderConfig as ProviderConfigChoice, ProviderConfigRef, SecretKeySelector};

/// apiVersion of the cluster-scoped flavour.
pub const CLUSTER_API_VERSION: &str = "kubernetes.crossplane.io/v1alpha2";
/// kind of the `Object`.
pub const OBJECT_KIND: &str = "Object";
/// kind of the `ProviderConfig`.
pub const PROVIDER_CONFIG_KIND: &str = "ProviderConfig";
/// apiVersion of the namespaced (Crossplane v2) `Object`.
pub const NAMESPACED_OBJECT_API_VERSION: &str = "kubernetes.m.crossplane.io/v1alpha1";
/// apiVersion of the cluster-scoped `ProviderConfig` (it is served at v1alpha1 only).
pub const CLUSTER_PROVIDER_CONFIG_API_VERSION: &str = "kubernetes.crossplane.io/v1alpha1";
/// apiVersion of the namespaced `ProviderConfig`.
pub const NAMESPACED_PROVIDER_CONFIG_API_VERSION: &str = "kubernetes.m.crossplane.io/v1alpha1";

/// How provider-kubernetes computes the `Object`'s `Ready` condition (`spec.readiness`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready once the object was created (the wrapped kind has no readiness of its own).
    SuccessfulCreate,
    /// Ready when the object's own `Ready` condition is `True`.
    DeriveFromObject,
    /// Ready when all the object's conditions are `True`.
    AllTrue,
    /// Ready when this CEL query over `object` is true (`object.status.phase == 'Ready'`).
    DeriveFromCelQuery(String),
}

impl Serialize for Readiness {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (policy, query) = match self {
            Self::SuccessfulCreate => ("SuccessfulCreate", None),
            Self::DeriveFromObject => ("DeriveFromObject", None),
            Self::AllTrue => ("AllTrue", None),
            Self::DeriveFromCelQuery(q) => ("DeriveFromCelQuery", Some(q)),
        };
        let mut out = s.serialize_struct("Readiness", 1 + usize::from(query.is_some()))?;
        if let Some(query) = query {
            out.serialize_field("celQuery", query)?;
        }
        out.serialize_field("policy", policy)?;
        out.end()
    }
}

/// A provider-kubernetes `Object` wrapping the manifest `M`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<M> {
    /// `kubernetes.crossplane.io/v1alpha2` or `kubernetes.m.crossplane.io/v1alpha1`.
    pub api_version: &'static str,
    /// `Object`.
    pub kind: &'static str,
    /// Metadata; a namespace makes it the namespaced flavour.
    pub metadata: Meta,
    /// Spec.
    pub spec: ObjectSpec<M>,
}

/// `spec` of an `Object`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSpec<M> {
    /// `forProvider`.
    pub for_provider: ForProvider<M>,
    /// Which cluster (or KCP workspace) the manifest goes to.
    pub provider_config_ref: ProviderConfigRef,
    /// How readiness derives from the object.
    pub readiness: Readiness,
    /// What provider-kubernetes may do with the object (default: everything); `[Observe]`
    /// only reads an object someone else owns into `status.atProvider.manifest`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub management_policies: Vec<&'static str>,
}

/// `spec.forProvider` of an `Object`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForProvider<M> {
    /// The wrapped manifest.
    pub manifest: M,
}

impl<M: Serialize> Object<M> {
    /// Wraps `manifest`; the flavour follows `metadata.namespace`.
    pub fn new(
        metadata: Meta,
        manifest: M,
        provider_config: &ProviderConfigChoice,
        readiness: Readiness,
    ) -> Self {
        let namespace = metadata.namespace.as_deref();
        Self {
            api_version: if namespace.is_some() {
                NAMESPACED_OBJECT_API_VERSION
            } else {
                CLUSTER_API_VERSION
            },
            kind: OBJECT_KIND,
            spec: ObjectSpec {
                for_provider: ForProvider { manifest },
                provider_config_ref: provider_config.reference(namespace),
                readiness,
                management_policies: Vec::new(),
            },
            metadata,
        }
    }
}

impl<M> Object<M> {
    /// The same Object, observing the wrapped object only (`managementPolicies: [Observe]`):
    /// provider-kubernetes reads it and never creates, changes or deletes it.
    #[must_use]
    pub fn observe_only(mut self) -> Self {
        self.spec.management_policies = vec!["Observe"];
        self
    }
}

referable! {
    impl<M> for Object<M>;
    impl for ProviderConfig;
}

/// An observed Object, as far as a composition reads it: the wrapped object as
/// provider-kubernetes last observed it (`status.atProvider.manifest`), read into `T`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Observed<T> {
    status: Option<ObservedStatus<T>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedStatus<T> {
    at_provider: Option<AtProvider<T>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct AtProvider<T> {
    manifest: Option<T>,
}

impl<T> Observed<T> {
    /// The wrapped object, once provider-kubernetes has observed it.
    pub fn manifest(self) -> Option<T> {
        self.status?.at_provider?.manifest
    }
}

/// A provider-kubernetes `ProviderConfig` whose credentials are a kubeconfig in a Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// `kubernetes.crossplane.io/v1alpha1` or `kubernetes.m.crossplane.io/v1alpha1`.
    pub api_version: &'static str,
    /// `ProviderConfig`.
    pub kind: &'static str,
    /// Metadata; a namespace makes it the namespaced flavour.
    pub metadata: Meta,
    /// Spec.
    pub spec: ProviderConfigSpec,
}

/// `spec` of a `ProviderConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderConfigSpec {
    /// Where the kubeconfig comes from.
    pub credentials: Credentials,
}

/// `spec.credentials` of a `ProviderConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// `Secret`.
    pub source: &'static str,
    /// The Secret key holding the kubeconfig. Both flavours name the namespace.
    pub secret_ref: SecretKeySelector,
}

impl ProviderConfig {
    /// A provider config using the kubeconfig in key `key` of Secret `secret_name`, which
    /// lives in `secret_namespace`; the flavour follows `metadata.namespace`.
    pub fn kubeconfig(
        metadata: Meta,
        secret_namespace: &str,
        secret_name: &str,
        key: &str,
    ) -> Self {
        let namespaced = metadata.namespace.is_some();
        Self {
            api_version: if namespaced {
                NAMESPACED_PROVIDER_CONFIG_API_VERSION
            } else {
                CLUSTER_PROVIDER_CONFIG_API_VERSION
            },
            kind: PROVIDER_CONFIG_KIND,
            metadata,
            spec: ProviderConfigSpec {
                credentials: Credentials {
                    source: "Secret",
                    secret_ref: SecretKeySelector {
                        key: key.to_owned(),
                        name: secret_name.to_owned(),
                        namespace: Some(secret_namespace.to_owned()),
                    },
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    #[test]
    fn cluster_scoped_object() {
        let object = Object::new(
            meta("acme-workspace", None, &Labels::default()),
            json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "acme"}}),
            &ProviderConfigChoice::Platform("kcp-root-provider".into()),
            Readiness::DeriveFromCelQuery("object.status.phase == 'Ready'".into()),
        );
        assert_eq!(
            serde_json::to_value(&object).unwrap(),
            json!({
                "apiVersion": "kubernetes.crossplane.io/v1alpha2",
                "kind": "Object",
                "metadata": {"name": "acme-workspace"},
                "spec": {
                    "forProvider": {"manifest": {"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "acme"}}},
                    "providerConfigRef": {"name": "kcp-root-provider"},
                    "readiness": {"celQuery": "object.status.phase == 'Ready'", "policy": "DeriveFromCelQuery"},
                },
            })
        );
        assert_eq!(
            (object.api_version(), object.kind(), object.name()),
            (CLUSTER_API_VERSION, "Object", "acme-workspace")
        );
    }

    #[test]
    fn namespaced_object_refers_to_a_provider_config_kind() {
        let labels = Labels::from(BTreeMap::from([("app".to_owned(), "x".to_owned())]));
        let object = Object::new(
            meta("binding", Some("ws-shop"), &labels),
            json!({"kind": "APIBinding"}),
            &ProviderConfigChoice::Composed("kcp-acme-shop".into()),
            Readiness::DeriveFromObject,
        );
        let value = serde_json::to_value(&object).unwrap();
        assert_eq!(value["apiVersion"], NAMESPACED_OBJECT_API_VERSION);
        assert_eq!(value["metadata"]["namespace"], "ws-shop");
        assert_eq!(
            value["spec"]["providerConfigRef"],
            json!({"kind": "ProviderConfig", "name": "kcp-acme-shop"})
        );
        assert_eq!(
            value["spec"]["readiness"],
            json!({"policy": "DeriveFromObject"})
        );
        let platform = Object::new(
            meta("b", Some("ws-shop"), &labels),
            json!({}),
            &ProviderConfigChoice::Platform("kubernetes-provider".into()),
            Readiness::AllTrue,
        );
        let value = serde_json::to_value(&platform).unwrap();
        assert_eq!(
            value["spec"]["providerConfigRef"]["kind"],
            "ClusterProviderConfig"
        );
        assert_eq!(value["spec"]["readiness"], json!({"policy": "AllTrue"}));
    }

    #[test]
    fn provider_config_for_a_kubeconfig_secret() {
        let cluster = ProviderConfig::kubeconfig(
            meta("kcp-acme", None, &Labels::default()),
            "crossplane-system",
            "acme-kubeconfig",
            "kubeconfig",
        );
        assert_eq!(
            serde_json::to_value(&cluster).unwrap(),
            json!({
                "apiVersion": "kubernetes.crossplane.io/v1alpha1",
                "kind": "ProviderConfig",
                "metadata": {"name": "kcp-acme"},
                "spec": {"credentials": {"source": "Secret", "secretRef": {"key": "kubeconfig", "name": "acme-kubeconfig", "namespace": "crossplane-system"}}},
            })
        );
        let namespaced = ProviderConfig::kubeconfig(
            meta("kcp-shop", Some("team"), &Labels::default()),
            "team",
            "shop-kubeconfig",
            "kubeconfig",
        );
        let value = serde_json::to_value(&namespaced).unwrap();
        assert_eq!(value["apiVersion"], NAMESPACED_PROVIDER_CONFIG_API_VERSION);
        assert_eq!(
            value["spec"]["credentials"]["secretRef"]["namespace"],
            "team"
        );
    }

    #[test]
    fn the_observed_wrapped_object_is_read_from_at_provider() {
        let read = |v| {
            serde_json::from_value::<Observed<Value>>(v)
                .unwrap()
                .manifest()
        };
        let observed =
            json!({"status": {"atProvider": {"manifest": {"status": {"phase": "Ready"}}}}});
        assert_eq!(read(observed).unwrap()["status"]["phase"], "Ready");
        assert_eq!(read(json!({})), None);
        assert_eq!(read(json!({"status": {"atProvider": {}}})), None);
    }
}
