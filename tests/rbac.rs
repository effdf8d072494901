//! The ClusterRole function-sco ships (`functions/rbac.yaml`) covers every kind a rendered
//! example or fixture composes or requires that Crossplane's own roles do not grant.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{render_case, root};

const WRITE: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const READ: [&str; 3] = ["get", "list", "watch"];

/// Granted by the Crossplane chart or by the RBAC manager for installed providers.
fn granted_by_crossplane(group: &str, resource: &str) -> bool {
    (group.is_empty() && ["secrets", "services", "configmaps", "events"].contains(&resource))
        || ["apiextensions.crossplane.io", "pkg.crossplane.io"].contains(&group)
        || group.ends_with(".keycloak.crossplane.io")
        || group.ends_with(".keycloak.m.crossplane.io")
        || ["kubernetes.crossplane.io", "kubernetes.m.crossplane.io"].contains(&group)
        || ["helm.crossplane.io", "helm.m.crossplane.io"].contains(&group)
}

fn group_resource(api_version: &str, kind: &str) -> (String, String) {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (group.to_owned(), format!("{}s", kind.to_ascii_lowercase()))
}

fn allows(role: &Value, group: &str, resource: &str, verbs: &[&str]) -> bool {
    let rules = role["rules"].as_array().cloned().unwrap_or_default();
    verbs.iter().all(|verb| {
        rules.iter().any(|rule| {
            let has = |key: &str, want: &str| {
                rule[key]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| x == want || x == "*"))
            };
            has("apiGroups", group) && has("resources", resource) && has("verbs", verb)
        })
    })
}

#[test]
fn the_shipped_cluster_role_covers_every_composed_and_required_kind() {
    let text = std::fs::read_to_string(root().join("functions/rbac.yaml")).unwrap();
    let role: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(role["kind"], "ClusterRole");
    assert_eq!(
        role["metadata"]["labels"]["rbac.crossplane.io/aggregate-to-crossplane"],
        Value::String("true".into()),
        "the aggregation label is the string \"true\""
    );
    let mut composed = BTreeSet::new();
    let mut required = BTreeSet::new();
    for dir in &support::cases() {
        let (_, rsp) = render_case(dir);
        for resource in rsp.desired.iter().flat_map(|d| d.resources.values()) {
            let manifest = resource
                .resource
                .as_ref()
                .map_or(Value::Null, pbstruct::to_json_value);
            let (api_version, kind) = (
                manifest["apiVersion"].as_str().unwrap_or_default(),
                manifest["kind"].as_str().unwrap_or_default(),
            );
            composed.insert(group_resource(api_version, kind));
        }
        for selector in rsp.requirements.iter().flat_map(|r| r.resources.values()) {
            required.insert(group_resource(&selector.api_version, &selector.kind));
        }
    }
    assert!(
        composed.contains(&("kubevirt.io".into(), "virtualmachines".into())),
        "the walk sees the VirtualMachine examples: {composed:?}"
    );
    for ((group, resource), verbs) in composed
        .iter()
        .map(|gr| (gr, &WRITE[..]))
        .chain(required.iter().map(|gr| (gr, &READ[..])))
    {
        if granted_by_crossplane(group, resource) {
            continue;
        }
        assert!(
            allows(&role, group, resource, verbs),
            "functions/rbac.yaml does not grant {verbs:?} on {resource}.{group}; add a rule"
        );
    }
}
