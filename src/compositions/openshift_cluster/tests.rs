use crate::sdk::resource::Name;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::compositions::secrets::{Credentials, SEED_CREDENTIAL, SEED_KEY};
use crate::compositions::{Desired, Observed};
use crate::sdk::request::ObservedComposed;

const UID: &str = "3f6c2a10-8b1e-4c57-9d2a-6b0e5f4c7a21";
const IMAGE: &str = "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64";

fn composite(parameters: Value) -> Value {
    json!({
        "apiVersion": "kubernetes.cloud.stakater.com/v1",
        "kind": "OpenShiftCluster",
        "metadata": {
            "name": "dev",
            "namespace": "ws-frontend-clusters",
            "uid": UID,
            "annotations": {WORKSPACE_PATH_ANNOTATION: "root:acme:frontend"},
        },
        "spec": {"parameters": parameters},
    })
}

fn settings(value: Value) -> Settings {
    let mut layer = json!({"openshiftCluster": {"releaseImages": {"4.19": IMAGE}}});
    crate::sdk::response::merge(&mut layer["openshiftCluster"], &value);
    crate::config::Config::resolve(Some(&layer), None)
        .expect("valid settings")
        .of::<OpenShiftCluster>()
        .clone()
}

/// A bare-metal platform: Agents in `hardware`, only `medium` labelled, a base domain.
fn agent_settings() -> Settings {
    settings(json!({
        "platform": "Agent",
        "agentNamespace": "hardware",
        "baseDomain": "cloud.example.com",
        "agentLabels": {"medium": {"sco.stakater.com/size": "medium"}},
    }))
}

fn credentials(seed: &[u8], pull_secret: bool) -> Credentials {
    let mut creds = BTreeMap::from([(
        SEED_CREDENTIAL.to_owned(),
        BTreeMap::from([(SEED_KEY.to_owned(), seed.to_vec())]),
    )]);
    if pull_secret {
        creds.insert(
            "sco-pull-secret".into(),
            BTreeMap::from([(".dockerconfigjson".to_owned(), br#"{"auths":{}}"#.to_vec())]),
        );
    }
    Credentials(creds)
}

struct Case {
    xr: Value,
    observed: Vec<(&'static str, Value)>,
    required: BTreeMap<String, Vec<Value>>,
    settings: Settings,
    platform: Platform,
    credentials: Credentials,
}

impl Case {
    fn new(parameters: Value) -> Self {
        Self {
            xr: composite(parameters),
            observed: Vec::new(),
            required: BTreeMap::new(),
            settings: settings(json!({})),
            platform: {
                let mut platform = Platform::default();
                platform.keycloak.url =
                    Some(serde_json::from_value(json!("https://sso.example.com")).unwrap());
                platform
            },
            credentials: credentials(&[7; 32], true),
        }
    }

    /// Observes the HostedCluster with `spec` and no status.
    fn observe_hosted_cluster(&mut self, spec: Value) {
        self.observed = vec![(names::HOSTED_CLUSTER, hosted_cluster(spec, json!({})))];
    }

    fn render(&self) -> Result<Desired, Invalid> {
        let xr: spec::OpenShiftCluster =
            serde_json::from_value(self.xr.clone()).expect("a valid XR");
        let resources: BTreeMap<Name, ObservedComposed> = self
            .observed
            .iter()
            .map(|(name, v)| (Name::from(*name), ObservedComposed::new(v, BTreeMap::new())))
            .collect();
        let observed = Observed {
            resources: &resources,
            required: &self.required,
            credentials: &self.credentials,
        };
        OpenShiftCluster::render(
            &xr,
            Context {
                observed: &observed,
                platform: &self.platform,
                settings: &self.settings,
            },
        )
    }

    fn errors(&self) -> Vec<(String, String)> {
        let Invalid(errors) = self.render().expect_err("a rule is broken");
        errors.into_iter().map(|e| (e.path, e.message)).collect()
    }

    /// The one error's path and message.
    fn error(&self) -> (String, String) {
        let errors = self.errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }
}

fn manifest(desired: &Desired, name: &str) -> Value {
    desired.resources[&Name::from(name)].manifest.to_json()
}

fn hosted_cluster(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "hypershift.openshift.io/v1beta1",
        "kind": "HostedCluster",
        "metadata": {"name": "dev", "namespace": "ws-frontend-clusters"},
        "spec": spec,
        "status": status,
    })
}

fn available() -> Value {
    json!({
        "conditions": [{"type": "Available", "status": "True", "reason": "AsExpected"}],
        "controlPlaneEndpoint": {"host": "a1b2c3.lb.example.com", "port": 6443},
        "kubeconfig": {"name": "dev-admin-kubeconfig"},
        "version": {"history": [{"state": "Completed", "version": "4.19.10"}]},
    })
}

#[test]
fn a_cluster_name_that_makes_the_control_plane_namespace_too_long_is_refused() {
    let name = "a".repeat(43);
    let (path, message) = Case::new(json!({"clusterName": name})).error();
    assert_eq!(path, "spec.parameters.clusterName");
    assert!(
        message.contains("would have 64 characters")
            && message.ends_with("use at most 42 characters"),
        "{message}"
    );
    assert!(
        Case::new(json!({"clusterName": "a".repeat(42)}))
            .render()
            .is_ok()
    );
}

#[test]
fn a_cluster_name_too_long_for_the_base_domain_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    // 245 characters: a valid domain, but *.apps.dev.<base> has 256.
    let base = format!(
        "{}.{}.example.com",
        vec!["b".repeat(60); 3].join("."),
        "c".repeat(50)
    );
    assert_eq!(base.len(), 245);
    case.settings = settings(json!({"baseDomain": base}));
    let (path, message) = case.error();
    assert_eq!(path, "spec.parameters.clusterName");
    assert!(message.contains("at most 253"), "{message}");
    // At the limit: *.apps.dev.<base> of exactly 253 characters is a DNS name, 254 is not.
    for (extra, fits) in [(0, true), (1, false)] {
        let base = format!(
            "{}.{}.example.com",
            vec!["b".repeat(60); 3].join("."),
            "c".repeat(47 + extra)
        );
        assert_eq!(format!("*.apps.dev.{base}").len(), 253 + extra);
        let mut case = Case::new(json!({"clusterName": "dev"}));
        case.settings = settings(json!({"baseDomain": base}));
        assert_eq!(case.render().is_ok(), fits, "{} characters", 253 + extra);
    }
}

#[test]
fn a_version_without_release_image_is_refused() {
    let (path, message) = Case::new(json!({"clusterName": "dev", "version": "4.18"})).error();
    assert_eq!(path, "spec.parameters.version");
    assert_eq!(
        message,
        "4.18 has no release image on this platform; choose another version, or ask the platform team to set openshiftCluster.releaseImages.\"4.18\""
    );
}

#[test]
fn a_size_missing_from_the_size_table_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev", "defaultNodepool": {"size": "xlarge"}}));
    case.settings.sizes.xlarge = None;
    let (path, message) = case.error();
    assert_eq!(path, "spec.parameters.defaultNodepool.size");
    assert!(
        message.starts_with(
            "xlarge is not in this platform's size table (it has small, medium, large)"
        ),
        "{message}"
    );
    // Without a default pool the size does not matter.
    case.xr = composite(
        json!({"clusterName": "dev", "defaultNodepool": {"enabled": false, "size": "xlarge"}}),
    );
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::DEFAULT_NODE_POOL))
    );
}

#[test]
fn an_agent_size_without_labels_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev", "defaultNodepool": {"size": "large"}}));
    case.settings = agent_settings();
    let (path, message) = case.error();
    assert_eq!(path, "spec.parameters.defaultNodepool.size");
    assert!(
        message.contains("sizes with Agent labels: medium"),
        "{message}"
    );
}

#[test]
fn an_existing_cluster_keeps_its_platform_for_its_nodes_when_the_setting_changes() {
    // The platform moved to Agent; the KubeVirt cluster made before keeps KubeVirt nodes
    // (a NodePool's platform.type is immutable, and must match its HostedCluster's).
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = agent_settings();
    let platform = |desired: &Desired| {
        manifest(desired, names::DEFAULT_NODE_POOL)["spec"]["platform"]["type"].clone()
    };
    assert_eq!(platform(&case.render().unwrap()), "Agent", "a new cluster");
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(
            json!({"platform": {"type": "KubeVirt", "kubevirt": {"baseDomainPassthrough": true}}}),
            available(),
        ),
    )];
    assert_eq!(
        platform(&case.render().unwrap()),
        "KubeVirt",
        "the existing one"
    );
}

#[test]
fn replicas_out_of_range_are_refused() {
    let (path, message) =
        Case::new(json!({"clusterName": "dev", "defaultNodepool": {"replicas": 11}})).error();
    assert_eq!(path, "spec.parameters.defaultNodepool.replicas");
    assert_eq!(message, "11 is out of range: use 1 to 10 nodes");
}

