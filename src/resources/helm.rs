//! provider-helm: the `Release` that installs a chart on a cluster, and the provider configs
//! that point provider-helm at a cluster through a kubeconfig Secret.
//!
//! Fields follow `crossplane-contrib/provider-helm@4854188d` `package/crds/` (the
//! `helm.crossplane.io_*` and `helm.m.crossplane.io_*` CRDs, whose descriptions are generated
//! from `apis/`):
//! - `Release` `spec.forProvider.{chart{name, repository, version}, namespace, values,
//!   skipCreateNamespace, wait}`: `namespace` is required in the cluster-scoped flavour and
//!   the release namespace is created unless `skipCreateNamespace`; `wait` makes the provider
//!   wait for the release's resources to be ready (up to `waitTimeout`, default 5m) before
//!   the release counts as deployed; `values` is free-form (preserve-unknown-fields).
//! - Provider configs (`ProviderConfig` in both flavours, `ClusterProviderConfig` in the
//!   namespaced one) with `credentials.source: Secret` and `secretRef{name, namespace, key}`
//!   (namespace required in every flavour; a namespaced ProviderConfig's is replaced by
//!   the Release's own namespace, `enrichLocalSecretRefs`) holding a kubeconfig.
//! - Status: `Ready` (release deployed and matching the spec) and `Synced` conditions,
//!   `atProvider.{state, releaseDescription}` (`deployed`, `failed`, ...; Helm's message).
//!   The spec's chart version must equal the installed chart's as text (`isUpToDate`), so
//!   only exact versions are ever up to date.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::condition::{self, Condition};
use super::{Meta, ProviderConfig as ProviderConfigChoice, ProviderConfigRef, SecretKeySelector};

/// apiVersion of the cluster-scoped flavour (`Release`, `ProviderConfig`).
pub const CLUSTER_API_VERSION: &str = "helm.crossplane.io/v1beta1";
/// apiVersion of the namespaced flavour (`Release`, `ProviderConfig`, `ClusterProviderConfig`).
pub const NAMESPACED_API_VERSION: &str = "helm.m.crossplane.io/v1beta1";

fn api_version(namespaced: bool) -> &'static str {
    if namespaced {
        NAMESPACED_API_VERSION
    } else {
        CLUSTER_API_VERSION
    }
}

/// A provider-helm `Release`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// `helm.crossplane.io/v1beta1` or `helm.m.crossplane.io/v1beta1`.
    pub api_version: &'static str,
    /// `Release`.
    pub kind: &'static str,
    /// Metadata; a namespace makes it the namespaced flavour.
    pub metadata: Meta,
    /// Spec.
    pub spec: ReleaseSpec,
}

/// `spec` of a Release.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSpec {
    /// What to install.
    pub for_provider: ReleaseParameters,
    /// Which cluster to install it on.
    pub provider_config_ref: ProviderConfigRef,
    /// How often provider-helm retries a failed release: it uninstalls a failed first
    /// install and rolls a failed upgrade back, then tries again, up to this many times.
    /// Without it a failed release whose spec does not change is never retried: provider-helm
    /// counts it up to date (`shouldRollBack` needs `RollbackRetriesLimit` set).
    pub rollback_limit: u32,
}

/// Retries of a failed release ([`ReleaseSpec::rollback_limit`]).
pub const ROLLBACK_LIMIT: u32 = 3;

/// `spec.forProvider` of a Release.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseParameters {
    /// The chart.
    pub chart: Chart,
    /// The namespace the release is installed in, on the target cluster.
    pub namespace: String,
    /// Chart values (an embedded values document).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub values: Value,
    /// Whether the release namespace must already exist (provider-helm creates it otherwise).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_create_namespace: bool,
    /// Whether the release is deployed only once its resources are ready.
    pub wait: bool,
}

/// `spec.forProvider.chart` of a Release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chart {
    /// The chart's name in the repository.
    pub name: String,
    /// The chart repository URL (`https://charts.crossplane.io/stable`).
    pub repository: String,
    /// The chart version (pinned: an unpinned chart would upgrade unasked).
    pub version: String,
}

impl Release {
    /// A release of `parameters` through `provider_config`; the flavour follows
    /// `metadata.namespace`.
    pub fn new(
        metadata: Meta,
        parameters: ReleaseParameters,
        provider_config: &ProviderConfigChoice,
    ) -> Self {
        let namespace = metadata.namespace.as_deref();
        Self {
            api_version: api_version(namespace.is_some()),
            kind: "Release",
            spec: ReleaseSpec {
                for_provider: parameters,
                provider_config_ref: provider_config.reference(namespace),
                rollback_limit: ROLLBACK_LIMIT,
            },
            metadata,
        }
    }
}

