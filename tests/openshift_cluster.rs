//! The OpenShiftCluster composition walked through its stages
//! (`tests/fixtures/openshiftcluster/`) and the OpenShiftNodePool through its own: what each
//! stage composes, readiness, conditions, TTL and status, the encryption key kept across
//! stages, and the Fatal fixtures naming their field.

mod support;

use std::path::PathBuf;

use function_sco::sdk::proto::v1::{Ready, Status};
use support::outcome::Outcome;
use support::{render_case, root};

fn stage(composition: &str, name: &str) -> PathBuf {
    root().join("tests/fixtures").join(composition).join(name)
}

fn run(name: &str) -> Outcome {
    Outcome::of(render_case(&stage("openshiftcluster", name)).1)
}

const CONTROL_PLANE: [&str; 6] = [
    "hosted-cluster",
    "node-pool-default",
    "pull-secret",
    "etcd-encryption-key",
    "oidc-client-secret",
    "ssh-key",
];

#[test]
fn nothing_observed_composes_the_control_plane_and_waits_for_it() {
    let out = run("01-nothing-observed");
    assert_eq!(out.fatal(), None);
    for name in CONTROL_PLANE {
        assert!(out.composed.contains_key(name), "{name}: {:?}", out.names());
        assert!(!out.ready(name), "{name} is not observed");
    }
    for absent in ["connection", "keycloak-client", "provider-config"] {
        assert!(!out.composed.contains_key(absent), "{absent} waits");
    }
    assert_eq!(out.status["phase"], "Initializing");
    let (status, reason, _) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "WaitingForControlPlane")
    );
    assert_eq!(out.composite_ready(), Ready::False);
    assert!(out.ttl_seconds() <= 10, "waiting: a short TTL");
}

#[test]
fn an_available_control_plane_brings_sign_in_the_connection_and_the_provider_config() {
    let out = run("02-control-plane-available");
    assert_eq!(out.fatal(), None);
    assert!(out.ready("hosted-cluster"));
    for name in [
        "connection",
        "keycloak-client",
        "keycloak-groups-mapper",
        "provider-config",
    ] {
        assert!(out.composed.contains_key(name), "{name}: {:?}", out.names());
    }
    let redirect = &out.manifest("keycloak-client")["spec"]["forProvider"]["validRedirectUris"];
    assert_eq!(
        redirect[0],
        "https://oauth-ws-frontend-clusters-dev.apps.mgmt.cloud.example.com:443/oauth2callback/sco"
    );
    assert!(
        !out.composed.contains_key("binding-edit"),
        "waits for the provider config"
    );
    assert_eq!(out.status["phase"], "RegistrationPending");
    assert_eq!(
        out.condition("ResourcesReady").1,
        "WaitingForProviderConfig"
    );
}

#[test]
fn nodes_join_and_the_bindings_go_through_the_provider_config() {
    let out = run("03-nodes-joining");
    assert_eq!(out.fatal(), None);
    for name in [
        "binding-edit",
        "binding-customer-admin",
        "binding-customer-admin-admin",
        "role-customer-admin",
    ] {
        let object = out.manifest(name);
        assert_eq!(
            object["spec"]["providerConfigRef"]["name"], "dev-admin",
            "{name}"
        );
    }
    assert!(!out.ready("node-pool-default"), "one of three nodes");
    assert_eq!(out.status["phase"], "RegistrationPending");
}

#[test]
fn the_encryption_key_is_the_same_at_every_stage() {
    let key = |name: &str| run(name).manifest("etcd-encryption-key")["data"]["key"].clone();
    let first = key("01-nothing-observed");
    for name in ["02-control-plane-available", "03-nodes-joining", "04-ready"] {
        assert_eq!(key(name), first, "{name}");
    }
}

#[test]
fn everything_ready_makes_the_xr_ready() {
    let out = run("04-ready");
    assert_eq!(out.fatal(), None);
    assert!(
        out.composed.keys().all(|name| out.ready(name)),
        "{:?}",
        out.names()
    );
    assert_eq!(out.composite_ready(), Ready::True);
    assert_eq!(out.status["phase"], "Ready");
    assert_eq!(out.status["ready"], true);
    assert_eq!(out.status["version"], "4.19.10");
    assert_eq!(
        out.status["apiEndpoint"],
        "https://a1b2c3.lb.mgmt.cloud.example.com:6443"
    );
    assert!(
        out.status.get("credentials").is_none(),
        "no kubeadmin password is published"
    );
}

