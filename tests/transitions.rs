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
//! provider-kubernetes' by default) ends with the same values for the fields we write, and also
//! removes a field its manager stops writing: where the last apply is known, such a field is
//! removed too, so that the rules against removal ("cannot be unset") are tried. The same stages
//! are rendered again with the platform settings that feed immutable fields changed (etcd,
//! networks, availability, platform, upgrade type, workspace types, export paths), over the
//! objects as the stage's own render left them: the function must keep what the objects hold,
//! or refuse the setting by name, never write over it or drop it.
//!
//! HyperShift's controllers write a HostedCluster or NodePool back through Go's typed client
//! (defaulting the infraID right after creation, adding finalizers): every one the stages write
//! is passed through HyperShift's Go types and the result judged against what we wrote, so a
//! field in a form Go writes differently (a quantity, a network, an empty list Go omits) fails.
//!
//! Our own XRDs declare what a user may not change (a project's network, a cluster's name, a VM's
//! first-boot settings); each such rule is shown refusing a change of `tests/xrd-updates.yaml`,
//! with the updates of mutable fields there admitted, on the XRD's schema as we generate it
//! (Crossplane's CRD for the XR adds its own fields around it and keeps the rules).
//!
//! And the CRD Crossplane makes of each XRD is one the API server takes: a structural schema
//! whose rules compile within the cost budget it estimates.
//!
//! Old and new go to `crdrules` (`tests/crossplane/crdrules/`: k8s.io/apiextensions-apiserver's
//! CEL validator, as the server's update strategy runs it, with ratcheting), built by
//! `tests/crossplane/tools.sh`, path in `CRD_RULES`. Without it the tests fail under `CI=true`
//! and are skipped, loudly, elsewhere.

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use function_sco::config::merge_patch;
use function_sco::resources::hypershift;
use function_sco::sdk::render::{self, read_documents};
use serde_json::{Value, json};
use support::{cases, root, schema};

/// One update to judge: where it comes from, the schema whose rules apply, old and new.
#[derive(Clone)]
struct Update<'s> {
    at: String,
    schema: &'s Value,
    old: Value,
    new: Value,
}

/// The CRD schema of `manifest`'s kind when it declares CEL rules (`None` for kinds without a
/// CRD here, such as the core kinds, or without rules).
fn rules_of(manifest: &Value) -> Option<&'static Value> {
    let api_version = manifest["apiVersion"].as_str()?;
    let kind = manifest["kind"].as_str()?;
    schema::open_api_v3(api_version, kind).filter(|s| !rules_in(s).is_empty())
}

/// Every CEL rule (`{rule, message}`) a schema declares.
fn rules_in(schema: &Value) -> Vec<&Value> {
    fn walk<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                    out.extend(rules);
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, &mut out);
    out
}

/// Whether a rule is a transition rule (one that reads `oldSelf`).
fn is_transition(rule: &Value) -> bool {
    rule["rule"].as_str().is_some_and(|r| r.contains("oldSelf"))
}

/// `old` with `desired` applied over it as a JSON merge patch.
fn applied(old: &Value, desired: &Value) -> Value {
    let mut new = old.clone();
    merge_patch(&mut new, desired);
    new
}

/// Where a provider-kubernetes `Object` holds the manifest it applies, and what it reports of
/// the object it applied.
const MANIFEST: &str = "/spec/forProvider/manifest";
const OBSERVED_MANIFEST: &str = "/status/atProvider/manifest";

/// One object a render writes: a composed resource, or the manifest an `Object` wraps.
struct Write<'a> {
    /// `<composed resource name>`, with `: spec.forProvider.manifest` for a wrapped manifest.
    at: String,
    /// The composed resource's name.
    name: &'a str,
    /// Whether it is the manifest an `Object` wraps.
    wrapped: bool,
    desired: &'a Value,
    /// What the API server holds of it (`None`: the write creates it).
    old: Option<&'a Value>,
}

/// Every object `desired` (render documents) writes, with what `observed` holds of each.
fn writes<'a>(observed: &'a [Value], desired: &'a [Value]) -> Vec<Write<'a>> {
    let mut writes = Vec::new();
    for document in desired {
        let name = support::composed_name(document);
        if name.is_empty() {
            continue;
        }
        let old = observed.iter().find(|o| support::composed_name(o) == name);
        writes.push(Write {
            at: name.to_owned(),
            name,
            wrapped: false,
            desired: document,
            old,
        });
        if let Some(manifest) = document.pointer(MANIFEST) {
            writes.push(Write {
                at: format!("{name}: spec.forProvider.manifest"),
                name,
                wrapped: true,
                desired: manifest,
                old: old.and_then(|o| o.pointer(OBSERVED_MANIFEST)),
            });
        }
    }
    writes
}

