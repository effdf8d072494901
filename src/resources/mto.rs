//! Stakater Multi Tenant Operator: the `Tenant` (`tenantoperator.stakater.com/v1beta3`) that
//! owns a project's namespaces on the service cluster, and the `Quota`
//! (`tenantoperator.stakater.com/v1beta1`) it names. Both are cluster-scoped.
//!
//! MTO is closed source and publishes no CRD. Field names follow the API reference generated
//! from its Go types (`stakater/mto-docs@44dde43b`, branch `docs/structure-migration`,
//! `content/reference/api.md`) as transcribed in `schemas/tenants.tenantoperator.stakater.com.NOTES.md`
//! and the hand-derived CRDs in `schemas/derived/`:
//! - Tenant `spec.quota` (required, a Quota's name), `spec.accessControl.{owners,editors,viewers}.{users,groups}`,
//!   `spec.namespaces.withoutTenantPrefix[]` (created verbatim, unlike `withTenantPrefix`'s
//!   `<tenant>-<name>`), `spec.namespaces.metadata.common.{labels,annotations}` and
//!   `spec.namespaces.onDeletePurgeNamespaces` (default `false`: namespaces outlive the tenant).
//! - Quota `spec.resourcequota` (a core `ResourceQuotaSpec`; only `hard` here) and optional
//!   `spec.limitrange` (a core `LimitRangeSpec`, `limits[]` required when present).
//! - Status: the reference lists `status.conditions` (`metav1.Condition`) but documents no
//!   condition types; tooling (`stakater/kubectl-tenant@ddf557e5` e2e) waits on
//!   `status.deployedNamespaces` instead. [`ObservedTenant`] therefore reports both, and readiness
//!   is "every expected namespace deployed and no condition `False`".
//! - MTO labels every tenant namespace `stakater.com/tenant: <tenant>` itself (mto-docs tenant
//!   overview).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Meta;
use super::condition::Condition;

/// apiVersion of the `Tenant`.
pub const TENANT_API_VERSION: &str = "tenantoperator.stakater.com/v1beta3";
/// apiVersion of the `Quota`.
pub const QUOTA_API_VERSION: &str = "tenantoperator.stakater.com/v1beta1";
/// The namespace label naming the tenant (MTO sets it too).
pub const TENANT_LABEL: &str = "stakater.com/tenant";

/// A `Tenant`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// `tenantoperator.stakater.com/v1beta3`.
    pub api_version: &'static str,
    /// `Tenant`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped).
    pub metadata: Meta,
    /// Spec.
    pub spec: TenantSpec,
}

/// `spec` of a Tenant (the fields the Project composition sets).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// The name of the `Quota` that bounds the tenant.
    pub quota: String,
    /// Who is owner, editor and viewer in every tenant namespace: always written whole, see
    /// [`AccessControl`].
    pub access_control: AccessControl,
    /// The tenant's namespaces.
    #[serde(skip_serializing_if = "TenantNamespaces::is_empty")]
    pub namespaces: TenantNamespaces,
}

/// `spec.accessControl` of a Tenant: MTO binds IntegrationConfig's tenant roles (by default
/// ClusterRoles `admin`, `edit`, `view`) to these in each namespace.
///
/// Every role and both lists are written, empty ones too. provider-kubernetes applies an
/// Object's manifest as a JSON merge patch unless it runs with `--enable-server-side-apply`
/// (crossplane-runtime's `APIPatchingApplicator`, used by its object syncer), and a merge
/// patch leaves a key it does not name as it is: a role whose last member was removed would
/// keep its old members on the live Tenant, access nobody revoked. An empty list replaces
/// the old one under either way of applying.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessControl {
    /// Owners.
    pub owners: Members,
    /// Editors.
    pub editors: Members,
    /// Viewers.
    pub viewers: Members,
}

/// Users and groups, by the names the API server sees (OIDC prefixes included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Members {
    /// Usernames.
    pub users: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
}