#[test]
fn private_needs_the_platforms_node_port_address() {
    let (path, message) =
        Case::new(json!({"clusterName": "dev", "networking": {"mode": "private"}})).error();
    assert_eq!(path, "spec.parameters.networking.mode");
    assert!(
        message.contains("openshiftCluster.private.nodePortAddress"),
        "{message}"
    );
}

#[test]
fn an_existing_cluster_keeps_its_generated_id_and_api_server_allow_list() {
    // HyperShift's webhook gives a KubeVirt cluster a random generateID (immutable, required
    // once set) and refuses any spec.networking change without an acknowledgement.
    let mut case = Case::new(json!({"clusterName": "dev", "networking": {"mode": "private"}}));
    case.settings.private.node_port_address = Some("10.0.0.9".into());
    case.settings.private.allowed_cidrs = vec!["10.0.0.0/16".parse().unwrap()];
    let spec =
        |case: &Case| manifest(&case.render().unwrap(), names::HOSTED_CLUSTER)["spec"].clone();
    let new = spec(&case);
    assert_eq!(new["platform"]["kubevirt"].get("generateID"), None);
    assert_eq!(
        new["networking"]["apiServer"]["allowedCIDRBlocks"],
        json!(["10.0.0.0/16"])
    );

    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(
            json!({
                "platform": {"type": "KubeVirt", "kubevirt": {"baseDomainPassthrough": true, "generateID": "k7x2p9q4rz"}},
                "networking": {"apiServer": {"allowedCIDRBlocks": ["10.0.0.0/8"]}},
                "services": new["services"],
            }),
            available(),
        ),
    )];
    let kept = spec(&case);
    assert_eq!(kept["platform"]["kubevirt"]["generateID"], "k7x2p9q4rz");
    assert_eq!(
        kept["networking"]["apiServer"]["allowedCIDRBlocks"],
        json!(["10.0.0.0/8"]),
        "a changed allow list applies to new clusters only"
    );
}

#[test]
fn a_private_cluster_without_an_allow_list_writes_no_empty_one() {
    // HyperShift's own typed updates drop `allowedCIDRBlocks: []`, and its webhook tells the
    // dropped list from the stored empty one (reflect.DeepEqual) and refuses them.
    let mut case = Case::new(json!({"clusterName": "dev", "networking": {"mode": "private"}}));
    case.settings.private.node_port_address = Some("10.0.0.9".into());
    let networking =
        manifest(&case.render().unwrap(), names::HOSTED_CLUSTER)["spec"]["networking"].clone();
    assert_eq!(networking.get("apiServer"), None, "{networking}");
}

#[test]
fn an_existing_cluster_gets_no_machine_network_the_settings_add_later() {
    // The webhook refuses any spec.networking change on a running cluster, a machine network
    // added to an empty list included.
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let observed_networking = json!({
        "clusterNetwork": [{"cidr": "10.132.0.0/14", "hostPrefix": 23}],
        "serviceNetwork": [{"cidr": "172.31.0.0/16"}],
    });
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(
            json!({
                "platform": {"type": "KubeVirt", "kubevirt": {"generateID": "k7x2p9q4rz"}},
                "networking": observed_networking,
            }),
            available(),
        ),
    )];
    case.settings.networks.machine_network = Some("192.168.0.0/24".parse().unwrap());
    let networking =
        manifest(&case.render().unwrap(), names::HOSTED_CLUSTER)["spec"]["networking"].clone();
    assert_eq!(
        networking
            .get("machineNetwork")
            .cloned()
            .unwrap_or(json!([])),
        json!([]),
        "{networking}"
    );
    assert_eq!(
        networking["clusterNetwork"],
        json!([{"cidr": "10.132.0.0/14", "hostPrefix": 23}])
    );
}

#[test]
fn a_private_cluster_keeps_the_node_port_address_it_was_published_on() {
    // HostedCluster spec.services is immutable ("Services is immutable"): a platform team
    // moving private.nodePortAddress changes new clusters only.
    let mut case = Case::new(json!({"clusterName": "dev", "networking": {"mode": "private"}}));
    case.settings.private.node_port_address = Some("10.0.0.9".into());
    let published = |address: &str| {
        let services: Vec<Value> = ["APIServer", "OAuthServer", "Konnectivity", "Ignition"]
            .iter()
            .map(|s| {
                json!({
                    "service": s,
                    "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": address}},
                })
            })
            .collect();
        json!({ "services": services })
    };
    let addresses = |desired: &Desired| -> Vec<String> {
        manifest(desired, names::HOSTED_CLUSTER)["spec"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["servicePublishingStrategy"]["nodePort"]["address"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        addresses(&case.render().unwrap()),
        ["10.0.0.9"; 4],
        "new: the setting"
    );
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(published("10.0.0.5"), json!({})),
    )];
    assert_eq!(
        addresses(&case.render().unwrap()),
        ["10.0.0.5"; 4],
        "existing: kept"
    );
    // ... even when the platform no longer offers private clusters at all.
    case.settings.private.node_port_address = None;
    assert_eq!(
        addresses(&case.render().unwrap()),
        ["10.0.0.5"; 4],
        "still kept"
    );
}

#[test]
fn reserved_and_malformed_group_names_are_refused() {
    let case = Case::new(json!({"clusterName": "dev", "access": {"groups": [
        {"name": "cluster-admin", "role": "admin"},
        {"name": "ops-cluster-admin", "role": "view"},
        {"name": "Ops_Team", "role": "edit"},
        {"name": "ops.team", "role": "edit"},
    ]}}));
    let errors = case.errors();
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.access.groups[0].name",
            "spec.parameters.access.groups[1].name",
            "spec.parameters.access.groups[2].name"
        ]
    );
    assert!(errors[0].1.contains("is reserved"), "{}", errors[0].1);
    assert!(errors[1].1.contains("is reserved"), "{}", errors[1].1);
    assert!(
        errors[2].1.contains("not an RFC 1123 subdomain"),
        "{}",
        errors[2].1
    );
}

#[test]
fn immutable_fields_cannot_change() {
    let mut case = Case::new(json!({"clusterName": "prod"}));
    case.observe_hosted_cluster(
        json!({
            "dns": {"baseDomain": "old.example.com"},
            "services": [{"service": "APIServer", "servicePublishingStrategy": {"type": "NodePort", "nodePort": {"address": "10.0.0.5"}}}],
        }),
    );
    let errors = case.errors();
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.clusterName",
            "spec.parameters.networking.mode",
            "platform openshiftCluster.baseDomain"
        ]
    );
    assert!(
        errors[0]
            .1
            .starts_with("cannot change from \"dev\" to \"prod\"")
    );
    assert!(
        errors[1]
            .1
            .starts_with("cannot change from private to public")
    );
    assert!(
        errors[2]
            .1
            .starts_with("cannot change from \"old.example.com\" to \"\"")
    );
}

#[test]
fn a_missing_pull_secret_or_seed_names_the_credential() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.credentials = credentials(&[7; 32], false);
    let (path, message) = case.error();
    assert_eq!(path, "credentials.sco-pull-secret");
    assert!(message.contains("never from the XR"), "{message}");
    assert_eq!(case.render().unwrap_err().reason(), "MissingCredential");

    case.credentials = Credentials(BTreeMap::from([(
        "sco-pull-secret".to_owned(),
        BTreeMap::from([(".dockerconfigjson".to_owned(), b"{}".to_vec())]),
    )]));
    let (path, _) = case.error();
    assert_eq!(path, "credentials.sco-seed");
}

