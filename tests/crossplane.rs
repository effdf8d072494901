//! Conformance with Crossplane's own tools, the way users will judge function-sco:
//!
//! - every example renders through `crossplane composition render` (the Crossplane CLI driving
//!   the core binary's `crossplane internal render`: the real composite reconciler, with the
//!   real function pipeline and requirements loop) to its committed `expected.yaml`, which is
//!   also what our own `function-sco render` prints (tests/render.rs), so any difference between
//!   the two renders fails here;
//! - every composed manifest of every example and golden stage, the manifests wrapped in
//!   provider-kubernetes `Object`s, and every XR against our XRDs pass
//!   `crossplane resource validate` (Kubernetes' own apiextensions validation) with the vendored
//!   CRDs in `schemas/`, offline.
//!
//! The tools come from `tests/crossplane/tools.sh` (versions in `tests/crossplane/versions.env`);
//! `.ci/run` builds them and passes their paths in `CROSSPLANE_CLI` and `CROSSPLANE_CORE`, and
//! the release binary of function-sco in `FUNCTION_SCO_BINARY` (else the test build serves).
//! Without those variables the tests fail under `CI=true` and are skipped, loudly, elsewhere.
//!
//! Deviation: function-environment-configs, the first step of our Compositions, cannot be had
//! (the Go module proxy refuses every version of it; see versions.env), so the render drops that
//! step from the Composition and passes what it would have put into the context, the
//! `sco-platform` EnvironmentConfig's data as an `internal.crossplane.io/v1alpha1 Environment`,
//! with the CLI's `--context-files apiextensions.crossplane.io/environment=FILE`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use function_sco::sdk::render::{self, case_dirs, read_document, read_documents};
use serde_json::{Value, json};
use support::process::Served;
use support::root;

/// The function every remaining step of our Compositions must call: the one we serve.
const FUNCTION: &str = "function-sco";
/// The step the render drops (see the module docs).
const ENVIRONMENT_FUNCTION: &str = "function-environment-configs";
/// Crossplane's context key for the environment.
const ENVIRONMENT_KEY: &str = "apiextensions.crossplane.io/environment";

/// The Crossplane CLI and core binary.
struct Tools {
    cli: PathBuf,
    core: PathBuf,
}

/// The tools from `CROSSPLANE_CLI` and `CROSSPLANE_CORE`; `None` (after saying so on stderr)
/// when they are not set outside CI. Under `CI=true` missing tools fail the test.
fn tools(test: &str) -> Option<Tools> {
    Some(Tools {
        cli: support::external_tool("CROSSPLANE_CLI", test)?,
        core: support::external_tool("CROSSPLANE_CORE", test)?,
    })
}

/// A fresh directory for one test's generated inputs and outputs, `target/crossplane/<name>/`:
/// kept after the run, so that the commands it prints (and the README shows) can be re-run.
fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target/crossplane").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

fn write_yaml(path: &Path, documents: &[Value]) {
    fs::write(path, render::to_yaml(documents))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// `xrds/<kind>/` of an example `examples/<kind>/<case>/`.
fn xrd_dir(example: &Path) -> PathBuf {
    let kind = example
        .parent()
        .and_then(Path::file_name)
        .expect("examples/<kind>/<case>");
    root().join("xrds").join(kind)
}

// ---------------------------------------------------------------------------------------------
// Render.

/// The Composition as CI renders it: without the function-environment-configs step. Every
/// other step must call function-sco, the only function served here.
fn composition_without_environment_step(path: &Path) -> Value {
    let mut composition = read_document(path).unwrap_or_else(|e| panic!("{e}"));
    let pipeline = composition
        .pointer_mut("/spec/pipeline")
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("{}: no spec.pipeline", path.display()));
    pipeline.retain(|step| step.pointer("/functionRef/name") != Some(&json!(ENVIRONMENT_FUNCTION)));
    for step in pipeline.iter() {
        assert_eq!(
            step.pointer("/functionRef/name"),
            Some(&json!(FUNCTION)),
            "{}: step {} calls a function this check cannot run",
            path.display(),
            step["step"]
        );
    }
    composition
}