/// `spec.namespaces` of a Tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantNamespaces {
    /// Namespaces created with exactly these names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_tenant_prefix: Vec<String>,
    /// Metadata for the namespaces.
    #[serde(skip_serializing_if = "NamespacesMetadata::is_empty")]
    pub metadata: NamespacesMetadata,
    /// Whether deleting the tenant deletes its namespaces (MTO's default: no).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_delete_purge_namespaces: bool,
}

impl TenantNamespaces {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.without_tenant_prefix.is_empty()
            && self.metadata.is_empty()
            && !self.on_delete_purge_namespaces
    }
}

/// `spec.namespaces.metadata` of a Tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamespacesMetadata {
    /// Labels and annotations on every tenant namespace.
    #[serde(skip_serializing_if = "NamespaceMetadata::is_empty")]
    pub common: NamespaceMetadata,
}

impl NamespacesMetadata {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.common.is_empty()
    }
}

/// Labels and annotations for namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamespaceMetadata {
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl NamespaceMetadata {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.annotations.is_empty()
    }
}

impl Tenant {
    /// A tenant.
    pub fn new(metadata: Meta, spec: TenantSpec) -> Self {
        Self {
            api_version: TENANT_API_VERSION,
            kind: "Tenant",
            metadata,
            spec,
        }
    }
}

/// A `Quota`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    /// `tenantoperator.stakater.com/v1beta1`.
    pub api_version: &'static str,
    /// `Quota`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped).
    pub metadata: Meta,
    /// Spec.
    pub spec: QuotaSpec,
}

/// `spec` of a Quota.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QuotaSpec {
    /// The aggregate resource quota across the tenant's namespaces.
    pub resourcequota: ResourceQuota,
    /// Defaults and bounds per container or pod in each namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limitrange: Option<LimitRange>,
}

/// `spec.resourcequota` of a Quota (the `hard` part of a core ResourceQuotaSpec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResourceQuota {
    /// Hard limits by resource name (`requests.cpu`, `limits.memory`, ...), as quantities.
    pub hard: BTreeMap<String, String>,
}

/// `spec.limitrange` of a Quota (a core LimitRangeSpec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LimitRange {
    /// The limits.
    pub limits: Vec<LimitRangeItem>,
}

/// One `limits[]` entry of a LimitRange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeItem {
    /// `Container`, `Pod` or `PersistentVolumeClaim`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Default limits.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub default: BTreeMap<String, String>,
    /// Default requests.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub default_request: BTreeMap<String, String>,
    /// Maximum usage.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub max: BTreeMap<String, String>,
    /// Minimum usage.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub min: BTreeMap<String, String>,
}

impl Quota {
    /// A quota.
    pub fn new(metadata: Meta, spec: QuotaSpec) -> Self {
        Self {
            api_version: QUOTA_API_VERSION,
            kind: "Quota",
            metadata,
            spec,
        }
    }
}

/// The project quota profiles (`tenantQuota`), from SCO's project architecture document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaProfile {
    /// 4 CPU / 8Gi requested, 8 CPU / 16Gi limits.
    Small,
    /// 8 CPU / 16Gi requested, 16 CPU / 32Gi limits.
    Medium,
    /// 16 CPU / 32Gi requested, 32 CPU / 64Gi limits.
    Large,
}

impl QuotaProfile {
    /// `(requests.cpu, requests.memory, limits.cpu, limits.memory)`.
    pub fn amounts(self) -> [&'static str; 4] {
        match self {
            Self::Small => ["4", "8Gi", "8", "16Gi"],
            Self::Medium => ["8", "16Gi", "16", "32Gi"],
            Self::Large => ["16", "32Gi", "32", "64Gi"],
        }
    }

    /// The quota spec of the profile (no LimitRange: the profiles define none).
    pub fn spec(self) -> QuotaSpec {
        let keys = [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
        ];
        let hard = keys
            .into_iter()
            .zip(self.amounts())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        QuotaSpec {
            resourcequota: ResourceQuota { hard },
            limitrange: None,
        }
    }
}