#[test]
fn the_organisation_comes_from_the_annotation_or_the_namespace() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.xr["metadata"]["annotations"][WORKSPACE_PATH_ANNOTATION] = json!("root:acme");
    let (path, message) = case.error();
    assert_eq!(
        path,
        format!("metadata.annotations[{WORKSPACE_PATH_ANNOTATION}]")
    );
    assert!(message.contains("is not a project workspace"), "{message}");

    case.xr["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let waiting = case.render().unwrap();
    assert_eq!(waiting.waiting.unwrap().reason, "WaitingForNamespace");
    assert!(waiting.resources.is_empty());
    assert!(
        waiting
            .requirements
            .contains_key(names::NAMESPACE_REQUIREMENT)
    );
    assert_eq!(waiting.status["phase"], "Initializing");

    case.required.insert(
        names::NAMESPACE_REQUIREMENT.into(),
        vec![json!({"metadata": {"name": "ws-frontend-clusters", "labels": {}}})],
    );
    let (path, message) = case.error();
    assert_eq!(path, "metadata.namespace");
    assert!(
        message.contains("the organisation and project are unknown"),
        "{message}"
    );

    case.required.insert(
        names::NAMESPACE_REQUIREMENT.into(),
        vec![
            // As the Project's Tenant labels it: MTO's tenant label holds the Tenant's name.
            json!({"metadata": {"name": "ws-frontend-clusters", "labels": {
            "stakater.com/org": "globex", "stakater.com/tenant": "globex-frontend",
            "sco.stakater.com/project": "frontend"}}}),
        ],
    );
    let desired = case.render().unwrap();
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(hc["metadata"]["labels"]["stakater.com/org"], "globex");
    // An empty label says no more than a missing one.
    let mut empty = Case::new(json!({"clusterName": "dev"}));
    empty.xr["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    empty.required.insert(
        names::NAMESPACE_REQUIREMENT.into(),
        vec![
            json!({"metadata": {"name": "ws-frontend-clusters", "labels": {
            "stakater.com/org": "globex", "sco.stakater.com/project": ""}}}),
        ],
    );
    assert_eq!(empty.error().0, "metadata.namespace");
    assert_eq!(
        hc["metadata"]["labels"]["sco.stakater.com/project"],
        "frontend"
    );
    assert_eq!(hc["metadata"]["labels"].get("stakater.com/tenant"), None);
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let mut case = Case::new(json!({
        "clusterName": "dev",
        "version": "4.20",
        "networking": {"mode": "private"},
        "defaultNodepool": {"replicas": 0},
        "access": {"groups": [{"name": "cluster-admin", "role": "admin"}]},
    }));
    case.credentials = Credentials::default();
    let paths: Vec<String> = case.errors().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.version",
            "spec.parameters.defaultNodepool.replicas",
            "spec.parameters.networking.mode",
            "spec.parameters.access.groups[0].name",
            "credentials.sco-pull-secret",
            "credentials.sco-seed"
        ]
    );
}

/// The observed encryption key Secret holding `value`.
fn key_secret(value: &str) -> Value {
    use base64::Engine as _;
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dev-etcd-encryption-key"},
           "data": {"key": base64::engine::general_purpose::STANDARD.encode(value)}})
}

fn key_of(desired: &Desired) -> String {
    use base64::Engine as _;
    let encoded = manifest(desired, names::ENCRYPTION_KEY)["data"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn the_encryption_key_never_changes_once_observed() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let first = key_of(&case.render().unwrap());
    assert_eq!(first.len(), ENCRYPTION_KEY_LENGTH);
    // A restarted function derives the same key from the same seed and uid.
    assert_eq!(key_of(&case.render().unwrap()), first);
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["secretEncryption"],
        json!({"type": "aescbc", "aescbc": {"activeKey": {"name": "dev-etcd-encryption-key"}}})
    );

    // Once observed, a later reconcile keeps it, even after the seed is rotated.
    case.observed = vec![(names::ENCRYPTION_KEY, key_secret(&first))];
    case.credentials = credentials(&[9; 32], true);
    assert_eq!(key_of(&case.render().unwrap()), first);
    // The new seed would have derived another key: the kept one is read back.
    case.observed.clear();
    assert_ne!(key_of(&case.render().unwrap()), first);
    // Whatever the observed Secret holds is kept, even one written by someone else.
    case.observed = vec![(
        names::ENCRYPTION_KEY,
        key_secret("kept-from-an-earlier-version-0001"),
    )];
    assert_eq!(
        key_of(&case.render().unwrap()),
        "kept-from-an-earlier-version-0001"
    );
}

#[test]
fn phases_follow_the_observed_hosted_cluster_and_node_pool() {
    let mut case = Case::new(json!({"clusterName": "dev", "defaultNodepool": {"replicas": 2}}));
    let desired = case.render().unwrap();
    assert_eq!(desired.status["phase"], "Initializing");
    assert_eq!(desired.status["ready"], false);
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForControlPlane"
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::CONNECTION))
    );

    let secret = |name: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": {}});
    let usage_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let pool = |replicas: u32, ready: &str| json!({"status": {"replicas": replicas, "conditions": [{"type": "Ready", "status": ready}]}});
    let desired_key = key_of(&desired);
    case.observed = vec![
        (
            names::HOSTED_CLUSTER,
            hosted_cluster(json!({}), with_callback(available())),
        ),
        (names::ENCRYPTION_KEY, key_secret(&desired_key)),
        (names::PULL_SECRET, secret("dev-pull-secret")),
        (names::DEFAULT_NODE_POOL, pool(1, "False")),
        (
            names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL,
            usage_ready.clone(),
        ),
        (names::OIDC_CLIENT_SECRET, secret("dev-oidc-client")),
        (names::KEYCLOAK_CLIENT, usage_ready.clone()),
        (names::KEYCLOAK_GROUPS_MAPPER, usage_ready.clone()),
        (names::PROVIDER_CONFIG, secret("dev-admin")),
        (
            names::USAGE_HOSTED_CLUSTER_BY_PROVIDER_CONFIG,
            usage_ready.clone(),
        ),
    ];
    let desired = case.render().unwrap();
    assert_eq!(desired.status["phase"], "RegistrationPending");
    assert_eq!(desired.status["version"], "4.19.10");
    assert_eq!(
        desired.status["apiEndpoint"],
        "https://a1b2c3.lb.example.com:6443"
    );
    assert!(
        desired.status["message"]
            .as_str()
            .unwrap()
            .contains("the node pool's nodes to join"),
        "{}",
        desired.status["message"]
    );
    assert!(
        desired
            .resources
            .contains_key(&Name::from(names::CONNECTION))
    );
    assert!(
        desired
            .requirements
            .contains_key(names::ADMIN_KUBECONFIG_REQUIREMENT),
        "the admin kubeconfig Secret is fetched for its CA"
    );

    case.observed[3] = (names::DEFAULT_NODE_POOL, pool(2, "True"));
    case.observed
        .push((names::CONNECTION, secret("dev-connection")));
    let desired = case.render().unwrap();
    assert_eq!(desired.status["phase"], "Ready", "{:?}", desired.status);
    assert_eq!(desired.status["ready"], true);
    assert!(desired.ready());
}

#[test]
fn the_default_pool_follows_the_release_the_control_plane_rolled_out() {
    // Upgrading 4.19.8 -> 4.19.10: HyperShift reports a pool newer than the control plane's
    // last Completed release outside the supported skew, so the pool waits for it.
    const OLD: &str = "quay.io/openshift-release-dev/ocp-release:4.19.8-x86_64";
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let pool_release = |case: &Case| {
        manifest(&case.render().unwrap(), names::DEFAULT_NODE_POOL)["spec"]["release"]["image"]
            .clone()
    };
    let cluster = |history: Value| {
        let mut status = available();
        status["version"] = json!({"desired": {"image": IMAGE}, "history": history});
        (
            names::HOSTED_CLUSTER,
            hosted_cluster(json!({"release": {"image": IMAGE}}), status),
        )
    };
    let running = (
        names::DEFAULT_NODE_POOL,
        json!({"spec": {"release": {"image": OLD}}, "status": {"replicas": 2}}),
    );
    case.observed = vec![
        cluster(json!([
            {"state": "Partial", "image": IMAGE, "version": "4.19.10"},
            {"state": "Completed", "image": OLD, "version": "4.19.8"},
        ])),
        running.clone(),
    ];
    assert_eq!(pool_release(&case), OLD);
    case.observed = vec![
        cluster(json!([
            {"state": "Completed", "image": IMAGE, "version": "4.19.10"},
            {"state": "Completed", "image": OLD, "version": "4.19.8"},
        ])),
        running,
    ];
    assert_eq!(pool_release(&case), IMAGE);
}

#[test]
fn the_connection_secret_never_holds_the_admin_credentials() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), available()),
    )];
    let admin = "apiVersion: v1\nkind: Config\nclusters:\n- name: dev\n  cluster:\n    server: https://a1b2c3.lb.example.com:6443\n    certificate-authority-data: Q0EtUEVN\ncontexts:\n- name: admin\n  context: {cluster: dev, user: admin}\ncurrent-context: admin\nusers:\n- name: admin\n  user:\n    client-certificate-data: QURNSU4tQ0VSVA==\n    client-key-data: QURNSU4tS0VZ\n";
    case.required.insert(
        names::ADMIN_KUBECONFIG_REQUIREMENT.into(),
        vec![json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dev-admin-kubeconfig"},
                    "data": {"kubeconfig": b64(admin)}})],
    );
    let desired = case.render().unwrap();
    let data = manifest(&desired, names::CONNECTION)["data"].clone();
    let decode = |k: &str| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(data[k].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(decode("ca.crt"), "CA-PEM");
    assert_eq!(decode("apiEndpoint"), "https://a1b2c3.lb.example.com:6443");
    let kubeconfig = decode("kubeconfig");
    let parsed: Value = serde_norway::from_str(&kubeconfig).unwrap();
    assert_eq!(
        parsed["clusters"][0]["cluster"]["certificate-authority-data"], "Q0EtUEVN",
        "{kubeconfig}"
    );
    assert!(
        !kubeconfig.contains("QURNSU4"),
        "no admin credential: {kubeconfig}"
    );
}

