//! What function-sco applies over what the API server already holds passes the server's own
//! CEL rules, transition rules included: the immutability rules (`self == oldSelf`, "Services
//! is immutable", "Network spec is immutable", ...) that HyperShift, kcp and OVN-Kubernetes
//! declare in their CRDs, which neither `support::schema` nor `crossplane resource validate`
//! (it has no old object) evaluates. A composed resource refused on update would stay at its
//! old spec with `Synced=False` on every reconcile, so the render tests alone cannot see it.
//!
//! For every example and golden stage, each composed resource the stage observes and composes
//! again is updated as it would be: the desired manifest applied over the observed one as a JSON
//! merge patch (what provider-kubernetes sends without server-side apply; server-side apply
//! gives the same object for the fields we write, `README.md`), and the same for the manifest a
//! provider-kubernetes `Object` wraps, over what the Object reports of it
//! (`status.atProvider.manifest`). Old and new go to `crdrules` (`tests/crossplane/crdrules/`:
//! k8s.io/apiextensions-apiserver's CEL validator, as the server's update strategy runs it, with
//! ratcheting), built by `tests/crossplane/tools.sh`, path in `CRD_RULES`. Without it the tests
//! fail under `CI=true` and are skipped, loudly, elsewhere.

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use function_sco::config::merge_patch;
use function_sco::sdk::render::{self, case_dirs, read_documents};
use serde_json::{Value, json};
use support::{root, schema};

/// Where Crossplane names a composed resource.
const RESOURCE_NAME: &str = "crossplane.io/composition-resource-name";

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

/// The composed resources of `path` by composition resource name.
fn composed(path: &Path) -> BTreeMap<String, Value> {
    read_documents(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|doc| {
            let name = doc["metadata"]["annotations"][RESOURCE_NAME].as_str()?;
            Some((name.to_string(), doc))
        })
        .collect()
}

/// Every update the examples and golden stages make to a resource with CEL rules.
fn updates() -> Vec<Update> {
    let mut updates = Vec::new();
    for base in ["examples", "tests/fixtures"] {
        for kind_dir in case_dirs(&root().join(base)) {
            for dir in case_dirs(&kind_dir) {
                let (observed, expected) = (dir.join("observed.yaml"), dir.join("expected.yaml"));
                if !observed.is_file() || !expected.is_file() {
                    continue;
                }
                let case = dir.strip_prefix(root()).unwrap().display().to_string();
                let observed = composed(&observed);
                for (name, desired) in composed(&expected) {
                    let Some(old) = observed.get(&name) else {
                        continue;
                    };
                    let at = format!("{case}: {name}");
                    if let Some(schema) = rules_of(&desired) {
                        let new = applied(old, &desired);
                        updates.push(Update {
                            at: at.clone(),
                            schema,
                            old: old.clone(),
                            new,
                        });
                    }
                    let (Some(desired), Some(old)) = (
                        desired.pointer("/spec/forProvider/manifest"),
                        old.pointer("/status/atProvider/manifest"),
                    ) else {
                        continue;
                    };
                    if let Some(schema) = rules_of(desired) {
                        updates.push(Update {
                            at: format!("{at}: spec.forProvider.manifest"),
                            schema,
                            old: old.clone(),
                            new: applied(old, desired),
                        });
                    }
                }
            }
        }
    }
    updates
}

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
    let mut kinds = BTreeMap::<String, usize>::new();
    for update in updates.iter().filter(|u| has_transition_rules(u.schema)) {
        *kinds
            .entry(format!(
                "{} {}",
                update.new["apiVersion"].as_str().unwrap(),
                update.new["kind"].as_str().unwrap()
            ))
            .or_default() += 1;
    }
    // Each kind whose CRD makes fields immutable, and that a composition updates, is judged.
    for kind in [
        "hypershift.openshift.io/v1beta1 HostedCluster",
        "hypershift.openshift.io/v1beta1 NodePool",
        "tenancy.kcp.io/v1alpha1 Workspace",
        "apis.kcp.io/v1alpha2 APIBinding",
        "k8s.ovn.org/v1 ClusterUserDefinedNetwork",
    ] {
        assert!(
            kinds.contains_key(kind),
            "no stage updates a {kind}: {kinds:?}"
        );
    }
    let verdicts = judge(&tool, &updates);
    let refused: Vec<String> = updates
        .iter()
        .zip(&verdicts)
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(u, errors)| format!("{}:\n  {}", u.at, errors.join("\n  ")))
        .collect();
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