#[test]
fn an_identity_provider_hypershift_cannot_use_keeps_the_xr_unready() {
    // HyperShift runs the OAuth server without the provider when it cannot reach the
    // issuer from the nodes: the cluster is up, but nobody can sign in.
    let dir = stage("openshiftcluster", "04-ready");
    let mut input = support::case_input(&dir);
    let hosted = observed_of(&mut input.observed, "HostedCluster");
    hosted["status"]["conditions"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "type": "ValidIDPConfiguration", "status": "False", "reason": "IDPConfigurationError",
            "message": "failed to GET discovery document: dial tcp: i/o timeout",
        }));
    let out = Outcome::of(support::render_input(&input));
    assert_eq!(out.fatal(), None);
    assert_eq!(out.composite_ready(), Ready::False);
    let (status, reason, message) = out.condition("ResourcesReady");
    assert_eq!(
        (status, reason.as_str()),
        (Status::ConditionFalse, "InvalidIdentityProvider")
    );
    assert!(message.contains("dial tcp: i/o timeout"), "{message}");
    assert!(out.composed.contains_key("keycloak-client"));
}

#[test]
fn bootstrap_releases_wait_for_the_nodes_then_stay() {
    // Regression: a chart installed with `wait` before the nodes join fails its wait, and
    // provider-helm never retries a failed release whose spec did not change.
    let dir = root().join("examples/openshiftcluster/public-kubevirt-addons");
    let mut input = support::case_input(&dir);
    let pool = observed_of(&mut input.observed, "NodePool");
    pool["status"] = serde_json::json!({"replicas": 0, "conditions": [
        {"type": "Ready", "status": "False", "reason": "WaitingForNodes"},
    ]});
    let joined_later = input.clone();
    input
        .observed
        .retain(|o| o["kind"] != "Release" && o["spec"]["by"]["kind"] != "Release");
    let out = Outcome::of(support::render_input(&input));
    assert_eq!(out.fatal(), None);
    assert!(
        !out.composed.contains_key("release-argocd"),
        "{:?}",
        out.names()
    );
    assert!(out.composed.contains_key("namespace-ksp-system"));
    let (_, reason, _) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForNodes");
    // Releases that exist are kept while nodes come and go, in the namespace they are
    // installed in (Helm would install a moved one anew beside the old one).
    let mut joined_later = joined_later;
    let argocd = joined_later
        .observed
        .iter_mut()
        .find(|o| o["kind"] == "Release" && o["spec"]["forProvider"]["chart"]["name"] == "argo-cd")
        .unwrap();
    argocd["spec"]["forProvider"]["namespace"] = "gitops".into();
    let kept = Outcome::of(support::render_input(&joined_later));
    assert_eq!(
        kept.manifest("release-argocd")["spec"]["forProvider"]["namespace"],
        "gitops"
    );
    assert!(
        kept.warnings()
            .iter()
            .any(|w| w.contains("stays in namespace gitops")),
        "{:?}",
        kept.warnings()
    );
    let release = kept.manifest("release-argocd");
    assert_eq!(release["spec"]["rollbackLimit"], 3);
    assert_eq!(
        kept.manifest("usage-node-pool-default-by-release-argocd")["spec"]["of"]["kind"],
        "NodePool"
    );
}

#[test]
fn the_fatal_fixtures_name_their_field() {
    for (name, path) in [
        ("05-refused-namespace-without-labels", "metadata.namespace"),
        (
            "07-refused-version-without-release-image",
            "spec.parameters.version",
        ),
    ] {
        let out = run(name);
        let message = out.fatal().unwrap_or_else(|| panic!("{name}: a Fatal"));
        assert!(message.contains(&format!("{path}: ")), "{name}: {message}");
        assert_eq!(out.condition("Valid").1, "InvalidSpec");
        assert!(out.composed.is_empty(), "{name}: nothing composed");
    }
}