#[test]
fn private_clusters_publish_node_ports_on_the_management_address() {
    let mut case = Case::new(json!({"clusterName": "dev", "networking": {"mode": "private"}}));
    case.settings = settings(json!({"private": {
        "nodePortAddress": "api-int.mgmt.cloud.example.com",
        "allowedCidrs": ["10.0.0.0/16"],
    }}));
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    let services = hc["spec"]["services"].as_array().unwrap();
    assert_eq!(services.len(), 4);
    for s in services {
        assert_eq!(
            s["servicePublishingStrategy"],
            json!({"type": "NodePort", "nodePort": {"address": "api-int.mgmt.cloud.example.com"}})
        );
    }
    assert_eq!(
        hc["spec"]["networking"]["apiServer"]["allowedCIDRBlocks"],
        json!(["10.0.0.0/16"])
    );
}

#[test]
fn agent_clusters_name_their_agent_namespace_and_upgrade_in_place() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = agent_settings();
    let desired = case.render().unwrap();
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["platform"],
        json!({"type": "Agent", "agent": {"agentNamespace": "hardware"}})
    );
    let pool = manifest(&desired, names::DEFAULT_NODE_POOL);
    assert_eq!(pool["spec"]["management"]["upgradeType"], "InPlace");
    assert_eq!(
        pool["spec"]["platform"],
        json!({"type": "Agent", "agent": {"agentLabelSelector": {"matchLabels": {"sco.stakater.com/size": "medium"}}}})
    );
}

#[test]
fn a_new_agent_or_none_cluster_needs_a_base_domain() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    for platform in ["None", "Agent"] {
        case.settings = settings(json!({
            "platform": platform,
            "agentNamespace": "hardware",
            "agentLabels": {"medium": {"sco.stakater.com/size": "medium"}},
        }));
        let (path, message) = case.error();
        assert_eq!(path, "platform openshiftCluster.baseDomain");
        assert!(message.contains("\"dev.\""), "{message}");
    }
    // KubeVirt defaults one (passthrough); an existing cluster keeps what it was made with.
    case.settings = settings(json!({}));
    assert!(case.render().is_ok());
    case.settings = settings(json!({"platform": "None"}));
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({"platform": {"type": "None"}}), available()),
    )];
    assert!(case.render().is_ok());
}

#[test]
fn none_clusters_warn_that_sizes_select_nothing_and_are_ready_once_nodes_can_join() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = settings(json!({"platform": "None", "baseDomain": "cloud.example.com"}));
    let desired = case.render().unwrap();
    assert_eq!(
        manifest(&desired, names::DEFAULT_NODE_POOL)["spec"]["platform"],
        json!({"type": "None"})
    );
    assert_eq!(desired.warnings.len(), 1);
    assert!(desired.warnings[0].contains("selects nothing on platform None"));

    // HyperShift never reports Ready or replicas for a None pool (it manages no machines):
    // the pool is ready once its ignition payload is served.
    let pool_ready =
        |case: &Case| case.render().unwrap().resources[&Name::from(names::DEFAULT_NODE_POOL)].ready;
    case.observed = vec![(
        names::DEFAULT_NODE_POOL,
        json!({"status": {"version": "4.19.10", "replicas": 0, "conditions": [
            {"type": "ValidReleaseImage", "status": "True"},
            {"type": "ValidGeneratedPayload", "status": "True"},
            {"type": "UpdatingConfig", "status": "False"},
            {"type": "UpdatingVersion", "status": "False"},
            {"type": "AllMachinesReady", "status": "False", "reason": "NotFound"},
        ]}}),
    )];
    assert!(pool_ready(&case));
    case.observed[0].1["status"]["conditions"][1]["status"] = json!("False");
    assert!(!pool_ready(&case), "no payload to boot from yet");
}

#[test]
fn immutable_settings_are_kept_from_the_observed_hosted_cluster() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.observe_hosted_cluster(
        json!({
            "platform": {"type": "KubeVirt"},
            "etcd": {"managementType": "Managed", "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "16Gi", "storageClassName": "old-class"}}}},
            "networking": {"clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}], "serviceNetwork": [{"cidr": "172.30.0.0/16"}]},
            "controllerAvailabilityPolicy": "SingleReplica",
        }),
    );
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["etcd"]["managed"]["storage"]["persistentVolume"],
        json!({"size": "16Gi", "storageClassName": "old-class"})
    );
    assert_eq!(
        hc["spec"]["networking"]["clusterNetwork"][0]["cidr"],
        "10.128.0.0/14"
    );
    assert_eq!(
        hc["spec"]["networking"]["serviceNetwork"][0]["cidr"],
        "172.30.0.0/16"
    );
    assert_eq!(hc["spec"]["controllerAvailabilityPolicy"], "SingleReplica");
    assert_eq!(
        hc["spec"]["platform"],
        json!({"type": "KubeVirt", "kubevirt": {}})
    );
}

#[test]
fn an_etcd_size_written_as_a_number_keeps_the_rest_of_the_shape_and_its_form() {
    // HyperShift's CRD declares quantities int-or-string: a size written as a number must not
    // make the observed shape unreadable, which would put the settings' values over the
    // immutable fields HyperShift then refuses to change; and it is written back as the number
    // it is, as HyperShift's CEL refuses the same size as text (tests/transitions.rs).
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.observe_hosted_cluster(
        json!({
            "platform": {"type": "KubeVirt"},
            "etcd": {"managementType": "Managed", "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": 17179869184_u64}}}},
            "controllerAvailabilityPolicy": "SingleReplica",
        }),
    );
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["etcd"]["managed"]["storage"]["persistentVolume"]["size"],
        json!(17179869184_u64)
    );
    assert_eq!(hc["spec"]["controllerAvailabilityPolicy"], "SingleReplica");
}

#[test]
fn a_hosted_cluster_on_a_platform_not_ours_is_refused_not_overwritten() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.observe_hosted_cluster(
        json!({"platform": {"type": "AWS", "aws": {"region": "eu-west-1"}}}),
    );
    let (path, message) = case.error();
    assert_eq!(path, "spec.parameters.clusterName");
    assert!(
        message.contains("exists with platform \"AWS\"")
            && message.contains("(KubeVirt, Agent and None)"),
        "{message}"
    );
}

#[test]
fn an_xr_without_namespace_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.xr["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    assert_eq!(
        case.error(),
        (
            "metadata.namespace".to_owned(),
            "an OpenShiftCluster is namespaced; create it in its project's clusters namespace"
                .to_owned()
        )
    );
}

fn with_callback(status: Value) -> Value {
    let mut status = status;
    status["oauthCallbackURLTemplate"] =
        json!("https://oauth.dev.example.com:443/oauth2callback/[identity-provider-name]");
    status
}

#[test]
fn the_keycloak_client_waits_for_the_oauth_callback_url() {
    let case = Case::new(json!({"clusterName": "dev"}));
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::KEYCLOAK_CLIENT))
    );
    // The identity provider is configured from the start; its Secret exists with it.
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    let idp = &hc["spec"]["configuration"]["oauth"]["identityProviders"][0];
    assert_eq!(idp["type"], "OpenID");
    assert_eq!(
        idp["openID"]["issuer"],
        "https://sso.example.com/realms/acme"
    );
    assert_eq!(idp["openID"]["clientID"], "openshift-frontend-dev");
    assert_eq!(idp["openID"]["clientSecret"]["name"], "dev-oidc-client");
    assert_eq!(idp["openID"]["claims"]["groups"], json!(["groups"]));
    assert!(
        idp["openID"].get("ca").is_none(),
        "no private CA configured"
    );
    let secret = manifest(&desired, names::OIDC_CLIENT_SECRET);
    assert!(secret["data"]["clientSecret"].is_string());
}

#[test]
fn an_existing_cluster_keeps_its_identity_provider_name() {
    // Users' identities are `<provider>:<sub>` and mapped by claim: a renamed provider would
    // lock every existing user out, so the setting names providers of new clusters only.
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let idp = |desired: &Desired| {
        manifest(desired, names::HOSTED_CLUSTER)["spec"]["configuration"]["oauth"]
            ["identityProviders"][0]["name"]
            .clone()
    };
    assert_eq!(idp(&case.render().unwrap()), "sco");
    case.settings.identity_provider_name = "keycloak".into();
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(
            json!({"configuration": {"oauth": {"identityProviders": [
                {"name": "htpasswd", "type": "HTPasswd"},
                {"name": "sco", "type": "OpenID"},
            ]}}}),
            with_callback(available()),
        ),
    )];
    let desired = case.render().unwrap();
    assert_eq!(idp(&desired), "sco");
    assert_eq!(
        manifest(&desired, names::KEYCLOAK_CLIENT)["spec"]["forProvider"]["validRedirectUris"],
        json!(["https://oauth.dev.example.com:443/oauth2callback/sco"])
    );
    case.observed.clear();
    assert_eq!(idp(&case.render().unwrap()), "keycloak");
}

