//! The builders the Project composition will use write manifests their upstream schemas accept,
//! strictly (unknown fields, types, list-map keys, embedded metadata): one sample of each, in
//! both flavours where a kind has two, bare and wrapped in a provider-kubernetes `Object`.

mod support;

use std::collections::BTreeMap;

use function_sco::resources::kcp::{ApiBinding, ExportReference, ObservedApiBinding};
use function_sco::resources::keycloak::{Managed, MembershipsParameters, RealmId};
use function_sco::resources::mto::{
    AccessControl, LimitRange, LimitRangeItem, Members, NamespaceMetadata, NamespacesMetadata,
    Quota, QuotaProfile, Tenant, TenantNamespaces, TenantSpec,
};
use function_sco::resources::ovn::{
    ClusterUserDefinedNetwork, NamespaceSelector, PRIMARY_UDN_LABEL,
};
use function_sco::resources::provider_kubernetes::{Object, Readiness};
use function_sco::resources::rbac::{ClusterRole, ClusterRoleBinding, ProjectRole, Subject};
use function_sco::resources::{Labels, ProviderConfig, Reference, meta};
use serde::Serialize;
use serde_json::{Value, json};
use support::schema;

fn labels() -> Labels {
    Labels::from(BTreeMap::from([(
        "crossplane.io/composite".to_owned(),
        "shop-x7k2p".to_owned(),
    )]))
}

fn value(manifest: impl Serialize) -> Value {
    serde_json::to_value(manifest).unwrap()
}

/// The manifest, bare and wrapped in an Object of each flavour, validates.
fn assert_valid_everywhere(manifest: Value) {
    schema::assert_valid(&manifest);
    for namespace in [None, Some("acme")] {
        let object = Object::new(
            meta("wrapped", namespace, &labels()),
            manifest.clone(),
            &ProviderConfig::Composed("kcp-acme-shop".into()),
            Readiness::DeriveFromObject,
        );
        schema::assert_valid(&value(object));
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn api_binding_with_accepted_claims() {
    let observed: ObservedApiBinding = serde_json::from_value(json!({"status": {
        "phase": "Bound",
        "exportPermissionClaims": [
            {"group": "", "resource": "namespaces", "verbs": ["*"]},
            {"group": "", "resource": "events", "verbs": ["*"]},
            {"group": "core.kcp.io", "resource": "logicalclusters", "verbs": ["*"]},
            {"group": "", "resource": "secrets", "verbs": ["get", "list", "watch"],
             "defaultSelector": {"matchLabels": {"sco.stakater.com/related": "true"}}},
        ],
    }}))
    .unwrap();
    let binding = ApiBinding::new(
        meta("compute.cloud.stakater.com", None, &labels()),
        ExportReference {
            path: Some("root:platform".into()),
            name: "compute.cloud.stakater.com".into(),
        },
        observed.accepted_claims(),
    );
    assert_valid_everywhere(value(&binding));
    let bare = ApiBinding::new(
        meta("local", None, &Labels::default()),
        ExportReference {
            path: None,
            name: "local".into(),
        },
        Vec::new(),
    );
    schema::assert_valid(&value(bare));
}

#[test]
fn workspace_rbac() {
    let groups = [
        "compute.cloud.stakater.com",
        "kubernetes.cloud.stakater.com",
    ];
    for (name, role) in [
        ("sco-project-admin", ProjectRole::Admin),
        ("sco-project-edit", ProjectRole::Edit),
        ("sco-project-view", ProjectRole::View),
    ] {
        let cluster_role = ClusterRole::new(meta(name, None, &labels()), role.rules(&groups));
        assert_valid_everywhere(value(cluster_role));
    }
    let binding = ClusterRoleBinding::new(
        meta("sco-project-admin", None, &labels()),
        "sco-project-admin",
        vec![
            Subject::group("oidc:shop-admin"),
            Subject::user("oidc:ada@example.com"),
        ],
    );
    assert_valid_everywhere(value(binding));
    let access = ClusterRoleBinding::workspace_access(
        meta("sco-project-access", None, &labels()),
        vec![Subject::group("oidc:shop-view")],
    );
    assert_valid_everywhere(value(access));
}

#[test]
fn tenant_and_quota() {
    let tenant = Tenant::new(
        meta("shop", None, &labels()),
        TenantSpec {
            quota: "shop".into(),
            access_control: AccessControl {
                owners: Members {
                    users: strings(&["oidc:ada"]),
                    groups: strings(&["oidc:shop-admin"]),
                },
                editors: Members {
                    users: Vec::new(),
                    groups: strings(&["oidc:shop-edit"]),
                },
                viewers: Members::default(),
            },
            namespaces: TenantNamespaces {
                without_tenant_prefix: strings(&["ws-shop-vms", "ws-shop-clusters"]),
                metadata: NamespacesMetadata {
                    common: NamespaceMetadata {
                        labels: BTreeMap::from([
                            ("stakater.com/tenant".to_owned(), "shop".to_owned()),
                            ("stakater.com/org".to_owned(), "acme".to_owned()),
                            (PRIMARY_UDN_LABEL.to_owned(), String::new()),
                        ]),
                        annotations: BTreeMap::new(),
                    },
                },
                on_delete_purge_namespaces: true,
            },
        },
    );
    assert_valid_everywhere(value(tenant));
    for profile in [
        QuotaProfile::Small,
        QuotaProfile::Medium,
        QuotaProfile::Large,
    ] {
        assert_valid_everywhere(value(Quota::new(
            meta("shop", None, &labels()),
            profile.spec(),
        )));
    }
    let mut spec = QuotaProfile::Small.spec();
    spec.limitrange = Some(LimitRange {
        limits: vec![LimitRangeItem {
            type_: "Container".into(),
            default: BTreeMap::from([("cpu".to_owned(), "500m".to_owned())]),
            default_request: BTreeMap::from([("memory".to_owned(), "256Mi".to_owned())]),
            ..LimitRangeItem::default()
        }],
    });
    assert_valid_everywhere(value(Quota::new(meta("shop", None, &labels()), spec)));
}

#[test]
fn project_network() {
    let cudn = ClusterUserDefinedNetwork::primary_layer2(
        meta("shop", None, &labels()),
        NamespaceSelector::names(&["ws-shop-vms", "ws-shop-clusters"]),
        vec![
            "10.0.0.0/16".parse().unwrap(),
            "fd00:10::/64".parse().unwrap(),
        ],
    );
    assert_valid_everywhere(value(cudn));
}

#[test]
fn keycloak_memberships_in_both_flavours() {
    for namespace in [None, Some("acme")] {
        let memberships = Managed::new(
            meta("shop-admin-members", namespace, &labels()),
            MembershipsParameters {
                realm: RealmId::existing("acme"),
                group_id_ref: Reference::to("shop-admin"),
                members: strings(&["ada", "grace"]),
            },
            &ProviderConfig::Platform("keycloak".into()),
        );
        schema::assert_valid(&value(memberships));
    }
}

#[test]
fn the_validator_would_notice_a_wrong_field() {
    let mut binding = value(ApiBinding::new(
        meta("b", None, &Labels::default()),
        ExportReference {
            path: None,
            name: "x".into(),
        },
        Vec::new(),
    ));
    binding["spec"]["permissionClaims"] =
        json!([{"resource": "secrets", "verbs": ["get"], "all": true, "state": "Accepted"}]);
    let errors = schema::validate(&binding).unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("permissionClaims/0/all")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("permissionClaims/0/selector")),
        "{errors:?}"
    );
}