#[test]
fn the_organisation_can_come_from_the_namespace_labels() {
    let out = run("06-organisation-from-namespace-labels");
    assert_eq!(out.fatal(), None);
    let labels = &out.manifest("hosted-cluster")["metadata"]["labels"];
    assert_eq!(labels["stakater.com/org"], "acme");
    assert_eq!(labels["sco.stakater.com/project"], "frontend");
    // The namespace's MTO label names the Tenant (acme-frontend), not the project.
    assert_eq!(labels.get("stakater.com/tenant"), None);
}

#[test]
fn a_node_pool_waits_for_its_cluster_then_creates() {
    let pool = |name: &str| Outcome::of(render_case(&stage("openshiftnodepool", name)).1);
    for name in ["01-waiting-for-cluster", "02-cluster-not-available"] {
        let out = pool(name);
        assert_eq!(out.fatal(), None);
        assert!(out.composed.is_empty(), "{name}");
        assert_eq!(out.status["phase"], "WaitingForCluster");
        assert_eq!(out.condition("ResourcesReady").1, "WaitingForCluster");
        assert_eq!(out.status["clusterRef"]["available"], false);
    }
    let out = pool("03-creating");
    assert_eq!(out.status["phase"], "Creating");
    assert_eq!(out.status["clusterRef"]["available"], true);
    assert_eq!(
        out.manifest("node-pool")["spec"]["release"]["image"],
        "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64"
    );
}

/// The pool `dev-batch` of stage `03-creating`, observed running `image` with three nodes.
fn running_pool(image: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "hypershift.openshift.io/v1beta1",
        "kind": "NodePool",
        "metadata": {
            "name": "dev-batch",
            "namespace": "ws-frontend-clusters",
            "annotations": {"crossplane.io/composition-resource-name": "node-pool"},
        },
        "spec": {"release": {"image": image}, "management": {"upgradeType": "InPlace"}},
        "status": {"replicas": 3, "conditions": [{"type": "Ready", "status": "True"}]},
    })
}

#[test]
fn a_node_pool_goes_when_its_parent_is_being_deleted() {
    // Deleted in the foreground, the parent stays until its HostedCluster is gone, which the
    // pool's Usage holds: a pool kept while its parent is being deleted would hold both.
    let mut input = support::case_input(&stage("openshiftnodepool", "03-creating"));
    assert!(
        Outcome::of(support::render_input(&input))
            .composed
            .contains_key("node-pool")
    );
    let parent = observed_of(&mut input.required, "OpenShiftCluster");
    parent["metadata"]["deletionTimestamp"] = "2026-09-01T10:00:00Z".into();
    let out = Outcome::of(support::render_input(&input));
    assert_eq!(out.fatal(), None);
    assert!(out.composed.is_empty(), "{:?}", out.names());
    let (_, reason, message) = out.condition("ResourcesReady");
    assert_eq!(reason, "WaitingForCluster");
    assert!(message.contains("being deleted"), "{message}");
}

#[test]
fn a_node_pool_follows_the_release_its_control_plane_rolled_out() {
    // The cluster is being upgraded to 4.19.10 from 4.19.9: HyperShift reports a pool newer
    // than the control plane's last Completed release outside the supported skew, so the
    // pool keeps 4.19.9 until the control plane completes, and then moves.
    const OLD: &str = "quay.io/openshift-release-dev/ocp-release:4.19.9-x86_64";
    const NEW: &str = "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64";
    let mut input = support::case_input(&stage("openshiftnodepool", "03-creating"));
    let render = |input: &function_sco::sdk::render::RenderInput| {
        let out = Outcome::of(support::render_input(input));
        assert_eq!(out.fatal(), None);
        out.manifest("node-pool")["spec"]["release"]["image"].clone()
    };
    let hosted = observed_of(&mut input.required, "HostedCluster");
    assert_eq!(hosted["spec"]["release"]["image"], NEW);
    hosted["status"]["version"]["history"] = serde_json::json!([
        {"state": "Partial", "image": NEW, "version": "4.19.10"},
        {"state": "Completed", "image": OLD, "version": "4.19.9"},
    ]);
    // A new pool starts on the release the control plane runs.
    assert_eq!(render(&input), OLD);
    input.observed.push(running_pool(OLD));
    assert_eq!(render(&input), OLD);
    let hosted = observed_of(&mut input.required, "HostedCluster");
    hosted["status"]["version"]["history"][0]["state"] = "Completed".into();
    assert_eq!(render(&input), NEW);
}