/// provider-kubernetes CEL readiness query for a wrapped Tenant: every one of `namespaces` is in
/// `status.deployedNamespaces` (names are DNS labels, so they need no escaping in the literal).
pub fn deployed_namespaces_query<S: AsRef<str>>(namespaces: &[S]) -> String {
    let list: Vec<String> = namespaces
        .iter()
        .map(|ns| format!("'{}'", ns.as_ref()))
        .collect();
    format!(
        "has(object.status) && has(object.status.deployedNamespaces) && [{}].all(n, n in object.status.deployedNamespaces)",
        list.join(", ")
    )
}

/// What MTO reports about a Tenant: `status.conditions` and `status.deployedNamespaces`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedTenant {
    status: Option<ObservedTenantStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedTenantStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    deployed_namespaces: Vec<String>,
}

impl ObservedTenant {
    /// `status.conditions` (types are not documented upstream).
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }

    /// `status.deployedNamespaces`.
    pub fn deployed_namespaces(&self) -> &[String] {
        self.status.as_ref().map_or(&[], |s| &s.deployed_namespaces)
    }

    /// The expected namespaces MTO has not reported deployed yet.
    pub fn missing_namespaces<'a>(&self, expected: &'a [String]) -> Vec<&'a str> {
        let deployed = self.deployed_namespaces();
        expected
            .iter()
            .filter(|ns| !deployed.contains(ns))
            .map(String::as_str)
            .collect()
    }

    /// The first condition whose status is `False`, if any.
    pub fn failing(&self) -> Option<&Condition> {
        self.conditions().iter().find(|c| c.status == "False")
    }

    /// Every expected namespace is deployed and no condition is `False`.
    pub fn is_ready(&self, expected: &[String]) -> bool {
        self.missing_namespaces(expected).is_empty() && self.failing().is_none()
    }
}