#[test]
fn the_keycloak_client_redirects_to_the_observed_callback() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), with_callback(available())),
    )];
    let desired = case.render().unwrap();
    let client = manifest(&desired, names::KEYCLOAK_CLIENT);
    assert_eq!(
        client["apiVersion"],
        "openidclient.keycloak.m.crossplane.io/v1alpha2"
    );
    let p = &client["spec"]["forProvider"];
    assert_eq!(p["accessType"], "CONFIDENTIAL");
    assert_eq!(p["realmId"], "acme");
    assert_eq!(
        p["validRedirectUris"],
        json!(["https://oauth.dev.example.com:443/oauth2callback/sco"])
    );
    assert_eq!(
        p["clientSecretSecretRef"],
        json!({"key": "clientSecret", "name": "dev-oidc-client"})
    );
    let mapper = manifest(&desired, names::KEYCLOAK_GROUPS_MAPPER);
    assert_eq!(
        mapper["spec"]["forProvider"]["clientIdRef"]["name"],
        "dev-oidc"
    );
    assert_eq!(mapper["spec"]["forProvider"]["claimName"], "groups");
}

#[test]
fn a_missing_keycloak_url_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.platform.keycloak.url = None;
    assert_eq!(case.render().unwrap_err().reason(), "InvalidPlatformConfig");
    let (path, message) = case.error();
    assert_eq!(path, "platform keycloak.url");
    assert!(
        message.starts_with("is not set: clusters sign in"),
        "{message}"
    );
}

#[test]
fn access_bindings_go_through_the_admin_kubeconfig_once_available() {
    let mut case = Case::new(json!({"clusterName": "dev", "access": {"groups": [
        {"name": "devs", "role": "edit"},
        {"name": "leads", "role": "customer-admin"},
        {"name": "auditors", "role": "view"},
        {"name": "qa", "role": "edit"},
    ]}}));
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), available()),
    )];
    let desired = case.render().unwrap();
    let pc = manifest(&desired, names::PROVIDER_CONFIG);
    assert_eq!(
        pc["spec"]["credentials"]["secretRef"],
        json!({"key": "kubeconfig", "name": "dev-admin-kubeconfig", "namespace": "ws-frontend-clusters"})
    );
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForOAuthCallback"
    );
    assert!(!desired.resources.contains_key(&Name::from("binding-edit")));

    case.observed.push((
        names::PROVIDER_CONFIG,
        json!({"apiVersion": "kubernetes.m.crossplane.io/v1alpha1", "kind": "ProviderConfig"}),
    ));
    let desired = case.render().unwrap();
    let edit = manifest(&desired, "binding-edit");
    assert_eq!(
        edit["spec"]["providerConfigRef"],
        json!({"kind": "ProviderConfig", "name": "dev-admin"})
    );
    let binding = &edit["spec"]["forProvider"]["manifest"];
    assert_eq!(binding["roleRef"]["name"], "edit");
    let subjects: Vec<&str> = binding["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["devs", "qa"]);
    assert_eq!(
        manifest(&desired, "binding-view")["spec"]["forProvider"]["manifest"]["roleRef"]["name"],
        "view"
    );
    assert_eq!(
        manifest(&desired, "binding-customer-admin")["spec"]["forProvider"]["manifest"]["roleRef"]
            ["name"],
        CUSTOMER_ADMIN_ROLE
    );
    assert_eq!(
        manifest(&desired, "binding-customer-admin-admin")["spec"]["forProvider"]["manifest"]["roleRef"]
            ["name"],
        "admin"
    );
    let role = manifest(&desired, names::CUSTOMER_ADMIN_ROLE);
    let rules = &role["spec"]["forProvider"]["manifest"]["rules"];
    assert!(
        !rules
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["apiGroups"] == json!(["rbac.authorization.k8s.io"])),
        "customer-admin cannot write RBAC"
    );
    assert!(!desired.resources.contains_key(&Name::from("binding-admin")));
    // The HostedCluster and the provider config outlive every binding and the role.
    for used in ["hosted-cluster", "provider-config"] {
        for user in [
            "binding-edit",
            "binding-view",
            "binding-customer-admin",
            "role-customer-admin",
        ] {
            let usage = manifest(&desired, &names::usage(used, user));
            assert_eq!(usage["spec"]["by"]["kind"], "Object", "{used} by {user}");
        }
    }
    let usage = manifest(&desired, names::USAGE_HOSTED_CLUSTER_BY_PROVIDER_CONFIG);
    assert_eq!(usage["spec"]["of"]["kind"], "HostedCluster");
    assert_eq!(usage["spec"]["by"]["kind"], "ProviderConfig");
}

#[test]
fn a_private_keycloak_ca_is_handed_to_the_identity_provider() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.platform.token_validation.issuer_certificate_authority =
        Some("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".into());
    let desired = case.render().unwrap();
    let ca = manifest(&desired, names::OIDC_CA);
    assert_eq!(ca["kind"], "ConfigMap");
    assert!(ca["data"]["ca.crt"].as_str().unwrap().contains("CA"));
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["configuration"]["oauth"]["identityProviders"][0]["openID"]["ca"],
        json!({"name": "dev-oidc-ca"})
    );
}

fn addon_settings() -> Settings {
    settings(json!({
        "baseDomain": "cloud.example.com",
        "backup": {"storageLocation": "default"},
        "tls": {"issuer": "letsencrypt"},
        "releaseImages": {"4.18": "quay.io/openshift-release-dev/ocp-release:4.18.24-x86_64"},
    }))
}

#[test]
fn a_cluster_made_without_a_base_domain_keeps_none_when_the_platform_sets_one() {
    // Made while the platform had no base domain: KubeVirt passthrough, immutable. A domain
    // set later applies to new clusters only; this one gets no records or certificate for
    // a domain its guest will never serve.
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = addon_settings();
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(
            json!({"platform": {"type": "KubeVirt", "kubevirt": {"baseDomainPassthrough": true}}}),
            available(),
        ),
    )];
    let absent = |desired: &Desired| {
        for absent in [names::API_CERTIFICATE, names::DNS, names::INGRESS_SERVICE] {
            assert!(
                !desired.resources.contains_key(&Name::from(absent)),
                "{absent}"
            );
        }
    };
    let desired = case.render().unwrap();
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(hc["spec"]["dns"]["baseDomain"], "", "{}", hc["spec"]["dns"]);
    absent(&desired);

    // Then HyperShift fills in the management cluster's apps domain
    // (reconcileKubevirtPlatformDefaultSettings): kept in the HostedCluster (immutable once
    // set), not refused as a changed base domain, and still nothing published under it.
    case.observed[0].1["spec"]["dns"] = json!({"baseDomain": "apps.mgmt.example.com"});
    let desired = case.render().unwrap();
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(hc["spec"]["dns"]["baseDomain"], "apps.mgmt.example.com");
    absent(&desired);
    assert_eq!(
        desired.status["consoleUrl"],
        "https://console-openshift-console.apps.dev.apps.mgmt.example.com"
    );
}

#[test]
fn a_version_below_the_one_the_cluster_was_given_is_refused() {
    // HyperShift refuses a y-stream downgrade against the desired release, and the cluster
    // would stay where it is, failing.
    let status = |desired: Option<&str>, history: &str| {
        let mut status = available();
        status["version"] = json!({"history": [{"state": "Partial", "version": history}]});
        if let Some(desired) = desired {
            status["version"]["desired"] = json!({"version": desired, "image": "x"});
        }
        status
    };
    for (version, desired, history, refused) in [
        ("4.19", Some("4.20.3"), "4.19.10", true),
        ("4.19", None, "4.20.1", true),
        ("4.20", Some("4.20.3"), "4.19.10", false),
        ("4.20", Some("4.19.10"), "4.19.10", false),
        ("4.19", Some("4.19.10"), "4.19.2", false),
    ] {
        let mut case = Case::new(json!({"clusterName": "dev", "version": version}));
        case.settings = settings(json!({"releaseImages": {
            "4.19": "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64",
            "4.20": "quay.io/openshift-release-dev/ocp-release:4.20.3-x86_64",
        }}));
        case.observed = vec![(
            names::HOSTED_CLUSTER,
            hosted_cluster(json!({}), status(desired, history)),
        )];
        if refused {
            let (path, message) = case.error();
            assert_eq!(path, "spec.parameters.version");
            assert!(
                message.starts_with(&format!(
                    "{version} is older than 4.20, the version the cluster has been given"
                )),
                "{message}"
            );
        } else {
            let errors = case.render().err().map(|e| e.0);
            assert!(
                errors.is_none(),
                "{version} over {desired:?}/{history}: {errors:?}"
            );
        }
    }
}