/// Sets the `Available` condition of the HostedCluster among `objects` to False.
/// The first observed object of `kind` in `observed`, to change a stage's observed state.
fn observed_of<'a>(observed: &'a mut [serde_json::Value], kind: &str) -> &'a mut serde_json::Value {
    observed
        .iter_mut()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("a {kind} is observed"))
}

fn control_plane_unavailable(objects: &mut [serde_json::Value]) {
    let hosted = objects
        .iter_mut()
        .find(|o| o["kind"] == "HostedCluster")
        .expect("a HostedCluster is observed");
    let conditions = hosted["status"]["conditions"]
        .as_array_mut()
        .expect("the HostedCluster has conditions");
    let available = conditions
        .iter_mut()
        .find(|c| c["type"] == "Available")
        .expect("an Available condition");
    available["status"] = "False".into();
    available["reason"] = "KubeAPIServerUnavailable".into();
}

#[test]
fn an_unavailable_control_plane_keeps_everything_composed() {
    // Crossplane deletes whatever a function leaves out of the desired state: a control
    // plane restart or an upgrade must not take the bindings, the add-ons or the bootstrap
    // releases with it.
    let dir = root().join("examples/openshiftcluster/public-kubevirt-addons");
    let input = support::case_input(&dir);
    let available = Outcome::of(support::render_input(&input));
    let mut unavailable_input = input.clone();
    control_plane_unavailable(&mut unavailable_input.observed);
    // A control plane made anew (a restore) reports no OAuth callback until its
    // infrastructure is up again: the Keycloak client keeps its redirect URI (regression: it
    // was left out, so deleted and recreated with another ID).
    let hosted = observed_of(&mut unavailable_input.observed, "HostedCluster");
    assert!(
        hosted["status"]
            .as_object_mut()
            .unwrap()
            .remove("oauthCallbackURLTemplate")
            .is_some()
    );
    let unavailable = Outcome::of(support::render_input(&unavailable_input));
    assert_eq!(unavailable.fatal(), None);
    assert_eq!(
        unavailable.manifest("keycloak-client"),
        available.manifest("keycloak-client")
    );
    for gated in [
        "keycloak-client",
        "keycloak-groups-mapper",
        "binding-admin",
        "guest-router-nodeports",
        "ingress-service",
        "release-argocd",
    ] {
        assert!(
            available.composed.contains_key(gated),
            "{gated}: {:?}",
            available.names()
        );
    }
    assert_eq!(unavailable.names(), available.names());
    assert!(!unavailable.ready("hosted-cluster"));
    assert_ne!(unavailable.status["phase"], "Ready");
    // The cluster has rolled out a release: its console URL stays where consumers read it.
    assert_eq!(
        unavailable.status["consoleUrl"],
        available.status["consoleUrl"]
    );
    assert!(available.status["consoleUrl"].is_string());
    assert_eq!(
        unavailable.manifest("connection")["data"]["consoleUrl"],
        available.manifest("connection")["data"]["consoleUrl"]
    );
}

#[test]
fn a_node_pool_is_kept_as_it_runs_while_its_cluster_is_unavailable() {
    let dir = stage("openshiftnodepool", "03-creating");
    let mut input = support::case_input(&dir);
    control_plane_unavailable(&mut input.required);
    input.observed.push(running_pool(
        "quay.io/openshift-release-dev/ocp-release:4.19.9-x86_64",
    ));
    let out = Outcome::of(support::render_input(&input));
    assert_eq!(out.fatal(), None);
    let spec = &out.manifest("node-pool")["spec"];
    assert_eq!(
        spec["release"]["image"], "quay.io/openshift-release-dev/ocp-release:4.19.9-x86_64",
        "the running release, not a new one"
    );
    assert_eq!(
        spec["management"]["upgradeType"], "InPlace",
        "immutable: kept"
    );
    assert!(
        out.composed
            .contains_key("usage-hosted-cluster-by-node-pool")
    );
    assert_eq!(out.status["phase"], "WaitingForCluster");
    assert_eq!(out.status["clusterRef"]["available"], false);
    assert_eq!(out.condition("ResourcesReady").1, "WaitingForCluster");

    // Without a pool yet, nothing is created while the cluster is unavailable.
    input.observed.pop();
    let out = Outcome::of(support::render_input(&input));
    assert!(out.composed.is_empty(), "{:?}", out.names());
}