/// The Function the CLI reaches over plaintext at `target`.
fn development_function(target: &str) -> Value {
    json!({
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": {
            "name": FUNCTION,
            "annotations": {
                "render.crossplane.io/runtime": "Development",
                "render.crossplane.io/runtime-development-target": target,
            },
        },
        "spec": {"package": "ghcr.io/stakater/function-sco:v0.1.0"},
    })
}

/// What is compared: Crossplane's output and `expected.yaml` (our render's) must be
/// byte-identical once this has removed what our render cannot know (everything else it
/// reproduces: the XR's `spec.crossplane.resourceRefs`, its conditions in Crossplane's order at
/// Crossplane's fixed render time, the `crossplane.io/composite` label):
/// - on composed resources, the controller `ownerReferences` entry pointing at the XR, whose
///   `uid` the CLI derives from the XR (a name-based UUID that our render has no SHA-1 for);
/// - among results, the reconciler's own `SelectComposition` event (our render takes no
///   Composition); the others are compared by message, since Crossplane prints results as the
///   events of its reconciler (`severity: Normal|Warning`) where ours prints the function's.
fn normalise(documents: &[Value]) -> Vec<Value> {
    let mut out = Vec::with_capacity(documents.len());
    for (i, document) in documents.iter().enumerate() {
        let mut document = document.clone();
        if document["kind"] == "Result" {
            if document["reason"] == "SelectComposition" {
                continue;
            }
            document = json!({"kind": "Result", "message": document["message"]});
        } else if i > 0
            && let Some(metadata) = document.get_mut("metadata").and_then(Value::as_object_mut)
        {
            metadata.remove("ownerReferences");
        }
        out.push(document);
    }
    out
}