#[test]
fn a_paused_hosted_cluster_is_warned_about() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let paused = |desired: &Desired| {
        desired
            .warnings
            .iter()
            .filter(|w| w.starts_with("HostedCluster dev is paused"))
            .cloned()
            .collect::<Vec<_>>()
    };
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), available()),
    )];
    assert_eq!(paused(&case.render().unwrap()), Vec::<String>::new());

    let mut status = available();
    status["conditions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "ReconciliationActive", "status": "False",
            "reason": "ReconciliationPaused", "message": "Reconciliation paused until field removed"}));
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({"pausedUntil": "true"}), status),
    )];
    let desired = case.render().unwrap();
    let warning = paused(&desired);
    assert_eq!(warning.len(), 1, "{:?}", desired.warnings);
    assert!(
        warning[0].contains("(Reconciliation paused until field removed)")
            && warning[0].contains("until its spec.pausedUntil is removed"),
        "{}",
        warning[0]
    );
    assert_eq!(
        manifest(&desired, names::HOSTED_CLUSTER)["spec"].get("pausedUntil"),
        None,
        "whoever paused it owns the field"
    );
}

#[test]
fn the_etcd_backup_is_a_schedule_in_oadps_namespace() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = addon_settings();
    let desired = case.render().unwrap();
    let object = manifest(&desired, names::BACKUP);
    assert_eq!(object["kind"], "Object");
    assert_eq!(object["metadata"]["namespace"], "ws-frontend-clusters");
    let schedule = &object["spec"]["forProvider"]["manifest"];
    assert_eq!(schedule["metadata"]["namespace"], "openshift-adp");
    assert_eq!(schedule["metadata"]["name"], "ws-frontend-clusters-dev");
    assert_eq!(
        schedule["spec"]["template"]["includedNamespaces"],
        json!(["ws-frontend-clusters", "ws-frontend-clusters-dev"])
    );
    assert_eq!(schedule["spec"]["schedule"], "0 */6 * * *");
    assert_eq!(schedule["spec"]["template"]["ttl"], "168h0m0s");
    let warned = |desired: &Desired| {
        desired
            .warnings
            .iter()
            .any(|w| w.contains("OADP plugin pauses every HostedCluster"))
    };
    assert!(!warned(&desired));
    let asked = &desired.requirements[names::NAMESPACE_HOSTED_CLUSTERS_REQUIREMENT];
    assert_eq!(
        asked.matching,
        Match::Labels(BTreeMap::from([
            (
                "sco.stakater.com/composite-kind".into(),
                "openshiftcluster".into()
            ),
            (
                "sco.stakater.com/composite-namespace".into(),
                "ws-frontend-clusters".into()
            ),
        ]))
    );
    // Another cluster in the namespace is paused by each backup of this one, and held in it.
    let hc = |name: &str, namespace: &str| {
        json!({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
            "metadata": {"name": name, "namespace": namespace}})
    };
    case.required.insert(
        names::NAMESPACE_HOSTED_CLUSTERS_REQUIREMENT.into(),
        vec![
            hc("dev", "ws-frontend-clusters"),
            hc("prod", "ws-frontend-clusters"),
            hc("x", "elsewhere"),
        ],
    );
    let desired = case.render().unwrap();
    let warning: Vec<&String> = desired
        .warnings
        .iter()
        .filter(|w| w.contains("OADP plugin pauses every HostedCluster"))
        .collect();
    assert_eq!(warning.len(), 1, "{:?}", desired.warnings);
    assert!(
        warning[0].contains("also holds HostedCluster prod:"),
        "{}",
        warning[0]
    );
    // Without the setting there is no backup.
    case.settings = settings(json!({}));
    assert!(
        !case
            .render()
            .unwrap()
            .resources
            .contains_key(&Name::from(names::BACKUP))
    );
}

#[test]
fn the_api_certificate_needs_4_19_and_is_skipped_with_a_warning_on_4_18() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = addon_settings();
    let desired = case.render().unwrap();
    let certificate = manifest(&desired, names::API_CERTIFICATE);
    assert_eq!(
        certificate["spec"]["dnsNames"],
        json!(["api.dev.cloud.example.com"])
    );
    assert_eq!(certificate["spec"]["secretName"], "dev-api-tls");
    // Until cert-manager has issued it, the HostedCluster does not name the Secret:
    // HyperShift stops reconciling a HostedCluster whose configuration references a
    // missing Secret.
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert!(hc["spec"].get("kubeAPIServerDNSName").is_none(), "{hc}");
    assert!(hc["spec"]["configuration"].get("apiServer").is_none());
    let issued = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    case.observed = vec![(names::API_CERTIFICATE, issued)];
    let desired = case.render().unwrap();
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["kubeAPIServerDNSName"],
        "api.dev.cloud.example.com"
    );
    assert_eq!(
        hc["spec"]["configuration"]["apiServer"]["servingCerts"]["namedCertificates"],
        json!([{"names": ["api.dev.cloud.example.com"], "servingCertificate": {"name": "dev-api-tls"}}])
    );
    // HyperShift's CEL: a named certificate may not cover the LoadBalancer hostname; none is set.
    assert!(
        hc["spec"]["services"][0]["servicePublishingStrategy"]
            .get("loadBalancer")
            .is_none()
    );
    assert!(desired.warnings.is_empty());
    // Once served, kept while the Certificate renews (or fails to).
    let renewing = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
    let serving = json!({"spec": {
        "kubeAPIServerDNSName": "api.dev.cloud.example.com",
        "dns": {"baseDomain": "cloud.example.com"},
    }});
    case.observed = vec![
        (names::API_CERTIFICATE, renewing),
        (names::HOSTED_CLUSTER, serving),
    ];
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["kubeAPIServerDNSName"],
        "api.dev.cloud.example.com"
    );
    case.observed.clear();

    case.xr = composite(json!({"clusterName": "dev", "version": "4.18"}));
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::API_CERTIFICATE))
    );
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert!(hc["spec"].get("kubeAPIServerDNSName").is_none());
    assert!(hc["spec"]["configuration"].get("apiServer").is_none());
    assert_eq!(desired.warnings.len(), 1);
    assert!(
        desired.warnings[0].contains("from OpenShift 4.19"),
        "{}",
        desired.warnings[0]
    );
}

#[test]
fn dns_and_the_kubevirt_ingress_follow_the_observed_addresses() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings = addon_settings();
    let desired = case.render().unwrap();
    assert!(
        !desired.resources.contains_key(&Name::from(names::DNS)),
        "no address yet"
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::GUEST_ROUTER))
    );

    let mut status = available();
    status["controlPlaneEndpoint"] = json!({"host": "192.0.2.10", "port": 6443});
    case.observed = vec![
        (
            names::HOSTED_CLUSTER,
            hosted_cluster(json!({"dns": {"baseDomain": "cloud.example.com"}}), status),
        ),
        (names::PROVIDER_CONFIG, json!({"kind": "ProviderConfig"})),
    ];
    let desired = case.render().unwrap();
    let dns = manifest(&desired, names::DNS);
    assert_eq!(
        dns["spec"]["endpoints"],
        json!([{"dnsName": "api.dev.cloud.example.com", "recordType": "A", "targets": ["192.0.2.10"]}])
    );
    let guest = manifest(&desired, names::GUEST_ROUTER);
    assert_eq!(guest["spec"]["managementPolicies"], json!(["Observe"]));
    assert_eq!(guest["spec"]["providerConfigRef"]["name"], "dev-admin");
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForOAuthCallback"
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::INGRESS_SERVICE))
    );

    case.observed.push((
        names::GUEST_ROUTER,
        json!({"status": {"atProvider": {"manifest": {"spec": {"ports": [
            {"name": "http", "port": 80, "nodePort": 30080},
            {"name": "https", "port": 443, "nodePort": 30443},
        ]}}}}}),
    ));
    let desired = case.render().unwrap();
    let service = manifest(&desired, names::INGRESS_SERVICE);
    let svc = &service["spec"]["forProvider"]["manifest"];
    assert_eq!(svc["metadata"]["namespace"], "ws-frontend-clusters-dev");
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    assert_eq!(
        svc["spec"]["selector"],
        json!({"kubevirt.io": "virt-launcher"})
    );
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 30443);
    assert_eq!(svc["spec"]["ports"][1]["targetPort"], 30080);

    case.observed.push((
        names::INGRESS_SERVICE,
        json!({"status": {"atProvider": {"manifest": {"status": {"loadBalancer": {"ingress": [{"hostname": "lb-1.example.net"}]}}}}}}),
    ));
    let desired = case.render().unwrap();
    let endpoints = manifest(&desired, names::DNS)["spec"]["endpoints"].clone();
    assert_eq!(
        endpoints[1],
        json!({"dnsName": "*.apps.dev.cloud.example.com", "recordType": "CNAME", "targets": ["lb-1.example.net"]})
    );
    assert_eq!(
        desired.status["consoleUrl"],
        "https://console-openshift-console.apps.dev.cloud.example.com"
    );

    // Without a TLS issuer the API server serves no certificate for api.<cluster>.<base>:
    // no record for that name, only the apps one.
    let mut no_tls = case.settings.clone();
    no_tls.tls = None;
    let public_tls = std::mem::replace(&mut case.settings, no_tls);
    let desired = case.render().unwrap();
    let endpoints = manifest(&desired, names::DNS)["spec"]["endpoints"].clone();
    assert_eq!(endpoints.as_array().unwrap().len(), 1, "{endpoints}");
    assert_eq!(endpoints[0]["dnsName"], "*.apps.dev.cloud.example.com");
    case.settings = public_tls;

    // Private clusters publish no hostname, so they get no custom API name or certificate:
    // HyperShift would make that name the guest's API server URL.
    case.xr = composite(json!({"clusterName": "dev", "networking": {"mode": "private"}}));
    case.settings.private.node_port_address = Some("10.0.0.5".into());
    let desired = case.render().unwrap();
    assert!(!desired.resources.contains_key(&Name::from(names::DNS)));
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::INGRESS_SERVICE))
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::API_CERTIFICATE))
    );
    let hc = manifest(&desired, names::HOSTED_CLUSTER);
    assert!(
        hc["spec"].get("kubeAPIServerDNSName").is_none(),
        "{}",
        hc["spec"]
    );
}

