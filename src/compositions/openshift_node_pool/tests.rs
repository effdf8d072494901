use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::compositions::platform::Platform;
use crate::compositions::{Desired, Observed};
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;

const IMAGE: &str = "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64";

fn composite(parameters: Value) -> Value {
    json!({
        "apiVersion": "kubernetes.cloud.stakater.com/v1",
        "kind": "OpenShiftNodePool",
        "metadata": {"name": "gpu", "namespace": "ws-frontend-clusters"},
        "spec": {"parameters": parameters},
    })
}

fn parent() -> Value {
    json!({
        "apiVersion": "kubernetes.cloud.stakater.com/v1",
        "kind": "OpenShiftCluster",
        "metadata": {"name": "dev", "namespace": "ws-frontend-clusters", "uid": "3f6c2a10-0000-4000-8000-000000000001"},
        "spec": {"parameters": {"clusterName": "dev"}},
    })
}

fn hosted_cluster(platform: &str, available: bool) -> Value {
    json!({
        "apiVersion": "hypershift.openshift.io/v1beta1",
        "kind": "HostedCluster",
        "metadata": {"name": "dev", "namespace": "ws-frontend-clusters"},
        "spec": {"release": {"image": IMAGE}, "platform": {"type": platform}},
        "status": {"conditions": [{"type": "Available", "status": if available { "True" } else { "False" }}]},
    })
}

/// A pool of two `large` nodes for cluster `dev`.
fn large_pool() -> Value {
    composite(json!({"clusterRef": {"name": "dev"}, "size": "large", "replicas": 2}))
}

/// What Crossplane fetches for a pool of `dev`, available on `platform`.
fn available_cluster(platform: &str) -> [(&'static str, Value); 2] {
    [
        (names::PARENT_REQUIREMENT, parent()),
        (
            names::HOSTED_CLUSTER_REQUIREMENT,
            hosted_cluster(platform, true),
        ),
    ]
}

/// Asserts that the XR's name is the first field refused, with a message saying `fragment`.
fn assert_name_refused(
    xr: &Value,
    required: &[(&str, Value)],
    settings: &Settings,
    fragment: &str,
) {
    let Invalid(errors) = render(xr, required, &[], settings).unwrap_err();
    assert_eq!(errors[0].path, "metadata.name");
    assert!(
        errors[0].message.contains(fragment),
        "{}",
        errors[0].message
    );
}

fn render(
    xr: &Value,
    required: &[(&str, Value)],
    observed: &[(&str, Value)],
    settings: &Settings,
) -> Result<Desired, Invalid> {
    let xr: spec::OpenShiftNodePool = serde_json::from_value(xr.clone()).unwrap();
    let resources: BTreeMap<Name, ObservedComposed> = observed
        .iter()
        .map(|(n, v)| (Name::from(*n), ObservedComposed::new(v, BTreeMap::new())))
        .collect();
    let required: BTreeMap<String, Vec<Value>> = required
        .iter()
        .map(|(n, v)| ((*n).to_owned(), vec![v.clone()]))
        .collect();
    let observed = Observed {
        resources: &resources,
        required: &required,
        credentials: crate::compositions::secrets::Credentials::none(),
    };
    OpenShiftNodePool::render(
        &xr,
        Context {
            observed: &observed,
            platform: &Platform::default(),
            settings,
        },
    )
}

fn pool(desired: &Desired) -> Value {
    desired.resources[&Name::from(names::NODE_POOL)]
        .manifest
        .to_json()
}

#[test]
fn it_waits_for_the_cluster() {
    let xr = composite(json!({"clusterRef": {"name": "dev"}}));
    let settings = Settings::default();
    let desired = render(&xr, &[], &[], &settings).unwrap();
    assert!(desired.resources.is_empty());
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForCluster"
    );
    assert_eq!(desired.status["phase"], "WaitingForCluster");
    assert_eq!(desired.status["clusterRef"]["available"], false);
    assert!(desired.requirements.contains_key(names::PARENT_REQUIREMENT));
    assert!(
        !desired
            .requirements
            .contains_key(names::HOSTED_CLUSTER_REQUIREMENT)
    );

    // The parent exists: its HostedCluster is fetched next.
    let desired = render(
        &xr,
        &[(names::PARENT_REQUIREMENT, parent())],
        &[],
        &settings,
    )
    .unwrap();
    assert!(
        desired
            .requirements
            .contains_key(names::HOSTED_CLUSTER_REQUIREMENT)
    );
    assert_eq!(
        desired.status["clusterRef"]["uid"],
        "3f6c2a10-0000-4000-8000-000000000001"
    );
    assert_eq!(desired.status["phase"], "WaitingForCluster");

    // Not available yet.
    let required = [
        (names::PARENT_REQUIREMENT, parent()),
        (
            names::HOSTED_CLUSTER_REQUIREMENT,
            hosted_cluster("KubeVirt", false),
        ),
    ];
    let desired = render(&xr, &required, &[], &settings).unwrap();
    assert!(desired.resources.is_empty());
    assert!(
        desired
            .waiting
            .unwrap()
            .message
            .contains("is not available"),
        "waits for Available"
    );
}