#[test]
fn every_example_renders_through_crossplane_to_its_expected_output() {
    let Some(tools) = tools("every_example_renders_through_crossplane_to_its_expected_output")
    else {
        return;
    };
    let examples = case_dirs(&root().join("examples"));
    assert!(!examples.is_empty(), "no examples");
    let work = scratch("render");
    // The binary users run (`cargo build --release`, which .ci/run builds and names in
    // FUNCTION_SCO_BINARY), or this test build of it.
    let server = match std::env::var_os("FUNCTION_SCO_BINARY") {
        Some(binary) => Served::start_binary(Path::new(&binary), &["--insecure"]),
        None => Served::start(&["--insecure"]),
    };
    let mut failures = Vec::new();
    for example in &examples {
        let name = example
            .strip_prefix(root().join("examples"))
            .unwrap()
            .display()
            .to_string()
            .replace('/', "-");
        let dir = work.join(&name);
        fs::create_dir_all(&dir).unwrap();
        let xrds = xrd_dir(example);
        let composition = dir.join("composition.yaml");
        write_yaml(
            &composition,
            &[composition_without_environment_step(
                &xrds.join("composition.yaml"),
            )],
        );
        let functions = dir.join("functions.yaml");
        write_yaml(
            &functions,
            &[development_function(&server.address.to_string())],
        );
        let mut command = Command::new(&tools.cli);
        command
            .args(["composition", "render"])
            .arg(example.join("xr.yaml"))
            .arg(&composition)
            .arg(&functions)
            .arg(format!("--crossplane-binary={}", tools.core.display()))
            .arg(format!("--xrd={}", xrds.join("definition.yaml").display()))
            .arg("--include-function-results");
        let environment_file = example.join("environment.yaml");
        if environment_file.is_file() {
            let environment = render::environment_from(
                &read_documents(&environment_file).unwrap_or_else(|e| panic!("{e}")),
            );
            let context = dir.join("environment.json");
            fs::write(&context, environment.to_string()).unwrap();
            command.arg(format!(
                "--context-files={ENVIRONMENT_KEY}={}",
                context.display()
            ));
        }
        for (file, flag) in [
            ("observed.yaml", "--observed-resources"),
            ("required.yaml", "--required-resources"),
            // The step's credentials (the platform seed), as Secrets the CLI hands over.
            ("credentials.yaml", "--function-credentials"),
        ] {
            if example.join(file).is_file() {
                command.arg(format!("{flag}={}", example.join(file).display()));
            }
        }
        eprintln!("{}", shown(&command));
        let output = run(&mut command);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        fs::write(dir.join("crossplane.yaml"), &stdout).unwrap();
        if !output.status.success() {
            failures.push(format!(
                "{}: `{command:?}` failed ({}):\n{}",
                example.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        let crossplane = serde_norway::Deserializer::from_str(&stdout)
            .map(|d| serde::Deserialize::deserialize(d).expect("the CLI prints YAML"))
            .filter(|v: &Value| !v.is_null())
            .collect::<Vec<Value>>();
        let expected = read_documents(&example.join("expected.yaml")).unwrap();
        let (crossplane, expected) = (
            render::to_yaml(&sorted_results(normalise(&crossplane))),
            render::to_yaml(&sorted_results(normalise(&expected))),
        );
        if crossplane != expected {
            let ours = dir.join("expected.normalised.yaml");
            let theirs = dir.join("crossplane.normalised.yaml");
            fs::write(&ours, &expected).unwrap();
            fs::write(&theirs, &crossplane).unwrap();
            failures.push(format!(
                "{}: Crossplane's render differs from expected.yaml after normalisation:\n{}",
                example.display(),
                diff(&ours, &theirs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(outputs kept in {}; function-sco's log:\n{})",
        failures.join("\n"),
        work.display(),
        server.log()
    );
}

/// A command as a shell line, paths relative to the repository root.
fn shown(command: &Command) -> String {
    let prefix = format!("{}/", root().display());
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().replace(&prefix, ""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Results last, sorted by message (Crossplane orders its events by its own rules).
fn sorted_results(mut documents: Vec<Value>) -> Vec<Value> {
    let split = documents
        .iter()
        .position(|d| d["kind"] == "Result")
        .unwrap_or(documents.len());
    let mut results = documents.split_off(split);
    results.sort_by_key(|r| r["message"].to_string());
    results.dedup();
    documents.extend(results);
    documents
}

/// A unified diff of two files (by `diff -u`, which every CI machine has).
fn diff(a: &Path, b: &Path) -> String {
    let output = run(Command::new("diff").arg("-u").arg(a).arg(b));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Validate.

/// The API groups of Kubernetes' built-in kinds: no CRD describes them, so
/// `crossplane resource validate` has no schema for them offline (its `--crossplane-image`
/// holds Crossplane's CRDs only). The strict validator (tests/render.rs) checks them against
/// the core JSON schemas in `schemas/core/`.
const BUILT_IN_GROUPS: [&str; 2] = ["", "rbac.authorization.k8s.io"];

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// The KubeVirt schema fragments wrapped into CRDs (virt-operator attaches the fragment to every
/// served version), from the KubeVirt table of `schemas/README.md`.
fn kubevirt_crds() -> Vec<Value> {
    let readme = fs::read_to_string(root().join("schemas/README.md")).unwrap();
    let mut crds = Vec::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        let [_, file, group, kind, scope, served, ..] = cells.as_slice() else {
            continue;
        };
        let Some(name) = file
            .strip_prefix("kubevirt/")
            .and_then(|f| f.strip_suffix(".openAPIV3Schema.yaml"))
        else {
            continue;
        };
        let fragment = read_document(&root().join("schemas").join(file)).unwrap();
        let plural = name.split('.').next().unwrap();
        let versions: Vec<Value> = served
            .split(',')
            .map(|v| {
                let storage = v.contains('*');
                let version = v.split(['*', '(']).next().unwrap().trim();
                json!({
                    "name": version,
                    "served": true,
                    "storage": storage,
                    "schema": {"openAPIV3Schema": fragment["openAPIV3Schema"]},
                })
            })
            .collect();
        crds.push(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": group,
                "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                          "listKind": format!("{kind}List")},
                "scope": if *scope == "C" { "Cluster" } else { "Namespaced" },
                "versions": versions,
            },
        }));
    }
    assert!(!crds.is_empty(), "no KubeVirt rows in schemas/README.md");
    crds
}

/// The extension files: every CRD in `schemas/` (and `schemas/derived/`), the KubeVirt
/// fragments as CRDs (written into `work`), and our XRDs. Also returns the (group, kind) pairs
/// they define.
fn extensions(work: &Path) -> (Vec<PathBuf>, BTreeSet<(String, String)>) {
    let mut files = Vec::new();
    for dir in ["schemas", "schemas/derived"] {
        let mut crds: Vec<PathBuf> = fs::read_dir(root().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        crds.sort();
        files.extend(crds);
    }
    let kubevirt = work.join("kubevirt-crds.yaml");
    write_yaml(&kubevirt, &kubevirt_crds());
    files.push(kubevirt);
    for xrd in fs::read_dir(root().join("xrds")).unwrap().flatten() {
        files.push(xrd.path().join("definition.yaml"));
    }
    let mut kinds = BTreeSet::new();
    for file in &files {
        for document in read_documents(file).unwrap() {
            let group = document.pointer("/spec/group").and_then(Value::as_str);
            let kind = document.pointer("/spec/names/kind").and_then(Value::as_str);
            if let (Some(group), Some(kind)) = (group, kind) {
                kinds.insert((group.to_owned(), kind.to_owned()));
            }
        }
    }
    (files, kinds)
}

/// Every composed manifest of an `expected.yaml` (the XR and Results left out) and the
/// manifests wrapped in provider-kubernetes `Object`s.
fn composed_manifests(expected: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for document in read_documents(expected).unwrap().into_iter().skip(1) {
        if document["kind"] == "Result" {
            continue;
        }
        let wrapped = (document["kind"] == "Object"
            && group_of(document["apiVersion"].as_str().unwrap_or_default())
                .starts_with("kubernetes."))
        .then(|| document.pointer("/spec/forProvider/manifest").cloned())
        .flatten();
        out.push(document);
        out.extend(wrapped);
    }
    out
}

#[test]
fn every_manifest_and_xr_passes_crossplane_resource_validate() {
    let Some(tools) = tools("every_manifest_and_xr_passes_crossplane_resource_validate") else {
        return;
    };
    let work = scratch("validate");
    let (extensions, defined) = extensions(&work);
    let resources = work.join("resources");
    fs::create_dir_all(&resources).unwrap();
    let cases = support::cases();
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        let name = case
            .strip_prefix(root())
            .unwrap()
            .display()
            .to_string()
            .replace('/', "-");
        let mut documents = Vec::new();
        // This fixture keeps the function's own answer to an XR its XRD now refuses at
        // admission (a CEL rule; `tests/bad-inputs/virtualmachine/21-*` holds that refusal).
        if !case.ends_with("virtualmachine/refused-too-little-memory") {
            documents.push(read_document(&case.join("xr.yaml")).unwrap());
        }
        documents.extend(composed_manifests(&case.join("expected.yaml")));
        let mut checked = Vec::new();
        for document in documents {
            let api_version = document["apiVersion"].as_str().unwrap_or_default();
            let key = (
                group_of(api_version).to_owned(),
                document["kind"].as_str().unwrap_or_default().to_owned(),
            );
            if defined.contains(&key) {
                *counted.entry("validated").or_default() += 1;
                checked.push(document);
            } else {
                assert!(
                    BUILT_IN_GROUPS.contains(&key.0.as_str()),
                    "{}: no vendored CRD or XRD defines {api_version} {}",
                    case.display(),
                    key.1
                );
                *counted
                    .entry("built-in, left to the strict validator")
                    .or_default() += 1;
            }
        }
        write_yaml(&resources.join(format!("{name}.yaml")), &checked);
    }
    let extension_list = extensions
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut command = Command::new(&tools.cli);
    command
        .args(["resource", "validate"])
        .arg(&extension_list)
        .arg(&resources)
        // Offline: no Crossplane image to pull (its CRDs are vendored), a private cache.
        .arg("--crossplane-image=")
        .arg(format!("--cache-dir={}", work.join("cache").display()))
        .arg("--error-on-missing-schemas")
        .arg("--skip-success-results");
    eprintln!("{}", shown(&command));
    let output = run(&mut command);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "crossplane resource validate failed ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("crossplane resource validate: {counted:?}\n{stdout}");
    assert!(counted.get("validated").copied().unwrap_or(0) > 0);
}