#[test]
fn bootstrap_installs_once_the_cluster_is_available() {
    let mut case = Case::new(json!({"clusterName": "dev", "bootstrap": {"enabled": true}}));
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::HELM_PROVIDER_CONFIG))
    );

    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), available()),
    )];
    let desired = case.render().unwrap();
    let helm = manifest(&desired, names::HELM_PROVIDER_CONFIG);
    assert_eq!(helm["apiVersion"], "helm.m.crossplane.io/v1beta1");
    assert_eq!(
        helm["spec"]["credentials"]["secretRef"]["name"],
        "dev-admin-kubeconfig"
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from("release-crossplane"))
    );

    case.observed.push((
        names::HELM_PROVIDER_CONFIG,
        json!({"kind": "ProviderConfig"}),
    ));
    case.observed
        .push((names::PROVIDER_CONFIG, json!({"kind": "ProviderConfig"})));
    // The releases wait for the default pool's nodes; the namespaces do not.
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from("release-crossplane"))
    );
    assert!(
        desired
            .resources
            .contains_key(&Name::from(names::namespace("ksp-system").as_str()))
    );
    let pool = manifest(&desired, names::DEFAULT_NODE_POOL);
    case.observed.push((
        names::DEFAULT_NODE_POOL,
        json!({"spec": pool["spec"], "status": {
            "replicas": pool["spec"]["replicas"],
            "conditions": [{"type": "Ready", "status": "True", "reason": "AsExpected"}],
        }}),
    ));
    let desired = case.render().unwrap();
    for chart in ["crossplane", "argocd"] {
        let release = manifest(&desired, &names::release(chart));
        assert_eq!(
            release["spec"]["providerConfigRef"],
            json!({"kind": "ProviderConfig", "name": "dev-helm"})
        );
        let usage = manifest(
            &desired,
            &names::usage(names::HOSTED_CLUSTER, &names::release(chart)),
        );
        assert_eq!(usage["spec"]["by"]["kind"], "Release");
    }
    let namespace = manifest(&desired, &names::namespace("ksp-system"));
    assert_eq!(
        namespace["spec"]["forProvider"]["manifest"]["metadata"]["name"],
        "ksp-system"
    );
    // Only a release into a namespace the platform also creates is held by its Object.
    assert!(
        desired
            .resources
            .keys()
            .all(|k| !k.as_str().starts_with("usage-namespace-"))
    );
    case.settings = settings(json!({"bootstrap": {"namespaces": ["argocd", "ksp-system"]}}));
    let desired = case.render().unwrap();
    let usage = manifest(
        &desired,
        &names::usage(&names::namespace("argocd"), &names::release("argocd")),
    );
    assert_eq!(
        usage["spec"]["of"]["resourceRef"]["name"],
        "dev-namespace-argocd"
    );
    assert_eq!(usage["spec"]["by"]["resourceRef"]["name"], "dev-argocd");
    assert_eq!(
        desired
            .resources
            .keys()
            .filter(|k| k.as_str().starts_with("usage-namespace-"))
            .count(),
        1
    );

    // A release Helm reports failed says why, and how to start over once provider-helm
    // has given up.
    let failed = |state: &str| {
        json!({"spec": {"forProvider": {"namespace": "argocd"}}, "status": {
            "atProvider": {"state": state, "releaseDescription": "context deadline exceeded"},
            "conditions": [{"type": "Ready", "status": "False", "reason": "Unavailable"}],
        }})
    };
    let warned = |case: &Case| {
        case.render()
            .unwrap()
            .warnings
            .into_iter()
            .filter(|w| w.starts_with("bootstrap release argocd failed"))
            .collect::<Vec<_>>()
    };
    case.observed
        .push((names::release("argocd").leak(), failed("failed")));
    let warning = warned(&case);
    assert_eq!(warning.len(), 1, "{warning:?}");
    assert!(
        warning[0].contains("(context deadline exceeded)")
            && warning[0].ends_with("delete Release dev-argocd to have it installed anew"),
        "{}",
        warning[0]
    );
    case.observed.pop();
    case.observed
        .push((names::release("argocd").leak(), failed("deployed")));
    assert!(warned(&case).is_empty());
    case.observed.pop();

    // Without bootstrap.enabled nothing is installed.
    case.xr = composite(json!({"clusterName": "dev"}));
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::HELM_PROVIDER_CONFIG))
    );
    assert!(
        !desired
            .resources
            .contains_key(&Name::from("release-crossplane"))
    );
}

#[test]
fn a_malformed_base_domain_or_release_image_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    for bad in [
        "cloud..example.com",
        "cloud.example.c0m",
        "under_score.example.com",
    ] {
        case.settings = settings(json!({"baseDomain": bad}));
        let (path, message) = case.error();
        assert_eq!(path, "platform openshiftCluster.baseDomain", "{bad}");
        assert!(message.contains("is not a DNS domain"), "{bad}: {message}");
    }
    case.settings = settings(json!({"baseDomain": "cloud.example.com"}));
    assert!(case.render().is_ok());

    case.settings = settings(json!({"releaseImages": {"4.19": "quay.io/ocp release"}}));
    let (path, message) = case.error();
    assert_eq!(path, "spec.parameters.version");
    assert!(message.contains("which HyperShift refuses"), "{message}");
    // A release image of 253 characters is taken, one of 254 is not.
    let image = |n: usize| format!("quay.io/{}", "a".repeat(n));
    case.settings = settings(json!({"releaseImages": {"4.19": image(245)}}));
    assert!(case.render().is_ok());
    case.settings = settings(json!({"releaseImages": {"4.19": image(246)}}));
    assert_eq!(case.error().0, "spec.parameters.version");
}

#[test]
fn a_kept_encryption_key_does_not_hide_a_missing_uid() {
    // The encryption key is read back from its Secret, but the OIDC client secret still
    // needs the uid: its refusal is said, not swallowed with the key's.
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.xr["metadata"].as_object_mut().unwrap().remove("uid");
    case.observed = vec![(names::ENCRYPTION_KEY, key_secret("kept-key"))];
    assert_eq!(case.error().0, "metadata.uid");
}

#[test]
fn bootstrap_without_a_default_pool_waits_rather_than_installing_before_any_node() {
    // A chart installed with `wait` and no node to run it fails, and provider-helm stops
    // retrying after rollbackLimit: a cluster whose nodes this composition cannot see waits.
    let mut case = Case::new(json!({
        "clusterName": "dev",
        "bootstrap": {"enabled": true},
        "defaultNodepool": {"enabled": false},
    }));
    case.observed = vec![
        (
            names::HOSTED_CLUSTER,
            hosted_cluster(json!({}), with_callback(available())),
        ),
        (
            names::HELM_PROVIDER_CONFIG,
            json!({"kind": "ProviderConfig"}),
        ),
        (names::PROVIDER_CONFIG, json!({"kind": "ProviderConfig"})),
    ];
    let desired = case.render().unwrap();
    assert!(
        !desired
            .resources
            .contains_key(&Name::from(names::release("crossplane").as_str()))
    );
    let waiting = desired.waiting.expect("waiting");
    assert_eq!(waiting.reason, "WaitingForNodes");
    assert!(
        waiting.message.contains("defaultNodepool is disabled"),
        "{waiting:?}"
    );
}