/// The updates `desired` (render documents) makes to the `observed` composed resources of
/// `case` that have CEL rules: the composed resource itself, and the manifest an `Object`
/// wraps over what the Object reports of it. `before` holds what was applied last (empty when
/// that is what `observed` holds): a field it wrote that `desired` no longer does is removed,
/// as server-side apply removes a field its manager stops applying.
fn updates_of(
    case: &str,
    observed: &[Value],
    before: &[Value],
    desired: &[Value],
) -> Vec<Update<'static>> {
    let mut updates = Vec::new();
    for write in writes(observed, desired) {
        let (Some(old), Some(schema)) = (write.old, rules_of(write.desired)) else {
            continue;
        };
        let mut new = applied(old, write.desired);
        let last = before
            .iter()
            .find(|b| support::composed_name(b) == write.name);
        let last = last.and_then(|b| {
            if write.wrapped {
                b.pointer(MANIFEST)
            } else {
                Some(b)
            }
        });
        if let Some(last) = last {
            drop_unwritten(&mut new, last, write.desired);
        }
        updates.push(Update {
            at: format!("{case}: {}", write.at),
            schema,
            old: old.clone(),
            new,
        });
    }
    updates
}

/// Removes from `new` what `before` wrote and `desired` does not (objects key by key; lists
/// and values are written whole).
fn drop_unwritten(new: &mut Value, before: &Value, desired: &Value) {
    let (Value::Object(new), Value::Object(before)) = (new, before) else {
        return;
    };
    for (key, was) in before {
        match desired.get(key) {
            None => {
                new.remove(key);
            }
            Some(now) => {
                if let Some(new) = new.get_mut(key) {
                    drop_unwritten(new, was, now);
                }
            }
        }
    }
}

/// Every update the examples and golden stages make, as their `expected.yaml` has it.
fn updates() -> Vec<Update<'static>> {
    let mut updates = Vec::new();
    for dir in cases() {
        let case = dir.strip_prefix(root()).unwrap().display().to_string();
        let (observed, expected) = (
            documents(&dir, "observed.yaml"),
            documents(&dir, "expected.yaml"),
        );
        updates.extend(updates_of(&case, &observed, &[], &expected));
    }
    updates
}

/// The documents of `dir`'s file `name`; none when there is no such file.
fn documents(dir: &Path, name: &str) -> Vec<Value> {
    let path = dir.join(name);
    if path.is_file() {
        read_documents(&path).unwrap_or_else(|e| panic!("{e}"))
    } else {
        Vec::new()
    }
}

/// The update lines the judge refused, with its errors.
fn refused(updates: &[Update<'_>], verdicts: &[Vec<String>]) -> Vec<String> {
    updates
        .iter()
        .zip(verdicts)
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(u, errors)| format!("{}:\n  {}", u.at, errors.join("\n  ")))
        .collect()
}

