//! The VirtualMachine composition through the function: a public VM walked from nothing
//! observed to running (and a stopped one), asserting at each stage its status, each composed
//! resource's readiness and the XR's readiness and `ResourcesReady` condition; the rules as
//! Fatal results; and the committed XRD against the generated one.

mod support;

use std::collections::BTreeMap;

use function_sco::sdk::proto::v1::{Ready, RunFunctionResponse, Severity, Status};
use function_sco::sdk::render;
use serde_json::{Value, json};

use support::{render_case, root};

/// What a stage renders to, in the terms the tests assert.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// The XR's `status.vm`.
    vm: Value,
    /// Readiness of each composed resource.
    resources: BTreeMap<String, Ready>,
    /// The XR's readiness.
    xr_ready: Ready,
    /// The `ResourcesReady` condition's status and reason.
    resources_ready: (Status, String),
}

fn outcome(rsp: &RunFunctionResponse) -> Outcome {
    let desired = rsp.desired.as_ref().expect("desired state");
    let composite = desired.composite.as_ref().expect("a desired composite");
    let status = composite
        .resource
        .as_ref()
        .map(pbstruct::to_json_value)
        .unwrap_or_default();
    let condition = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == "ResourcesReady")
        .expect("a ResourcesReady condition");
    Outcome {
        vm: status.pointer("/status/vm").cloned().unwrap_or_default(),
        resources: desired
            .resources
            .iter()
            .map(|(name, r)| (name.clone(), r.ready()))
            .collect(),
        xr_ready: composite.ready(),
        resources_ready: (condition.status(), condition.reason.clone()),
    }
}

fn stage(name: &str) -> Outcome {
    let (_, rsp) = render_case(&root().join("tests/fixtures/virtualmachine").join(name));
    assert!(
        rsp.results.iter().all(|r| r.severity() != Severity::Fatal),
        "{name}: {:?}",
        rsp.results
    );
    outcome(&rsp)
}

/// The outcome a stage should have.
fn expected(
    vm: Value,
    resources: &[(&str, Ready)],
    xr_ready: Ready,
    condition: (Status, &str),
) -> Outcome {
    Outcome {
        vm,
        resources: resources
            .iter()
            .map(|(name, ready)| ((*name).to_owned(), *ready))
            .collect(),
        xr_ready,
        resources_ready: (condition.0, condition.1.to_owned()),
    }
}

const WAITING: (Status, &str) = (Status::ConditionFalse, "WaitingForAddress");
const CREATING: (Status, &str) = (Status::ConditionFalse, "Creating");
const AVAILABLE: (Status, &str) = (Status::ConditionTrue, "Available");

#[test]
fn nothing_observed_composes_all_but_the_connection_secret_and_waits_for_an_address() {
    assert_eq!(
        stage("nothing-observed"),
        expected(
            json!({"ready": false, "created": false, "cpuCores": 1, "memory": "2Gi"}),
            &[
                ("cloud-init", Ready::False),
                ("service", Ready::False),
                ("ssh-key", Ready::False),
                ("virtual-machine", Ready::False)
            ],
            Ready::False,
            WAITING,
        )
    );
}

#[test]
fn provisioning_has_its_secrets_but_no_load_balancer_address_yet() {
    assert_eq!(
        stage("provisioning"),
        expected(
            json!({"printableStatus": "Provisioning", "ready": false, "created": false, "cpuCores": 1, "memory": "2Gi"}),
            &[
                ("cloud-init", Ready::True),
                ("service", Ready::False),
                ("ssh-key", Ready::True),
                ("virtual-machine", Ready::False)
            ],
            Ready::False,
            WAITING,
        )
    );
}

#[test]
fn starting_with_an_address_writes_the_connection_secret() {
    assert_eq!(
        stage("starting"),
        expected(
            json!({"printableStatus": "Starting", "ready": false, "created": true, "cpuCores": 1, "memory": "2Gi",
                   "serviceIP": "203.0.113.40"}),
            &[
                ("cloud-init", Ready::True),
                ("connection", Ready::False),
                ("service", Ready::True),
                ("ssh-key", Ready::True),
                ("virtual-machine", Ready::False),
            ],
            Ready::False,
            CREATING,
        )
    );
}