#[test]
fn bootstrap_values_that_are_no_object_are_refused_where_they_are_set() {
    // provider-helm's `values` is an object: a list would only be refused when applied.
    let layer = json!({"openshiftCluster": {"bootstrap": {"releases": [{
        "name": "x", "chart": "x", "repository": "https://charts.example.com",
        "version": "1.0.0", "namespace": "x", "values": ["not", "an", "object"],
    }]}}});
    let err = crate::config::Config::resolve(Some(&layer), None).expect_err("refused");
    assert!(
        err.to_string().contains("bootstrap.releases[0].values"),
        "{err}"
    );
}

#[test]
fn bootstrap_names_that_are_no_dns_label_or_listed_twice_are_refused() {
    let release = |name: &str, namespace: &str| {
        json!({"name": name, "chart": "x", "repository": "https://charts.example.com",
               "version": "1.0.0", "namespace": namespace})
    };
    for (bootstrap, expected) in [
        (
            json!({"namespaces": ["tools", "Tools"]}),
            "bootstrap: namespaces[1]: \"Tools\" is not a DNS label",
        ),
        (
            json!({"namespaces": ["tools", "tools"]}),
            "namespaces[1]: \"tools\" is listed twice",
        ),
        (
            json!({"releases": [release("a", "x"), release("a", "y")]}),
            "releases[1].name: \"a\" is listed twice",
        ),
        (
            json!({"releases": [release("my_chart", "x")]}),
            "releases[0].name: \"my_chart\" is not a DNS label",
        ),
        (
            json!({"releases": [release("a", "kube system")]}),
            "releases[0].namespace: \"kube system\" is not a DNS label",
        ),
    ] {
        let layer = json!({"openshiftCluster": {"bootstrap": bootstrap}});
        let err = crate::config::Config::resolve(Some(&layer), None).expect_err("refused");
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    // provider-helm compares versions as text: only an exact one is ever up to date.
    let versioned = |version: &str| {
        json!({"releases": [{"name": "a", "chart": "x", "repository": "https://charts.example.com",
               "version": version, "namespace": "x"}]})
    };
    for version in ["1.0.0", "v8.3.0", "2.0.0-rc.1+build.5", "10.20.30"] {
        let layer = json!({"openshiftCluster": {"bootstrap": versioned(version)}});
        assert!(
            crate::config::Config::resolve(Some(&layer), None).is_ok(),
            "{version}"
        );
    }
    for (bootstrap, expected) in
        ["", "~2.0", "2.x", "1.2", "01.2.3", ">=1.0.0", "1.2.3-", "*"].map(|v| {
            (
                versioned(v),
                format!("releases[0].version: {v:?} is not an exact chart version"),
            )
        })
    {
        let layer = json!({"openshiftCluster": {"bootstrap": bootstrap}});
        let err = crate::config::Config::resolve(Some(&layer), None).expect_err("refused");
        assert!(err.to_string().contains(&expected), "{expected}: {err}");
    }
    // Setting the namespaces alone keeps the default releases.
    let layer = json!({"openshiftCluster": {"bootstrap": {"namespaces": ["tools"]}}});
    let config = crate::config::Config::resolve(Some(&layer), None).expect("valid");
    let settings = config.of::<OpenShiftCluster>();
    assert_eq!(settings.bootstrap.namespaces, ["tools"]);
    assert_eq!(
        settings.bootstrap.releases,
        settings::BootstrapSettings::default().releases
    );
}

#[test]
fn an_etcd_size_go_would_rewrite_is_refused_with_the_form_it_would_become() {
    // HyperShift's typed updates write a quantity back in canonical form, and its CEL rule then
    // refuses the change of an immutable etcd size (tests/transitions.rs shows the rule).
    let resolve = |size: &str| {
        let layer = json!({"openshiftCluster": {"etcd": {"size": size}}});
        crate::config::Config::resolve(Some(&layer), None).map_err(|e| e.to_string())
    };
    for size in ["8Gi", "1536Mi", "1000Gi", "1023Pi", "3Ki", "7Ei"] {
        let config = resolve(size).unwrap_or_else(|e| panic!("{size}: {e}"));
        assert_eq!(config.of::<OpenShiftCluster>().etcd.size.as_str(), size);
    }
    for (size, expected) in [
        (
            "8192Mi",
            "\"8192Mi\" would be rewritten as 8Gi by HyperShift's controller",
        ),
        ("1024Gi", "write 1Ti"),
        ("1048576Ki", "write 1Gi"),
        ("1024Pi", "write 1Ei"),
        ("8Ei", "is more than a Kubernetes quantity holds"),
        ("99999999999999999999Ki", "is not a whole number"),
        ("1.5Gi", "is not a whole number of Ki, Mi, Gi, Ti, Pi or Ei"),
        ("10G", "is not a whole number"),
        ("08Gi", "is not a whole number"),
        ("0Gi", "is not a whole number"),
        ("17179869184", "is not a whole number"),
        ("", "is not a whole number"),
    ] {
        let err = resolve(size).expect_err(size);
        assert!(err.contains("openshiftCluster.etcd.size"), "{size}: {err}");
        assert!(err.contains(expected), "{size}: {expected}: {err}");
    }
}

#[test]
fn network_settings_are_network_addresses_written_in_canonical_form() {
    // HyperShift's typed updates write a HostedCluster's networks back as Go prints them, and
    // CEL makes them immutable: a setting is parsed, so what is written is that form.
    let resolve = |networks: Value| {
        let layer = json!({"openshiftCluster": networks});
        crate::config::Config::resolve(Some(&layer), None).map_err(|e| e.to_string())
    };
    let config = resolve(json!({"networks": {"clusterNetwork": "FD00:0:0::/48",
        "serviceNetwork": "fd01::/112", "machineNetwork": "10.0.0.0/16"}}))
    .expect("valid");
    let mut case = Case::new(json!({"clusterName": "dev"}));
    case.settings.networks = config.of::<OpenShiftCluster>().networks.clone();
    let hc = manifest(&case.render().unwrap(), names::HOSTED_CLUSTER);
    assert_eq!(
        hc["spec"]["networking"]["clusterNetwork"],
        json!([{"cidr": "fd00::/48", "hostPrefix": 23}])
    );
    assert_eq!(
        hc["spec"]["networking"]["serviceNetwork"],
        json!([{"cidr": "fd01::/112"}])
    );
    for (networks, key, expected) in [
        (
            json!({"networks": {"clusterNetwork": "10.132.1.0/14"}}),
            "openshiftCluster.networks.clusterNetwork",
            "has host bits set; the network is 10.132.0.0/14",
        ),
        (
            json!({"networks": {"serviceNetwork": "172.31.0.0"}}),
            "openshiftCluster.networks.serviceNetwork",
            "is not in CIDR notation",
        ),
        (
            json!({"networks": {"machineNetwork": "10.0.0.0/33"}}),
            "openshiftCluster.networks.machineNetwork",
            "is not a prefix length",
        ),
        (
            json!({"private": {"allowedCidrs": ["10.0.0.0/8", "192.168.1.1/24"]}}),
            "openshiftCluster.private.allowedCidrs[1]",
            "the network is 192.168.1.0/24",
        ),
    ] {
        let err = resolve(networks).expect_err(key);
        assert!(
            err.contains(key) && err.contains(expected),
            "{key}: {expected}: {err}"
        );
    }
}

#[test]
fn a_control_plane_namespace_that_exists_as_another_projects_is_refused() {
    let mut case = Case::new(json!({"clusterName": "dev"}));
    let desired = case.render().unwrap();
    assert_eq!(
        desired.requirements[names::CONTROL_PLANE_NAMESPACE_REQUIREMENT].matching,
        Match::Name("ws-frontend-clusters-dev".into())
    );
    // Another project's namespace of that very name: HyperShift would take it.
    case.required.insert(
        names::CONTROL_PLANE_NAMESPACE_REQUIREMENT.into(),
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "ws-frontend-clusters-dev",
            "labels": {"sco.stakater.com/project": "frontend-clusters-dev"}}}),
        ],
    );
    let Invalid(errors) = case.render().unwrap_err();
    assert_eq!(errors[0].path, "spec.parameters.clusterName");
    assert!(
        errors[0]
            .message
            .contains("(project frontend-clusters-dev's)"),
        "{}",
        errors[0].message
    );
    // HyperShift's own (a control plane whose HostedCluster Crossplane has not seen yet).
    case.required.insert(
        names::CONTROL_PLANE_NAMESPACE_REQUIREMENT.into(),
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "ws-frontend-clusters-dev",
            "labels": {"hypershift.openshift.io/hosted-control-plane": "true"}}}),
        ],
    );
    assert!(case.render().is_ok());
    // Once the HostedCluster exists, the namespace is not asked for.
    case.observed = vec![(
        names::HOSTED_CLUSTER,
        hosted_cluster(json!({}), available()),
    )];
    let desired = case.render().unwrap();
    assert!(
        !desired
            .requirements
            .contains_key(names::CONTROL_PLANE_NAMESPACE_REQUIREMENT)
    );
}