referable! {
    impl for Tenant;
    impl for Quota;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::json;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tenant_for_a_project() {
        let spec = TenantSpec {
            quota: "shop".into(),
            access_control: AccessControl {
                owners: Members {
                    users: Vec::new(),
                    groups: strings(&["oidc:shop-admin", "oidc:acme-org-admins"]),
                },
                editors: Members::default(),
                viewers: Members {
                    users: strings(&["oidc:ada"]),
                    groups: strings(&["oidc:shop-view"]),
                },
            },
            namespaces: TenantNamespaces {
                without_tenant_prefix: strings(&["ws-shop-vms", "ws-shop-clusters"]),
                metadata: NamespacesMetadata {
                    common: NamespaceMetadata {
                        labels: BTreeMap::from([
                            (TENANT_LABEL.to_owned(), "shop".to_owned()),
                            ("stakater.com/org".to_owned(), "acme".to_owned()),
                            (
                                "k8s.ovn.org/primary-user-defined-network".to_owned(),
                                String::new(),
                            ),
                        ]),
                        annotations: BTreeMap::new(),
                    },
                },
                on_delete_purge_namespaces: true,
            },
        };
        let tenant = Tenant::new(meta("shop", None, &Labels::default()), spec);
        assert_eq!(
            serde_json::to_value(&tenant).unwrap(),
            json!({
                "apiVersion": "tenantoperator.stakater.com/v1beta3",
                "kind": "Tenant",
                "metadata": {"name": "shop"},
                "spec": {
                    "quota": "shop",
                    // Empty roles and lists are written: under a merge patch, a list left
                    // out would keep members removed from the XR.
                    "accessControl": {
                        "owners": {"users": [], "groups": ["oidc:shop-admin", "oidc:acme-org-admins"]},
                        "editors": {"users": [], "groups": []},
                        "viewers": {"users": ["oidc:ada"], "groups": ["oidc:shop-view"]},
                    },
                    "namespaces": {
                        "withoutTenantPrefix": ["ws-shop-vms", "ws-shop-clusters"],
                        "metadata": {"common": {"labels": {
                            "k8s.ovn.org/primary-user-defined-network": "",
                            "stakater.com/org": "acme",
                            "stakater.com/tenant": "shop",
                        }}},
                        "onDeletePurgeNamespaces": true,
                    },
                },
            })
        );
        let bare = Tenant::new(
            meta("t", None, &Labels::default()),
            TenantSpec {
                quota: "small".into(),
                ..TenantSpec::default()
            },
        );
        assert_eq!(
            serde_json::to_value(&bare).unwrap()["spec"],
            json!({"quota": "small", "accessControl": {
                "owners": {"users": [], "groups": []},
                "editors": {"users": [], "groups": []},
                "viewers": {"users": [], "groups": []},
            }})
        );
        assert_eq!(tenant.kind(), "Tenant");
    }

    #[test]
    fn quota_profiles() {
        let quota = Quota::new(
            meta("shop", None, &Labels::default()),
            QuotaProfile::Medium.spec(),
        );
        assert_eq!(
            serde_json::to_value(&quota).unwrap(),
            json!({
                "apiVersion": "tenantoperator.stakater.com/v1beta1",
                "kind": "Quota",
                "metadata": {"name": "shop"},
                "spec": {"resourcequota": {"hard": {
                    "limits.cpu": "16", "limits.memory": "32Gi", "requests.cpu": "8", "requests.memory": "16Gi",
                }}},
            })
        );
        assert_eq!(QuotaProfile::Small.amounts(), ["4", "8Gi", "8", "16Gi"]);
        assert_eq!(QuotaProfile::Large.amounts(), ["16", "32Gi", "32", "64Gi"]);
        let mut spec = QuotaProfile::Small.spec();
        spec.limitrange = Some(LimitRange {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: BTreeMap::from([("cpu".to_owned(), "500m".to_owned())]),
                default_request: BTreeMap::from([("cpu".to_owned(), "100m".to_owned())]),
                ..LimitRangeItem::default()
            }],
        });
        assert_eq!(
            serde_json::to_value(&spec).unwrap()["limitrange"],
            json!({"limits": [{"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}}]})
        );
    }

    #[test]
    fn observed_tenant_readiness() {
        let expected = strings(&["ws-shop-vms", "ws-shop-clusters"]);
        let read = |v| serde_json::from_value::<ObservedTenant>(v).unwrap();
        let partial = read(json!({"status": {"deployedNamespaces": ["ws-shop-vms"]}}));
        assert_eq!(partial.missing_namespaces(&expected), ["ws-shop-clusters"]);
        assert!(!partial.is_ready(&expected));
        let done = read(json!({"status": {
            "deployedNamespaces": ["ws-shop-clusters", "ws-shop-vms"],
            "conditions": [{"type": "Ready", "status": "True"}],
        }}));
        assert!(done.is_ready(&expected));
        let failing = read(json!({"status": {
            "deployedNamespaces": ["ws-shop-clusters", "ws-shop-vms"],
            "conditions": [{"type": "Ready", "status": "False", "message": "quota shop not found"}],
        }}));
        assert_eq!(failing.failing().unwrap().message, "quota shop not found");
        assert!(!failing.is_ready(&expected));
        let empty = ObservedTenant::default();
        assert!(empty.conditions().is_empty() && empty.deployed_namespaces().is_empty());
        assert!(empty.is_ready(&[]));
    }

    #[test]
    fn readiness_query_lists_the_namespaces() {
        assert_eq!(
            deployed_namespaces_query(&["ws-shop-vms", "ws-shop-clusters"]),
            "has(object.status) && has(object.status.deployedNamespaces) && ['ws-shop-vms', 'ws-shop-clusters'].all(n, n in object.status.deployedNamespaces)"
        );
    }

    #[test]
    fn tenant_namespaces_with_anything_set_are_not_empty() {
        assert!(TenantNamespaces::default().is_empty());
        let named = TenantNamespaces {
            without_tenant_prefix: vec!["ns".into()],
            ..TenantNamespaces::default()
        };
        assert!(!named.is_empty());
        // As the project composition writes it for a project without namespaces.
        let none = TenantNamespaces {
            without_tenant_prefix: Vec::new(),
            metadata: NamespacesMetadata {
                common: NamespaceMetadata {
                    labels: BTreeMap::from([("stakater.com/tenant".to_owned(), "shop".to_owned())]),
                    annotations: BTreeMap::new(),
                },
            },
            on_delete_purge_namespaces: true,
        };
        assert!(!none.is_empty());
    }
}