#[test]
fn an_available_cluster_gets_the_pool_with_its_release() {
    let xr = large_pool();
    let required = available_cluster("KubeVirt");
    let settings = Settings::default();
    let desired = render(&xr, &required, &[], &settings).unwrap();
    let np = pool(&desired);
    assert_eq!(np["metadata"]["name"], "dev-gpu");
    assert_eq!(np["spec"]["clusterName"], "dev");
    assert_eq!(np["spec"]["replicas"], 2);
    assert_eq!(np["spec"]["release"]["image"], IMAGE);
    assert_eq!(np["spec"]["management"]["upgradeType"], "Replace");
    assert_eq!(
        np["spec"]["platform"]["kubevirt"]["compute"],
        json!({"cores": 8, "memory": "32Gi"})
    );
    assert_eq!(desired.status["phase"], "Creating");
    let usage = desired.resources[&Name::from(names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL)]
        .manifest
        .to_json();
    assert_eq!(usage["spec"]["of"]["kind"], "HostedCluster");
    assert_eq!(usage["spec"]["of"]["resourceRef"]["name"], "dev");

    let observed = [
        (
            names::NODE_POOL,
            json!({"status": {"replicas": 2, "conditions": [{"type": "Ready", "status": "True"}]}}),
        ),
        (
            names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL,
            json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        ),
    ];
    let desired = render(&xr, &required, &observed, &settings).unwrap();
    assert_eq!(desired.status["phase"], "Ready");
    assert_eq!(desired.status["replicas"], 2);
    assert_eq!(desired.status["clusterRef"]["available"], true);
}

#[test]
fn bad_input_is_refused() {
    let required = available_cluster("Agent");
    let settings = Settings::default();
    let xr = composite(json!({"clusterRef": {"name": "dev"}, "replicas": 0}));
    let Invalid(errors) = render(&xr, &required, &[], &settings).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["spec.parameters.replicas", "spec.parameters.size"]);
    assert!(errors[1].message.contains("Agent"), "{}", errors[1].message);
    assert!(
        errors[1]
            .message
            .contains("add it to openshiftCluster.agentLabels, which node pools follow"),
        "the table pools follow: {}",
        errors[1].message
    );

    let mut xr = composite(json!({"clusterRef": {"name": "dev"}}));
    xr["metadata"]["name"] = json!("p".repeat(60));
    let required = available_cluster("KubeVirt");
    assert_name_refused(&xr, &required, &settings, "at most 59 characters");
}

#[test]
fn the_name_of_the_clusters_own_pool_is_refused() {
    let mut xr = composite(json!({"clusterRef": {"name": "dev"}}));
    xr["metadata"]["name"] = json!("default");
    let required = available_cluster("KubeVirt");
    assert_name_refused(
        &xr,
        &required,
        &Settings::default(),
        "<clusterName>-default",
    );
}

#[test]
fn a_ready_pool_that_hypershift_is_rolling_says_updating() {
    let xr = large_pool();
    let required = available_cluster("KubeVirt");
    let ready = json!({"type": "Ready", "status": "True"});
    let usage = (
        names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL,
        json!({"status": {"conditions": [ready]}}),
    );
    for (condition, phase) in [
        ("UpdatingVersion", "Updating"),
        ("UpdatingConfig", "Updating"),
        ("UpdatingPlatformMachineTemplate", "Updating"),
        ("AutoscalingEnabled", "Ready"),
    ] {
        let observed = [
            (
                names::NODE_POOL,
                json!({"status": {"replicas": 2, "conditions": [ready, {"type": condition, "status": "True"}]}}),
            ),
            usage.clone(),
        ];
        let desired = render(&xr, &required, &observed, &Settings::default()).unwrap();
        assert_eq!(desired.status["phase"], phase, "{condition}");
        assert_eq!(
            desired.status["ready"], true,
            "{condition}: it keeps serving"
        );
    }
}

#[test]
fn a_paused_pool_is_warned_about() {
    let xr = large_pool();
    let required = available_cluster("KubeVirt");
    let warnings = |active: Value| {
        let observed = [(
            names::NODE_POOL,
            json!({"status": {"replicas": 2, "conditions": [active]}}),
        )];
        render(&xr, &required, &observed, &Settings::default())
            .unwrap()
            .warnings
    };
    assert!(
        warnings(json!({"type": "ReconciliationActive", "status": "True", "reason": "AsExpected"}))
            .is_empty()
    );
    let paused = warnings(json!({"type": "ReconciliationActive", "status": "False",
        "reason": "ReconciliationPaused", "message": "Reconciliation paused until: 2026-12-08T00:00:00Z"}));
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert!(
        paused[0].starts_with(
            "NodePool dev-gpu is paused (Reconciliation paused until: 2026-12-08T00:00:00Z)"
        ),
        "{paused:?}"
    );
}