/// Every resource of the running VM, ready.
const ALL_READY: &[(&str, Ready)] = &[
    ("cloud-init", Ready::True),
    ("connection", Ready::True),
    ("service", Ready::True),
    ("ssh-key", Ready::True),
    ("virtual-machine", Ready::True),
];

#[test]
fn running_is_ready() {
    assert_eq!(
        stage("running"),
        expected(
            json!({"printableStatus": "Running", "ready": true, "created": true, "cpuCores": 1, "memory": "2Gi",
                   "serviceIP": "203.0.113.40"}),
            ALL_READY,
            Ready::True,
            AVAILABLE,
        )
    );
}

#[test]
fn a_stopped_vm_is_ready_when_running_is_false() {
    assert_eq!(
        stage("stopped"),
        expected(
            json!({"printableStatus": "Stopped", "ready": false, "created": false, "cpuCores": 1, "memory": "2Gi",
                   "serviceIP": "203.0.113.40"}),
            ALL_READY,
            Ready::True,
            AVAILABLE,
        )
    );
}

#[test]
fn the_connection_secret_carries_host_port_and_user_but_status_no_secret() {
    let (input, rsp) = render_case(&root().join("examples/virtualmachine/public"));
    let documents = render::documents(
        &input.composite,
        &rsp,
        function_sco::cli::shape(&input.composite),
    );
    let connection = documents
        .iter()
        .find(|d| d.pointer("/metadata/name") == Some(&json!("web-connection")))
        .expect("the connection Secret");
    let decoded: BTreeMap<&str, String> = ["host", "port", "user"]
        .into_iter()
        .map(|key| (key, decode(&connection["data"][key])))
        .collect();
    assert_eq!(
        decoded,
        BTreeMap::from([
            ("host", "203.0.113.40".into()),
            ("port", "22".into()),
            ("user", "cloud-user".into())
        ])
    );
    // Neither the SSH key nor the cloud-init user data reaches the status, raw or encoded.
    let status = serde_json::to_string(&documents[0]["status"]).unwrap();
    let params = &input.composite["spec"]["parameters"];
    for secret in [
        params["sshPublicKey"]["data"].as_str().expect("a key"),
        params["cloudInit"]["userData"].as_str().expect("user data"),
    ] {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
        for form in [Some(secret.trim().to_owned()), Some(encoded), decoded.ok()]
            .into_iter()
            .flatten()
        {
            let escaped = serde_json::to_string(&form).unwrap();
            assert!(
                !status.contains(&escaped[1..escaped.len() - 1]),
                "status leaks a secret value: {status}"
            );
        }
    }
    assert!(
        !status.contains("ecdsa") && !status.contains("nginx"),
        "status leaks a secret value: {status}"
    );
}

fn decode(value: &Value) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("base64 text"))
        .expect("base64");
    String::from_utf8(bytes).expect("text")
}

#[test]
fn a_broken_rule_is_a_fatal_result_naming_the_field() {
    let (_, rsp) =
        render_case(&root().join("tests/fixtures/virtualmachine/refused-too-little-memory"));
    let fatal = rsp
        .results
        .iter()
        .find(|r| r.severity() == Severity::Fatal)
        .expect("a Fatal result");
    assert_eq!(
        fatal.message,
        r#"spec.parameters.instanceType: "u1.nano" has 512Mi, flavour rhel9 needs at least 1.5Gi; choose u1.small or larger"#
    );
    let valid = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == "Valid")
        .expect("a Valid condition");
    assert_eq!(
        (valid.status(), valid.message.as_deref()),
        (Status::ConditionFalse, Some(fatal.message.as_str()))
    );
    assert!(rsp.desired.is_none_or(|d| d.resources.is_empty()));
}
