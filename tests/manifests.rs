//! The YAML we ship is valid where it is applied: XRDs against Crossplane's XRD CRD,
//! Compositions against the Composition CRD, example XRs against our own XRDs, and the
//! EnvironmentConfigs against theirs. Every composition has an XRD, a Composition and examples.

mod support;

use std::path::Path;

use function_sco::compositions::REGISTRY;
use function_sco::sdk::render;
use serde_json::Value;
use support::{case_dirs, root, schema};

fn documents(path: &Path) -> Vec<Value> {
    render::read_documents(path).unwrap_or_else(|e| panic!("{e}"))
}

fn dir_of(entry_name: &str) -> String {
    function_sco::compositions::by_name(entry_name)
        .expect("a registered composition")
        .dir()
}

#[test]
fn every_committed_xrd_is_the_generated_one() {
    for entry in REGISTRY {
        let path = root()
            .join("xrds")
            .join(entry.dir())
            .join("definition.yaml");
        let committed =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let generated = function_sco::function::generate(&entry.dir()).unwrap();
        assert!(
            committed == generated,
            "{} is stale; regenerate it with `cargo run -- generate {} > xrds/{}/definition.yaml`",
            path.display(),
            entry.dir(),
            entry.dir()
        );
    }
}

#[test]
fn every_composition_ships_an_xrd_a_composition_and_examples() {
    for entry in REGISTRY {
        let dir = root().join("xrds").join(dir_of(entry.name));
        for file in ["definition.yaml", "composition.yaml"] {
            assert!(
                dir.join(file).is_file(),
                "{} has no xrds/{}/{file}",
                entry.name,
                dir_of(entry.name)
            );
        }
        let examples = case_dirs(&root().join("examples").join(dir_of(entry.name)));
        assert!(!examples.is_empty(), "{} has no examples", entry.name);
        for example in examples {
            for file in ["observed.yaml", "environment.yaml", "expected.yaml"] {
                assert!(
                    example.join(file).is_file(),
                    "{} lacks {file}",
                    example.display()
                );
            }
        }
    }
}

#[test]
fn xrds_and_compositions_are_valid_crossplane_objects() {
    for entry in REGISTRY {
        let dir = root().join("xrds").join(dir_of(entry.name));
        for file in ["definition.yaml", "composition.yaml"] {
            for doc in documents(&dir.join(file)) {
                schema::assert_valid(&doc);
            }
        }
        let composition = &documents(&dir.join("composition.yaml"))[0];
        assert_eq!(
            composition["spec"]["compositeTypeRef"]["apiVersion"],
            entry.api_version
        );
        assert_eq!(
            composition["spec"]["compositeTypeRef"]["kind"],
            entry.xr_kind
        );
        let steps = composition["spec"]["pipeline"]
            .as_array()
            .expect("a pipeline");
        let ours = steps
            .iter()
            .find(|s| s["functionRef"]["name"] == "function-sco")
            .expect("a function-sco step");
        assert_eq!(ours["input"]["spec"]["composition"], entry.name);
        // The platform settings come from function-environment-configs, which runs first
        // and loads the EnvironmentConfig the examples ship.
        assert_eq!(
            steps[0]["functionRef"]["name"], "function-environment-configs",
            "{}: the environment step runs first",
            entry.name
        );
        assert_eq!(
            steps[0]["input"]["spec"]["environmentConfigs"][0]["ref"]["name"],
            "sco-platform"
        );
        for example in case_dirs(&root().join("examples").join(entry.dir())) {
            let environment = documents(&example.join("environment.yaml"));
            assert_eq!(environment[0]["metadata"]["name"], "sco-platform");
        }
    }
}

#[test]
fn examples_are_valid_against_their_xrd_and_platform_schema() {
    for entry in REGISTRY {
        let definition = (entry.definition)();
        let xr_schema = &definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        for example in case_dirs(&root().join("examples").join(dir_of(entry.name))) {
            let xr = render::read_document(&example.join("xr.yaml")).unwrap();
            if let Err(errors) = schema::validate_against(xr_schema, &xr) {
                panic!(
                    "{}/xr.yaml is not valid against the {} XRD:\n{}",
                    example.display(),
                    entry.name,
                    errors.join("\n")
                );
            }
            for config in documents(&example.join("environment.yaml")) {
                schema::assert_valid(&config);
            }
        }
    }
}

#[test]
fn an_example_that_breaks_the_xrd_is_caught() {
    // The check above can fail: a misspelt parameter is rejected by the generated schema.
    let entry = &REGISTRY[0];
    let definition = (entry.definition)();
    let xr_schema = &definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let example = &case_dirs(&root().join("examples").join(dir_of(entry.name)))[0];
    let mut xr = render::read_document(&example.join("xr.yaml")).unwrap();
    xr["spec"]["parameters"]["nmae"] = Value::from("typo");
    assert!(schema::validate_against(xr_schema, &xr).is_err());
}

/// Observed state as our tests feed it is what the controllers would write: every observed
/// and fetched object of every example and fixture stage is strictly valid against its kind's
/// upstream schema, status included (composites against our XRDs; what an Object reports of
/// the object it wraps against that object's), so that a test passing on a fixture passes on
/// what a cluster holds.
#[test]
fn observed_and_fetched_objects_are_valid_upstream() {
    let mut errors = Vec::new();
    for dir in &support::cases() {
        for file in ["observed.yaml", "required.yaml"] {
            let path = dir.join(file);
            if !path.is_file() {
                continue;
            }
            for doc in documents(&path) {
                let api_version = doc["apiVersion"].as_str().unwrap_or_default();
                let kind = doc["kind"].as_str().unwrap_or_default();
                let name = doc["metadata"]["name"].as_str().unwrap_or_default();
                let at = format!(
                    "{}: {kind} {name}",
                    path.strip_prefix(root()).unwrap().display()
                );
                if schema::WITHOUT_SCHEMA.contains(&(api_version, kind)) {
                    continue;
                }
                let result = match function_sco::compositions::for_xr(api_version, kind) {
                    Some(entry) => schema::validate_against(
                        &(entry.definition)()["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
                        &doc,
                    ),
                    None => schema::validate(&doc),
                };
                if let Err(found) = result {
                    errors.extend(found.into_iter().map(|e| format!("{at}: {e}")));
                }
                // What provider-kubernetes observed of the object an Object wraps.
                if kind == "Object"
                    && let Some(seen) = doc.pointer("/status/atProvider/manifest")
                    && let Err(found) = schema::validate(seen)
                {
                    errors.extend(
                        found
                            .into_iter()
                            .map(|e| format!("{at}: /status/atProvider/manifest{e}")),
                    );
                }
            }
        }
    }
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}
