//! What function-sco applies over what the API server already holds passes the server's own
//! CEL rules, transition rules included: the immutability rules (`self == oldSelf`, "Services
//! is immutable", "Network spec is immutable", ...) that HyperShift, kcp and OVN-Kubernetes
//! declare in their CRDs, which neither `support::schema` nor `crossplane resource validate`
//! (it has no old object) evaluates. A composed resource refused on update would stay at its
//! old spec with `Synced=False` on every reconcile, so the render tests alone cannot see it.
//!
//! For every example and golden stage, each composed resource the stage observes and composes
//! again is updated as it would be: the desired manifest applied over the observed one as a JSON
//! merge patch (what provider-kubernetes sends without server-side apply), and the same for the
//! manifest a provider-kubernetes `Object` wraps, over what the Object reports of it
//! (`status.atProvider.manifest`). Server-side apply (Crossplane's for composed resources,
//! provider-kubernetes' by default) ends with the same values for the fields we write; where it
//! differs, removing a field we stop writing, the merge patch keeps it, so a rule against
//! removal ("cannot be removed once set") is not tried here. The same stages are rendered again
//! with the platform settings that feed immutable fields changed (etcd, networks, availability,
//! platform, upgrade type, workspace types, export paths): the function must keep what the
//! objects hold, or refuse the setting by name, never write over it.
//!
//! Old and new go to `crdrules` (`tests/crossplane/crdrules/`: k8s.io/apiextensions-apiserver's
//! CEL validator, as the server's update strategy runs it, with ratcheting), built by
//! `tests/crossplane/tools.sh`, path in `CRD_RULES`. Without it the tests fail under `CI=true`
//! and are skipped, loudly, elsewhere.

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use function_sco::config::merge_patch;
use function_sco::sdk::render::{self, case_dirs, read_documents};
use serde_json::{Value, json};
use support::{root, schema};

/// One update to judge: where it comes from, the schema whose rules apply, old and new.
struct Update {
    at: String,
    schema: &'static Value,
    old: Value,
    new: Value,
}

/// The CRD schema of `manifest`'s kind when it declares CEL rules (`None` for kinds without a
/// CRD here, such as the core kinds, or without rules).
fn rules_of(manifest: &Value) -> Option<&'static Value> {
    let api_version = manifest["apiVersion"].as_str()?;
    let kind = manifest["kind"].as_str()?;
    schema::open_api_v3(api_version, kind).filter(|s| has_rules(s))
}

fn has_rules(node: &Value) -> bool {
    match node {
        Value::Object(map) => {
            map.contains_key("x-kubernetes-validations") || map.values().any(has_rules)
        }
        Value::Array(items) => items.iter().any(has_rules),
        _ => false,
    }
}

/// Whether a schema has transition rules (ones that read `oldSelf`).
fn has_transition_rules(node: &Value) -> bool {
    match node {
        Value::Object(map) => {
            map.get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules
                        .iter()
                        .any(|r| r["rule"].as_str().is_some_and(|r| r.contains("oldSelf")))
                })
                || map.values().any(has_transition_rules)
        }
        Value::Array(items) => items.iter().any(has_transition_rules),
        _ => false,
    }
}

/// `old` with `desired` applied over it as a JSON merge patch.
fn applied(old: &Value, desired: &Value) -> Value {
    let mut new = old.clone();
    merge_patch(&mut new, desired);
    new
}

/// Every example and golden stage directory.
fn cases() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for base in ["examples", "tests/fixtures"] {
        for kind_dir in case_dirs(&root().join(base)) {
            dirs.extend(case_dirs(&kind_dir));
        }
    }
    dirs
}

/// The updates `desired` (render documents) makes to the `observed` composed resources of
/// `case` that have CEL rules: the composed resource itself, and the manifest an `Object`
/// wraps over what the Object reports of it.
fn updates_of(case: &str, observed: &[Value], desired: &[Value]) -> Vec<Update> {
    let observed: BTreeMap<&str, &Value> = observed
        .iter()
        .map(|o| (support::composed_name(o), o))
        .filter(|(name, _)| !name.is_empty())
        .collect();
    let mut updates = Vec::new();
    for desired in desired {
        let name = support::composed_name(desired);
        let Some(&old) = observed.get(name) else {
            continue;
        };
        let mut push = |at: String, old: &Value, desired: &Value| {
            if let Some(schema) = rules_of(desired) {
                let new = applied(old, desired);
                updates.push(Update {
                    at,
                    schema,
                    old: old.clone(),
                    new,
                });
            }
        };
        push(format!("{case}: {name}"), old, desired);
        if let (Some(desired), Some(old)) = (
            desired.pointer("/spec/forProvider/manifest"),
            old.pointer("/status/atProvider/manifest"),
        ) {
            push(
                format!("{case}: {name}: spec.forProvider.manifest"),
                old,
                desired,
            );
        }
    }
    updates
}