#[test]
fn an_inplace_agent_pool_given_another_size_warns_that_only_new_nodes_follow() {
    let xr = large_pool();
    let required = available_cluster("Agent");
    let mut settings = Settings::default();
    settings.agent_labels.large = Some(BTreeMap::from([("size".into(), "large".into())]));
    let observed_pool = |labels: Value| {
        (
            names::NODE_POOL,
            json!({"spec": {"management": {"upgradeType": "InPlace"},
                "platform": {"type": "Agent", "agent": {"agentLabelSelector": {"matchLabels": labels}}}}}),
        )
    };
    let warnings = |observed: &[(&str, Value)]| {
        render(&xr, &required, observed, &settings)
            .unwrap()
            .warnings
    };
    assert!(warnings(&[observed_pool(json!({"size": "large"}))]).is_empty());
    let moved = warnings(&[observed_pool(json!({"size": "medium"}))]);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0].contains("only nodes added from now on follow it"),
        "{moved:?}"
    );
    // A new pool has nothing to compare with.
    assert!(warnings(&[]).is_empty());
}

#[test]
fn another_clusters_pool_of_the_same_name_is_refused_before_this_one_exists() {
    let xr = composite(json!({"clusterRef": {"name": "dev"}, "size": "large"}));
    let mut required = available_cluster("KubeVirt").to_vec();
    let desired = render(&xr, &required, &[], &Settings::default()).unwrap();
    assert_eq!(
        desired.requirements[names::SAME_NAME_REQUIREMENT].matching,
        Match::Name("dev-gpu".into())
    );
    // Cluster `dev-g`'s pool `pu` is NodePool `dev-gpu` too.
    required.push((
        names::SAME_NAME_REQUIREMENT,
        json!({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
            "metadata": {"name": "dev-gpu", "namespace": "ws-frontend-clusters"},
            "spec": {"clusterName": "dev-g"}}),
    ));
    assert_name_refused(
        &xr,
        &required,
        &Settings::default(),
        "for HostedCluster dev-g",
    );
    // Once this pool exists, it is not asked for.
    let ours = [(names::NODE_POOL, json!({"spec": {"clusterName": "dev"}}))];
    let desired = render(&xr, &required, &ours, &Settings::default()).unwrap();
    assert!(
        !desired
            .requirements
            .contains_key(names::SAME_NAME_REQUIREMENT)
    );
}

#[test]
fn a_pool_name_of_exactly_63_characters_fits() {
    // `dev-` and a 59-character name: the longest NodePool name there is.
    let mut xr = large_pool();
    xr["metadata"]["name"] = json!("p".repeat(59));
    let desired = render(
        &xr,
        &available_cluster("KubeVirt"),
        &[],
        &Settings::default(),
    )
    .expect("a 63-character NodePool name is valid");
    assert_eq!(
        pool(&desired)["metadata"]["name"],
        format!("dev-{}", "p".repeat(59))
    );
}

#[test]
fn an_agent_size_without_labels_is_refused_listing_the_sizes_that_have_them() {
    let mut settings = Settings::default();
    settings.agent_labels.medium = Some(BTreeMap::from([("size".into(), "medium".into())]));
    let Invalid(errors) =
        render(&large_pool(), &available_cluster("Agent"), &[], &settings).unwrap_err();
    assert_eq!(errors[0].path, "spec.parameters.size");
    assert!(
        errors[0].message.contains("(sizes: medium)")
            && errors[0].message.contains("openshiftNodePool.agentLabels"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_cluster_on_a_platform_not_ours_is_refused_not_taken_for_kubevirt() {
    let Invalid(errors) = render(
        &large_pool(),
        &available_cluster("AWS"),
        &[],
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "spec.parameters.clusterRef.name");
    assert!(
        errors[0].message.contains("has platform \"AWS\"")
            && errors[0].message.contains("(KubeVirt, Agent and None)"),
        "{}",
        errors[0].message
    );
}

#[test]
fn an_existing_pool_keeps_its_upgrade_type_when_the_setting_changes() {
    // HyperShift's CEL makes `management.upgradeType` immutable: a changed setting reaches
    // new pools only, in both directions.
    let required = available_cluster("KubeVirt");
    let observed = |upgrade: &str| {
        [(
            names::NODE_POOL,
            json!({"spec": {"management": {"upgradeType": upgrade}}}),
        )]
    };
    for (observed_type, setting) in [
        ("InPlace", UpgradeType::Replace),
        ("Replace", UpgradeType::InPlace),
    ] {
        let settings = Settings {
            upgrade_type: Some(setting),
            ..Settings::default()
        };
        let kept = render(
            &large_pool(),
            &required,
            &observed(observed_type),
            &settings,
        )
        .unwrap();
        assert_eq!(
            pool(&kept)["spec"]["management"]["upgradeType"],
            observed_type
        );
        let new = render(&large_pool(), &required, &[], &settings).unwrap();
        assert_eq!(
            pool(&new)["spec"]["management"]["upgradeType"],
            json!(setting)
        );
    }
}