/// Which kind of provider config to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderConfigKind {
    /// `ProviderConfig`: cluster-scoped for `metadata.namespace: None`, else namespaced.
    ProviderConfig,
    /// `ClusterProviderConfig` (namespaced flavour's API group, cluster-scoped object).
    ClusterProviderConfig,
}

/// A provider-helm `ProviderConfig` or `ClusterProviderConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// `helm.crossplane.io/v1beta1` or `helm.m.crossplane.io/v1beta1`.
    pub api_version: &'static str,
    /// `ProviderConfig` or `ClusterProviderConfig`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: ProviderConfigSpec,
}

/// `spec` of a provider config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderConfigSpec {
    /// Where the kubeconfig comes from.
    pub credentials: Credentials,
}

/// `spec.credentials` of a provider config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// `Secret`.
    pub source: &'static str,
    /// The Secret key holding the kubeconfig (namespace always named).
    pub secret_ref: SecretKeySelector,
}

impl ProviderConfig {
    /// A provider config of `kind` using the kubeconfig in key `key` of Secret `secret_name` in
    /// `secret_namespace`. A `ClusterProviderConfig` is cluster-scoped: its metadata's
    /// namespace is dropped.
    pub fn kubeconfig(
        kind: ProviderConfigKind,
        mut metadata: Meta,
        secret_namespace: &str,
        secret_name: &str,
        key: &str,
    ) -> Self {
        let (api_version, kind) = match kind {
            ProviderConfigKind::ProviderConfig => {
                (api_version(metadata.namespace.is_some()), "ProviderConfig")
            }
            ProviderConfigKind::ClusterProviderConfig => {
                metadata.namespace = None;
                (NAMESPACED_API_VERSION, "ClusterProviderConfig")
            }
        };
        Self {
            api_version,
            kind,
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

referable! {
    impl for Release;
    impl for ProviderConfig;
}

/// What provider-helm reports about a Release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedRelease {
    status: Option<ObservedReleaseStatus>,
    #[serde(default)]
    spec: ObservedReleaseSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedReleaseSpec {
    #[serde(default)]
    for_provider: ObservedReleaseParameters,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedReleaseParameters {
    namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedReleaseStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    at_provider: Option<ObservedAtProvider>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedAtProvider {
    state: Option<String>,
    release_description: Option<String>,
}

impl ObservedRelease {
    /// The `Ready` condition, once set.
    pub fn ready_condition(&self) -> Option<&Condition> {
        condition::find(&self.status.as_ref()?.conditions, "Ready")
    }

    /// Whether `Ready` is `True`: provider-helm sets it once the release is `deployed` and
    /// matches the spec.
    pub fn is_ready(&self) -> bool {
        self.ready_condition().is_some_and(Condition::is_true)
    }

    /// The namespace the release was installed in (`spec.forProvider.namespace`). Helm keeps
    /// a release's records in its namespace, so provider-helm finds an installed release
    /// only there: a release moved to another namespace is installed anew beside the old one,
    /// which stays.
    pub fn namespace(&self) -> Option<&str> {
        self.spec.for_provider.namespace.as_deref()
    }

    /// `status.atProvider.state`, Helm's release status (`deployed`, `failed`, ...).
    pub fn state(&self) -> Option<&str> {
        self.status.as_ref()?.at_provider.as_ref()?.state.as_deref()
    }

    /// Helm's description of a `failed` release (`status.atProvider.releaseDescription`, the
    /// error of its last install or upgrade); `None` for any other state. provider-helm rolls
    /// a failed release back (or uninstalls a first revision) and retries, `rollbackLimit`
    /// times (3 by default), then counts it up to date and stops (`shouldRollBack`, the
    /// `failed` count in its status): from then on only a changed spec, or a new Release,
    /// tries again.
    pub fn failure(&self) -> Option<&str> {
        let at = self.status.as_ref()?.at_provider.as_ref()?;
        (at.state.as_deref() == Some("failed")).then(|| {
            at.release_description
                .as_deref()
                .unwrap_or("no description")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::json;

    fn crossplane() -> ReleaseParameters {
        ReleaseParameters {
            chart: Chart {
                name: "crossplane".into(),
                repository: "https://charts.crossplane.io/stable".into(),
                version: "2.0.2".into(),
            },
            namespace: "crossplane-system".into(),
            values: json!({"replicas": 2}),
            skip_create_namespace: false,
            wait: true,
        }
    }

    #[test]
    fn release_flavour_follows_the_namespace() {
        let composed = ProviderConfigChoice::Composed("dev-helm".into());
        let cluster = Release::new(
            meta("dev-crossplane", None, &Labels::default()),
            crossplane(),
            &composed,
        );
        assert_eq!(
            serde_json::to_value(&cluster).unwrap(),
            json!({
                "apiVersion": "helm.crossplane.io/v1beta1",
                "kind": "Release",
                "metadata": {"name": "dev-crossplane"},
                "spec": {
                    "forProvider": {
                        "chart": {"name": "crossplane", "repository": "https://charts.crossplane.io/stable", "version": "2.0.2"},
                        "namespace": "crossplane-system",
                        "values": {"replicas": 2},
                        "wait": true,
                    },
                    "providerConfigRef": {"name": "dev-helm"},
                    "rollbackLimit": 3,
                },
            })
        );
        let namespaced = Release::new(
            meta(
                "dev-crossplane",
                Some("ws-shop-clusters"),
                &Labels::default(),
            ),
            ReleaseParameters {
                values: Value::Null,
                skip_create_namespace: true,
                ..crossplane()
            },
            &composed,
        );
        assert_eq!(
            (namespaced.api_version(), namespaced.kind()),
            (NAMESPACED_API_VERSION, "Release")
        );
        let spec = serde_json::to_value(&namespaced.spec).unwrap();
        assert_eq!(
            spec["providerConfigRef"],
            json!({"kind": "ProviderConfig", "name": "dev-helm"})
        );
        assert_eq!(spec["forProvider"].get("values"), None);
        assert_eq!(spec["forProvider"]["skipCreateNamespace"], true);
    }

    #[test]
    fn provider_configs_from_a_kubeconfig_secret() {
        let secret_ref = json!({"key": "kubeconfig", "name": "dev-admin-kubeconfig", "namespace": "ws-shop-clusters"});
        for (kind, namespace, api_version, kind_name, namespaced) in [
            (
                ProviderConfigKind::ProviderConfig,
                None,
                CLUSTER_API_VERSION,
                "ProviderConfig",
                false,
            ),
            (
                ProviderConfigKind::ProviderConfig,
                Some("ws-shop-clusters"),
                NAMESPACED_API_VERSION,
                "ProviderConfig",
                true,
            ),
            (
                ProviderConfigKind::ClusterProviderConfig,
                Some("ws-shop-clusters"),
                NAMESPACED_API_VERSION,
                "ClusterProviderConfig",
                false,
            ),
        ] {
            let config = ProviderConfig::kubeconfig(
                kind,
                meta("dev-helm", namespace, &Labels::default()),
                "ws-shop-clusters",
                "dev-admin-kubeconfig",
                "kubeconfig",
            );
            assert_eq!(
                (config.api_version(), config.kind()),
                (api_version, kind_name)
            );
            assert_eq!(config.metadata.namespace.is_some(), namespaced);
            assert_eq!(
                serde_json::to_value(&config.spec).unwrap(),
                json!({"credentials": {"source": "Secret", "secretRef": secret_ref}})
            );
        }
    }

    #[test]
    fn reads_readiness_and_state() {
        let deployed: ObservedRelease = serde_json::from_value(json!({"status": {
            "atProvider": {"state": "deployed", "revision": 1},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-12-02T20:00:00Z"},
                {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-12-02T20:00:00Z"},
            ],
        }}))
        .unwrap();
        assert!(deployed.is_ready());
        assert_eq!(deployed.state(), Some("deployed"));

        let failed: ObservedRelease = serde_json::from_value(json!({"status": {
            "atProvider": {"state": "failed"},
            "conditions": [{"type": "Ready", "status": "False", "reason": "Unavailable", "lastTransitionTime": "2026-12-02T20:00:00Z"}],
        }}))
        .unwrap();
        assert!(!failed.is_ready());
        assert_eq!(failed.ready_condition().unwrap().reason, "Unavailable");
        assert_eq!(failed.state(), Some("failed"));
        assert_eq!(ObservedRelease::default().state(), None);
    }
}
