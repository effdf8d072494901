//! Crossplane v2 deletion ordering: a `protection.crossplane.io/v1beta1` `Usage` (namespaced)
//! or `ClusterUsage` says one object is in use by another, so Crossplane blocks deleting the
//! used object until the user is gone (never replaying the blocked deletion: [`Usage::new`]).

use serde::{Deserialize, Serialize};

use super::{Meta, Referable};

/// apiVersion of `Usage` and `ClusterUsage`.
pub const API_VERSION: &str = "protection.crossplane.io/v1beta1";

/// A `Usage` (namespaced) or `ClusterUsage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// `protection.crossplane.io/v1beta1`.
    pub api_version: &'static str,
    /// `Usage` when namespaced, `ClusterUsage` otherwise.
    pub kind: &'static str,
    /// Metadata; a namespace makes it a `Usage`.
    pub metadata: Meta,
    /// Spec.
    pub spec: UsageSpec,
}

/// `spec` of a Usage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageSpec {
    /// The object in use, which must outlive `by`.
    pub of: UsageResource,
    /// The object using it.
    pub by: UsageResource,
    /// Whether to replay a deletion of the used object that the Usage blocked once the Usage
    /// itself is deleted: always `false`, written so that the field says so ([`Usage::new`]).
    pub replay_deletion: bool,
}

/// One side of a Usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageResource {
    /// apiVersion of the object.
    pub api_version: String,
    /// kind of the object.
    pub kind: String,
    /// The object by name (in the Usage's namespace, or cluster-scoped).
    pub resource_ref: ResourceRef,
}

/// `resourceRef` of a Usage side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRef {
    /// metadata.name.
    pub name: String,
}

impl UsageResource {
    /// The side naming `object`.
    pub fn of(object: &impl Referable) -> Self {
        Self {
            api_version: object.api_version().to_owned(),
            kind: object.kind().to_owned(),
            resource_ref: ResourceRef {
                name: object.name().to_owned(),
            },
        }
    }
}

impl Usage {
    /// `used` must outlive `user`. A `ClusterUsage` without a namespace in `metadata` (both
    /// objects cluster-scoped: it names no namespace), else a `Usage` in that namespace
    /// (`used` in it, `user` in it or cluster-scoped: Crossplane's usage controller looks `by`
    /// up in the Usage's namespace, `internal/controller/protection/usage/reconciler.go`).
    ///
    /// Never with `replayDeletion`. Crossplane's usage webhook records every deletion of
    /// `used` it blocks in an annotation nothing ever removes
    /// (`usage.crossplane.io/deletion-attempt-with-policy`), and the usage controller replays
    /// it whenever a replaying Usage of `used` is deleted, whatever the reason
    /// (`reconciler.go`, `ReplayDeletion`). A Usage also goes while its composite lives, when
    /// the composite drops the user (an identity provider removed, a role's last user, an
    /// access group, a published API, a bootstrap release) or when `used` belongs to another
    /// composite: one blocked `kubectl delete` of a realm, a HostedCluster, a Tenant or a
    /// workspace, long ago, would then delete it while it is still wanted (a realm with every
    /// account, a cluster, a project's namespaces, which MTO purges with its Tenant). Without
    /// replay the composite's own deletion of `used`, once its users are gone, is retried by
    /// Kubernetes' garbage collector with its back-off: slower, never wrong.
    pub fn new(metadata: Meta, used: &impl Referable, user: &impl Referable) -> Self {
        Self {
            api_version: API_VERSION,
            kind: if metadata.namespace.is_some() {
                "Usage"
            } else {
                "ClusterUsage"
            },
            metadata,
            spec: UsageSpec {
                of: UsageResource::of(used),
                by: UsageResource::of(user),
                replay_deletion: false,
            },
        }
    }
}

/// What a composition reads of an observed Usage: the name of the object it keeps
/// (`spec.of.resourceRef.name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedUsage {
    spec: Option<ObservedSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedSpec {
    of: Option<ObservedSide>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedSide {
    resource_ref: Option<ObservedRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedRef {
    name: Option<String>,
}

impl ObservedUsage {
    /// The name of the object the Usage keeps, if it names one.
    pub fn into_used_name(self) -> Option<String> {
        self.spec?.of?.resource_ref?.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::provider_kubernetes::ProviderConfig;
    use crate::resources::secret::Secret;
    use crate::resources::{Labels, meta};
    use serde_json::json;

    fn provider_config(namespace: Option<&str>) -> ProviderConfig {
        ProviderConfig::kubeconfig(
            meta("kcp-acme", namespace, &Labels::default()),
            "ns",
            "acme-kubeconfig",
            "kubeconfig",
        )
    }

    fn secret(namespace: &str) -> Secret<'static> {
        Secret::new(
            meta("acme-kubeconfig", Some(namespace), &Labels::default()),
            [],
        )
    }

    #[test]
    fn a_cluster_usage_between_cluster_scoped_objects() {
        let pc = provider_config(None);
        let usage = Usage::new(meta("acme-pc-by-pc", None, &Labels::default()), &pc, &pc);
        assert_eq!(
            serde_json::to_value(&usage).unwrap(),
            json!({
                "apiVersion": "protection.crossplane.io/v1beta1",
                "kind": "ClusterUsage",
                "metadata": {"name": "acme-pc-by-pc"},
                "spec": {
                    "of": {"apiVersion": "kubernetes.crossplane.io/v1alpha1", "kind": "ProviderConfig", "resourceRef": {"name": "kcp-acme"}},
                    "by": {"apiVersion": "kubernetes.crossplane.io/v1alpha1", "kind": "ProviderConfig", "resourceRef": {"name": "kcp-acme"}},
                    "replayDeletion": false,
                },
            })
        );
    }

    #[test]
    fn an_observed_usage_names_what_it_keeps() {
        let usage = Usage::new(
            meta("acme-pc-by-pc", None, &Labels::default()),
            &provider_config(None),
            &provider_config(None),
        );
        let observed: ObservedUsage =
            serde_json::from_value(serde_json::to_value(&usage).unwrap()).unwrap();
        assert_eq!(observed.into_used_name().as_deref(), Some("kcp-acme"));
        assert_eq!(ObservedUsage::default().into_used_name(), None);
    }

    #[test]
    fn a_namespaced_usage_of_a_secret() {
        let usage = Usage::new(
            meta("secret-by-pc", Some("team"), &Labels::default()),
            &secret("team"),
            &provider_config(Some("team")),
        );
        let value = serde_json::to_value(&usage).unwrap();
        assert_eq!(value["kind"], "Usage");
        assert_eq!(value["metadata"]["namespace"], "team");
        assert_eq!(
            value["spec"]["of"],
            json!({"apiVersion": "v1", "kind": "Secret", "resourceRef": {"name": "acme-kubeconfig"}})
        );
        assert_eq!(
            value["spec"]["by"]["apiVersion"],
            "kubernetes.m.crossplane.io/v1alpha1"
        );
    }
}