/// How many updates of each kind with transition rules `updates` holds.
fn transition_kinds(updates: &[Update<'_>]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    // Whether each schema has transition rules, by address: a few schemas serve every update.
    let mut known = BTreeMap::<*const Value, bool>::new();
    for update in updates {
        let schema = update.schema;
        let transitions = *known
            .entry(schema)
            .or_insert_with(|| rules_in(schema).into_iter().any(is_transition));
        if transitions {
            let (api_version, kind) = (&update.new["apiVersion"], &update.new["kind"]);
            let kind = format!(
                "{} {}",
                api_version.as_str().unwrap(),
                kind.as_str().unwrap()
            );
            *kinds.entry(kind).or_default() += 1;
        }
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
fn judge(tool: &Path, updates: &[Update<'_>]) -> Vec<Vec<String>> {
    judge_through(tool, updates, "")
}

/// [`judge`], with each new object first passed through the Go types `through` names
/// (`crdrules`' `through`; empty: none).
fn judge_through(tool: &Path, updates: &[Update<'_>], through: &str) -> Vec<Vec<String>> {
    let inputs: Vec<Value> = updates
        .iter()
        .map(|u| json!({"schema": u.schema, "old": u.old, "new": u.new, "through": through}))
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

/// Judges `updates`, requiring each of [`IMMUTABLE_KINDS`] among them and none refused; how many
/// of each kind with transition rules there were.
fn judge_all(tool: &Path, updates: &[Update<'_>]) -> BTreeMap<String, usize> {
    let kinds = transition_kinds(updates);
    for kind in IMMUTABLE_KINDS {
        assert!(
            kinds.contains_key(kind),
            "no stage updates a {kind}: {kinds:?}"
        );
    }
    let refused = refused(updates, &judge(tool, updates));
    assert!(
        refused.is_empty(),
        "refused on update:\n{}",
        refused.join("\n")
    );
    kinds
}

#[test]
fn every_update_a_stage_makes_passes_the_servers_transition_rules() {
    let test = "every_update_a_stage_makes_passes_the_servers_transition_rules";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let updates = updates();
    let kinds = judge_all(&tool, &updates);
    eprintln!(
        "{} updates judged; with transition rules: {kinds:?}",
        updates.len()
    );
}

/// The first update of `kind` the stages make, to change by hand.
fn first_update_of<'s>(updates: &[Update<'s>], kind: &str) -> Update<'s> {
    updates
        .iter()
        .find(|u| u.new["kind"] == kind)
        .unwrap_or_else(|| panic!("no stage updates a {kind}"))
        .clone()
}

/// Replaces what `pointer` names in `value` (it must be there; [`edit`] adds and removes).
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
    // What HyperShift's controller does to a size in a form Go does not keep: its typed update
    // writes the canonical form, which the rule refuses (the settings refuse such forms).
    let mut rewritten = first_update_of(&updates, "HostedCluster");
    let size = "/spec/etcd/managed/storage/persistentVolume/size";
    set(&mut rewritten.old, size, json!("8192Mi"));
    set(&mut rewritten.new, size, json!("8Gi"));
    changed.push((rewritten, "Etcd PV storage size is immutable"));
    // A field the last apply wrote and this one does not goes away: had we written a
    // Workspace's URL (kcp's), dropping it is refused.
    let dir = root().join("examples/organisation/acme");
    let (observed, desired) = (
        documents(&dir, "observed.yaml"),
        documents(&dir, "expected.yaml"),
    );
    let mut before = desired.clone();
    for document in &mut before {
        let (name, manifest) = (
            support::composed_name(document),
            "/spec/forProvider/manifest",
        );
        if name == "workspace" {
            let url = json!("https://kcp.cloud.example.com/clusters/root:acme");
            edit(document, &format!("{manifest}/spec/URL"), Some(url));
        }
    }
    let dropped = updates_of("URL dropped", &observed, &before, &desired);
    let dropped = first_update_of(&dropped, "Workspace");
    changed.push((dropped, "URL cannot be unset"));
    let (updates, expected): (Vec<Update<'_>>, Vec<&str>) = changed.into_iter().unzip();
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
        let expected = documents(&dir, "expected.yaml");
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
        // A setting the function will not keep is refused by name, with the way out. What it
        // stops writing is removed from the objects (the expected render is what it applied).
        for message in fatal(&documents) {
            if message.contains("cannot change from") && message.contains("restore the setting") {
                refusals.push(format!("{case}: {message}"));
            } else {
                unexplained.push(format!("{case}: {message}"));
            }
        }
        updates.extend(updates_of(&case, &input.observed, &expected, &documents));
    }
    let kinds = judge_all(&tool, &updates);
    assert!(unexplained.is_empty(), "Fatal:\n{}", unexplained.join("\n"));
    eprintln!(
        "{} updates judged under changed settings; with transition rules: {kinds:?}; refused by \
         the function:\n{}",
        updates.len(),
        refusals.join("\n")
    );
}

/// Sets (`Some`) or removes (`None`) what `pointer` names in `value`; the parent must exist.
fn edit(value: &mut Value, pointer: &str, to: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a key");
    let parent = value
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"));
    match to {
        Some(to) => parent.insert(key.to_owned(), to),
        None => parent.remove(key),
    };
}

/// Every transition rule of every XRD, as `(kind, message)`.
fn xrd_transition_rules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in function_sco::compositions::REGISTRY {
        let xrd = (entry.definition)();
        let kind = xrd["spec"]["names"]["kind"].as_str().unwrap();
        let rules = rules_in(&xrd["spec"]["versions"]);
        for rule in rules.into_iter().filter(|r| is_transition(r)) {
            let message = rule["message"].as_str().unwrap_or_default();
            out.push((kind.to_owned(), message.to_owned()));
        }
    }
    out
}

/// A change to an example XR, from `tests/xrd-updates.yaml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct XrChange {
    /// The example (`examples/<example>/xr.yaml`).
    example: String,
    /// Values to set, by JSON pointer under `spec.parameters`.
    #[serde(default)]
    set: BTreeMap<String, Value>,
    /// A JSON pointer under `spec.parameters` to remove.
    remove: Option<String>,
    /// A text of the XRD's refusal; absent where the change is admitted.
    refused: Option<String>,
}

#[test]
fn every_xrd_refuses_changing_what_it_declares_immutable_and_admits_the_rest() {
    let test = "every_xrd_refuses_changing_what_it_declares_immutable_and_admits_the_rest";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let corpus = std::fs::read_to_string(root().join("tests/xrd-updates.yaml")).unwrap();
    let cases: Vec<XrChange> = serde_norway::from_str(&corpus).unwrap();
    let definition = |example: &str| {
        let xr = render::read_document(&root().join("examples").join(example).join("xr.yaml"));
        let xr = xr.unwrap();
        let (api_version, kind) = (xr["apiVersion"].as_str(), xr["kind"].as_str());
        let entry = function_sco::compositions::for_xr(api_version.unwrap(), kind.unwrap());
        (xr, (entry.expect("our XR kind").definition)())
    };
    let read: Vec<(Value, Value)> = cases.iter().map(|c| definition(&c.example)).collect();
    let mut updates = Vec::new();
    for (change, (old, xrd)) in cases.iter().zip(&read) {
        let mut new = old.clone();
        let edits = change.set.iter().map(|(at, to)| (at, Some(to.clone())));
        for (at, to) in edits.chain(change.remove.iter().map(|at| (at, None))) {
            edit(&mut new, &format!("/spec/parameters{at}"), to);
        }
        updates.push(Update {
            at: format!(
                "{}: set {:?}, remove {:?}",
                change.example, change.set, change.remove
            ),
            schema: &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
            old: old.clone(),
            new,
        });
    }
    let verdicts = judge(&tool, &updates);
    let mut wrong = Vec::new();
    let mut seen = Vec::new();
    for ((update, errors), change) in updates.iter().zip(&verdicts).zip(&cases) {
        seen.extend(errors.iter().cloned());
        match &change.refused {
            Some(text) if !errors.iter().any(|e| e.contains(text.as_str())) => {
                wrong.push(format!(
                    "{}: expected a refusal with {text:?}, got {errors:?}",
                    update.at
                ));
            }
            None if !errors.is_empty() => {
                wrong.push(format!(
                    "{}: expected it admitted, got {errors:?}",
                    update.at
                ));
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // Every transition rule of every XRD is shown refusing at least once.
    let unshown: Vec<_> = xrd_transition_rules()
        .into_iter()
        .filter(|(_, message)| !seen.iter().any(|e| e.contains(message.as_str())))
        .collect();
    assert!(
        unshown.is_empty(),
        "transition rules no case shows refusing: {unshown:#?}"
    );
}

#[test]
fn hypershifts_own_typed_updates_of_what_we_write_pass_its_rules() {
    // HyperShift's controllers update a HostedCluster or NodePool through Go's typed client
    // (the HostedCluster's infraID is defaulted that way right after it is created), writing
    // every field back as its Go type encodes it; the CRD's immutability rules compare that with
    // what we wrote, so each must be the form Go writes (an etcd size, a network, an empty list
    // Go omits).
    let test = "hypershifts_own_typed_updates_of_what_we_write_pass_its_rules";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let mut stored = Vec::new();
    for dir in cases() {
        let case = dir.strip_prefix(root()).unwrap().display().to_string();
        let (observed, expected) = (
            documents(&dir, "observed.yaml"),
            documents(&dir, "expected.yaml"),
        );
        for write in writes(&observed, &expected) {
            let kind = write.desired["kind"].as_str().unwrap_or_default();
            if write.desired["apiVersion"] != hypershift::API_VERSION
                || !["HostedCluster", "NodePool"].contains(&kind)
            {
                continue;
            }
            let written = applied(write.old.unwrap_or(&json!({})), write.desired);
            let schema = rules_of(&written).expect("HyperShift's CRDs have rules");
            stored.push(Update {
                at: format!("{case}: {} ({kind})", write.at),
                schema,
                old: written.clone(),
                new: written,
            });
        }
    }
    assert!(
        stored.len() >= 15,
        "only {} HostedClusters and NodePools",
        stored.len()
    );

    let refused = refused(&stored, &judge_through(&tool, &stored, "hypershift"));
    assert!(
        refused.is_empty(),
        "HyperShift's typed update refused:\n{}",
        refused.join("\n")
    );
    // Forms Go writes differently are refused: a quantity and a network in other text.
    let cluster = stored
        .iter()
        .find(|u| u.new["kind"] == "HostedCluster")
        .expect("a HostedCluster");
    let mut forms = Vec::new();
    for (pointer, written, refusal) in [
        (
            "/spec/etcd/managed/storage/persistentVolume/size",
            json!("8192Mi"),
            "Etcd PV storage size is immutable",
        ),
        (
            "/spec/networking/clusterNetwork/0/cidr",
            json!("FD00:0::/48"),
            "clusterNetwork is immutable",
        ),
    ] {
        let mut update = cluster.clone();
        set(&mut update.old, pointer, written.clone());
        set(&mut update.new, pointer, written);
        forms.push((update, refusal));
    }
    let (forms, refusals): (Vec<Update<'_>>, Vec<&str>) = forms.into_iter().unzip();
    for ((update, errors), refusal) in forms
        .iter()
        .zip(judge_through(&tool, &forms, "hypershift"))
        .zip(refusals)
    {
        assert!(
            errors.iter().any(|e| e.contains(refusal)),
            "{}: {errors:?}",
            update.at
        );
    }
}

/// The CustomResourceDefinition Crossplane makes of an XRD, as far as the API server's
/// validation of it goes: the XRD's group, names, scope and versions with their schemas (the
/// fields Crossplane adds to each schema carry no rules).
fn crd_of(xrd: &Value) -> Value {
    let spec = &xrd["spec"];
    let scope = match spec["scope"].as_str() {
        Some("Namespaced") => "Namespaced",
        _ => "Cluster",
    };
    let versions: Vec<Value> = spec["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            json!({"name": v["name"], "served": v["served"], "storage": v["referenceable"],
                   "schema": v["schema"], "subresources": {"status": {}}})
        })
        .collect();
    let names = &spec["names"];
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{}", names["plural"].as_str().unwrap(), spec["group"].as_str().unwrap())},
        "spec": {"group": spec["group"], "names": names, "scope": scope, "versions": versions},
    })
}