/// Every update the examples and golden stages make, as their `expected.yaml` has it.
fn updates() -> Vec<Update> {
    let mut updates = Vec::new();
    for dir in cases() {
        let (observed, expected) = (dir.join("observed.yaml"), dir.join("expected.yaml"));
        if observed.is_file() && expected.is_file() {
            let case = dir.strip_prefix(root()).unwrap().display().to_string();
            let read = |path: &Path| read_documents(path).unwrap_or_else(|e| panic!("{e}"));
            updates.extend(updates_of(&case, &read(&observed), &read(&expected)));
        }
    }
    updates
}

/// The update lines the judge refused, with its errors.
fn refused(updates: &[Update], verdicts: &[Vec<String>]) -> Vec<String> {
    updates
        .iter()
        .zip(verdicts)
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(u, errors)| format!("{}:\n  {}", u.at, errors.join("\n  ")))
        .collect()
}

/// How many updates of each kind with transition rules `updates` holds.
fn transition_kinds(updates: &[Update]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for update in updates.iter().filter(|u| has_transition_rules(u.schema)) {
        let (api_version, kind) = (&update.new["apiVersion"], &update.new["kind"]);
        let kind = format!(
            "{} {}",
            api_version.as_str().unwrap(),
            kind.as_str().unwrap()
        );
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

/// The kinds whose CRDs make fields immutable and that the compositions update.
const IMMUTABLE_KINDS: [&str; 5] = [
    "hypershift.openshift.io/v1beta1 HostedCluster",
    "hypershift.openshift.io/v1beta1 NodePool",
    "tenancy.kcp.io/v1alpha1 Workspace",
    "apis.kcp.io/v1alpha2 APIBinding",
    "k8s.ovn.org/v1 ClusterUserDefinedNetwork",
];

/// The rules' errors for each update, in order, from `crdrules`.
fn judge(tool: &Path, updates: &[Update]) -> Vec<Vec<String>> {
    let inputs: Vec<Value> = updates
        .iter()
        .map(|u| json!({"schema": u.schema, "old": u.old, "new": u.new}))
        .collect();
    let mut child = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let mut stdin = child.stdin.take().unwrap();
    serde_json::to_writer(&mut stdin, &inputs).unwrap();
    stdin.flush().unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "crdrules failed: {}",
        output.status
    );
    let outputs: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outputs.len(), updates.len());
    outputs
        .iter()
        .map(|o| {
            o["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn every_update_a_stage_makes_passes_the_servers_transition_rules() {
    let test = "every_update_a_stage_makes_passes_the_servers_transition_rules";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let updates = updates();
    let kinds = transition_kinds(&updates);
    for kind in IMMUTABLE_KINDS {
        assert!(
            kinds.contains_key(kind),
            "no stage updates a {kind}: {kinds:?}"
        );
    }
    let refused = refused(&updates, &judge(&tool, &updates));
    assert!(
        refused.is_empty(),
        "refused on update:\n{}",
        refused.join("\n")
    );
    eprintln!(
        "{} updates judged; with transition rules: {kinds:?}",
        updates.len()
    );
}

/// The first update of `kind` the stages make, to change by hand.
fn first_update_of(updates: &[Update], kind: &str) -> Update {
    let update = updates
        .iter()
        .find(|u| u.new["kind"] == kind)
        .unwrap_or_else(|| panic!("no stage updates a {kind}"));
    Update {
        at: update.at.clone(),
        schema: update.schema,
        old: update.old.clone(),
        new: update.new.clone(),
    }
}

/// Sets `pointer` in `value` (its parent must exist).
fn set(value: &mut Value, pointer: &str, to: Value) {
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the object")) = to;
}

#[test]
fn the_judge_refuses_what_the_servers_rules_refuse() {
    let test = "the_judge_refuses_what_the_servers_rules_refuse";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let updates = updates();
    let mut changed = Vec::new();
    let mut network = first_update_of(&updates, "ClusterUserDefinedNetwork");
    set(
        &mut network.new,
        "/spec/network/layer2/subnets",
        json!(["10.201.0.0/16"]),
    );
    changed.push((network, "Layer2 is immutable"));
    let mut workspace = first_update_of(&updates, "Workspace");
    set(&mut workspace.new, "/spec/type/name", json!("organization"));
    changed.push((workspace, "name is immutable"));
    let mut cluster = first_update_of(&updates, "HostedCluster");
    set(
        &mut cluster.new,
        "/spec/networking/clusterNetwork",
        json!([{"cidr": "10.200.0.0/14"}]),
    );
    changed.push((cluster, "clusterNetwork is immutable"));
    let (updates, expected): (Vec<Update>, Vec<&str>) = changed.into_iter().unzip();
    for ((update, errors), expected) in updates.iter().zip(judge(&tool, &updates)).zip(expected) {
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{}: expected an error with {expected:?}, got {errors:?}",
            update.at
        );
    }
}

#[test]
fn a_hosted_cluster_keeps_its_etcd_size_in_the_form_it_was_written() {
    // HyperShift's "Etcd PV storage size is immutable" (`self == oldSelf`) compares the values as
    // stored: a size written as a number, or as other text for the same quantity, refuses any
    // other form, and with it every later update of the HostedCluster.
    let test = "a_hosted_cluster_keeps_its_etcd_size_in_the_form_it_was_written";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let dir = root().join("tests/fixtures/openshiftcluster/04-ready");
    let size = "/spec/etcd/managed/storage/persistentVolume/size";
    let mut updates = Vec::new();
    for written in [json!(17179869184_u64), json!("16Gi"), json!(8)] {
        let mut input = support::case_input(&dir);
        set(
            support::observed_mut(&mut input, "hosted-cluster"),
            size,
            written.clone(),
        );
        let rsp = support::render_input(&input);
        let documents = render::documents(
            &input.composite,
            &rsp,
            function_sco::cli::shape(&input.composite),
        );
        let desired = documents
            .iter()
            .find(|d| support::composed_name(d) == "hosted-cluster")
            .expect("the HostedCluster is composed");
        let old = support::observed_mut(&mut input, "hosted-cluster").clone();
        let schema = rules_of(&old).expect("the HostedCluster CRD has rules");
        let new = applied(&old, desired);
        assert_eq!(new.pointer(size), Some(&written));
        updates.push(Update {
            at: format!("etcd size {written}"),
            schema,
            old,
            new,
        });
    }
    for (update, errors) in updates.iter().zip(judge(&tool, &updates)) {
        assert!(errors.is_empty(), "{}: {errors:?}", update.at);
    }
}

/// Platform settings a team may change once resources exist, each feeding a field an upstream
/// CRD makes immutable, by the `sco` key they sit under: the function must keep what the
/// existing objects hold (and say so), never write the new value over it.
fn changed_settings() -> Value {
    let moved = |name: &str, export: &str, suffix: &str| json!({"name": name, "export": {"path": "root:moved", "name": export}, "namespaceSuffix": suffix});
    json!({
        "openshiftCluster": {
            "platform": "None",
            "etcd": {"size": "32Gi", "storageClass": "changed-class"},
            "networks": {
                "clusterNetwork": "10.200.0.0/14",
                "hostPrefix": 24,
                "serviceNetwork": "172.40.0.0/16",
                "machineNetwork": "192.168.200.0/24",
            },
            "controllerAvailabilityPolicy": "SingleReplica",
            "baseDomain": "changed.example.com",
            "upgradeType": "InPlace",
            "private": {"nodePortAddress": "192.0.2.10", "allowedCidrs": ["192.0.2.0/24"]},
        },
        "openshiftNodePool": {"upgradeType": "InPlace"},
        "project": {
            "workspaceType": {"name": "changed", "path": "root:moved"},
            "publishedApis": [
                moved("VirtualMachine", "compute.cloud.stakater.com", "vms"),
                moved("OpenShiftCluster", "kubernetes.cloud.stakater.com", "clusters"),
            ],
        },
        "kcp": {"organisationWorkspaceType": {"name": "changed", "path": "root:moved"}},
    })
}

#[test]
fn changed_platform_settings_never_make_an_update_the_rules_refuse() {
    let test = "changed_platform_settings_never_make_an_update_the_rules_refuse";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let (mut updates, mut refusals, mut unexplained) = (Vec::new(), Vec::new(), Vec::new());
    for dir in cases() {
        let fatal = |documents: &[Value]| -> Vec<String> {
            let fatal = documents
                .iter()
                .filter(|d| d["severity"] == "SEVERITY_FATAL");
            fatal
                .map(|d| d["message"].as_str().unwrap().to_owned())
                .collect()
        };
        // A stage without observed objects updates nothing; one refused as it stands is not
        // about settings.
        let expected = read_documents(&dir.join("expected.yaml")).unwrap();
        if !dir.join("observed.yaml").is_file() || !fatal(&expected).is_empty() {
            continue;
        }
        let case = dir.strip_prefix(root()).unwrap().display().to_string();
        let mut input = support::case_input(&dir);
        let environment = input
            .context
            .entry("apiextensions.crossplane.io/environment".to_owned())
            .or_insert_with(|| json!({}));
        merge_patch(environment, &json!({"sco": changed_settings()}));
        let rsp = support::render_input(&input);
        let shape = function_sco::cli::shape(&input.composite);
        let documents = render::documents(&input.composite, &rsp, shape);
        // A setting the function will not keep is refused by name, with the way out.
        for message in fatal(&documents) {
            if message.contains("cannot change from") && message.contains("restore the setting") {
                refusals.push(format!("{case}: {message}"));
            } else {
                unexplained.push(format!("{case}: {message}"));
            }
        }
        updates.extend(updates_of(&case, &input.observed, &documents));
    }
    let kinds = transition_kinds(&updates);
    for kind in IMMUTABLE_KINDS {
        assert!(
            kinds.contains_key(kind),
            "no stage updates a {kind}: {kinds:?}"
        );
    }
    let refused = refused(&updates, &judge(&tool, &updates));
    assert!(
        refused.is_empty(),
        "refused on update:\n{}",
        refused.join("\n")
    );
    assert!(unexplained.is_empty(), "Fatal:\n{}", unexplained.join("\n"));
    eprintln!(
        "{} updates judged under changed settings; with transition rules: {kinds:?}; refused by \
         the function:\n{}",
        updates.len(),
        refusals.join("\n")
    );
}