/// The API server's verdict on each CRD (`crdrules`' `crd` input).
fn judge_crds(tool: &Path, crds: &[Value]) -> Vec<Vec<String>> {
    let inputs: Vec<Value> = crds.iter().map(|crd| json!({"crd": crd})).collect();
    let output = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            serde_json::to_writer(child.stdin.take().unwrap(), &inputs)?;
            child.wait_with_output()
        })
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
    let outputs: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    outputs
        .iter()
        .map(|o| {
            let errors = o["errors"].as_array().into_iter().flatten();
            errors
                .map(|e| e.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn every_xrd_makes_a_crd_the_api_server_takes_its_rules_within_budget() {
    // The API server refuses a CRD whose schema is not structural or whose CEL rules do not
    // compile or may cost more than its budget; Crossplane would then never serve the XR.
    let test = "every_xrd_makes_a_crd_the_api_server_takes_its_rules_within_budget";
    let Some(tool) = support::external_tool("CRD_RULES", test) else {
        return;
    };
    let xrds: Vec<Value> = function_sco::compositions::REGISTRY
        .iter()
        .map(|entry| (entry.definition)())
        .collect();
    let mut crds: Vec<Value> = xrds.iter().map(crd_of).collect();
    // A rule over every pair of keys of a map without maxProperties may cost more than the
    // budget (one over each key, as the Group's attribute names are bounded, does not).
    let group = xrds
        .iter()
        .position(|x| x["spec"]["names"]["kind"] == "Group");
    let mut costly = crd_of(&xrds[group.expect("the Group XRD")]);
    let attributes = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/\
                      parameters/properties/attributes";
    costly
        .pointer_mut(attributes)
        .and_then(Value::as_object_mut)
        .expect("the attributes schema")
        .insert(
            "x-kubernetes-validations".into(),
            json!([{"rule": "self.all(k, self.all(j, k == j || !k.startsWith(j)))"}]),
        );
    crds.push(costly);
    let verdicts = judge_crds(&tool, &crds);
    let (control, verdicts) = verdicts.split_last().unwrap();
    for (xrd, errors) in xrds.iter().zip(verdicts) {
        assert!(
            errors.is_empty(),
            "{}: {errors:#?}",
            xrd["metadata"]["name"]
        );
    }
    assert!(
        control
            .iter()
            .any(|e| e.contains("estimated rule cost exceeds budget")),
        "a costly rule was taken: {control:?}"
    );
}
