//! Property tests over generated XRs, for every registered composition:
//!
//! - **well-typed specs**, generated from the composition's own XRD schema (enums, patterns,
//!   lengths, list sizes, required fields) with string values also drawn from the examples,
//!   rendered with an example's environment, observed and required objects: the function
//!   answers, never panics, and either composes manifests that are strictly valid against
//!   the upstream schemas or returns a Fatal that names a field;
//! - **arbitrary trees** in place of the spec (any JSON, real field names mixed in, control
//!   characters and deep nesting included): an answer, never a panic, never a gRPC error;
//! - the same request always gives **the same bytes**;
//! - a desired resource **an earlier pipeline step composed** passes through untouched.
//!
//! Failing cases shrink to a minimal XR; `PROPTEST_CASES` sets the number of cases and
//! `PROPTEST_RNG_SEED` the seed (fixed otherwise, so that a run is repeatable).

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use function_sco::compositions::{Entry, REGISTRY};
use function_sco::sdk::proto::v1::{Resource, RunFunctionResponse, Severity};
use function_sco::sdk::render::{self, RenderInput};
use function_sco::sdk::{Runner, response};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use prost::Message;
use serde_json::{Map, Value, json};
use support::{case_dirs, case_input, root, schema};

/// Cases per composition and property unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 64;

/// A composition with its examples, already loaded.
struct Subject {
    entry: &'static Entry,
    examples: Vec<(PathBuf, RenderInput)>,
    /// `spec` of the XRD's schema.
    spec_schema: Value,
    /// String values the examples give each key, to hit the paths past validation.
    samples: BTreeMap<String, Vec<String>>,
}

fn subjects() -> Vec<Subject> {
    REGISTRY
        .iter()
        .map(|entry| {
            let examples: Vec<_> = case_dirs(&root().join("examples").join(entry.dir()))
                .into_iter()
                .map(|dir| {
                    let input = case_input(&dir);
                    (dir, input)
                })
                .collect();
            assert!(!examples.is_empty(), "{} has no examples", entry.name);
            let xrd = (entry.definition)();
            let spec_schema = xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
                ["spec"]
                .clone();
            let mut samples = BTreeMap::new();
            for (_, input) in &examples {
                collect_strings(&input.composite["spec"], "", &mut samples);
            }
            Subject {
                entry,
                examples,
                spec_schema,
                samples,
            }
        })
        .collect()
}

fn collect_strings(value: &Value, key: &str, out: &mut BTreeMap<String, Vec<String>>) {
    match value {
        Value::String(s) => out.entry(key.to_owned()).or_default().push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, key, out)),
        Value::Object(m) => m.iter().for_each(|(k, v)| collect_strings(v, k, out)),
        _ => {}
    }
}

/// Values valid against `schema` (the subset of OpenAPI v3 the XRDs use).
fn valid(
    schema: &Value,
    key: &str,
    samples: &BTreeMap<String, Vec<String>>,
) -> BoxedStrategy<Value> {
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return proptest::sample::select(options.clone()).boxed();
    }
    let int = |name: &str| schema.get(name).and_then(Value::as_i64);
    let usize_of = |name: &str| schema.get(name).and_then(Value::as_u64).map(|n| n as usize);
    match schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object")
    {
        "string" => {
            let min = usize_of("minLength").unwrap_or(0);
            let max = usize_of("maxLength").unwrap_or(64).min(64).max(min);
            let generated = match schema.get("pattern").and_then(Value::as_str) {
                Some(pattern) => proptest::string::string_regex(
                    pattern.trim_start_matches('^').trim_end_matches('$'),
                )
                .expect("the XRD's patterns are regular")
                .boxed(),
                None => proptest::string::string_regex(&format!("[a-z0-9./:@ -]{{{min},{max}}}"))
                    .expect("a regular expression")
                    .boxed(),
            };
            let bounded = move |s: &String| (min..=max.max(min)).contains(&s.chars().count());
            match samples.get(key).filter(|s| !s.is_empty()) {
                Some(seen) => prop_oneof![
                    2 => proptest::sample::select(seen.clone()),
                    1 => generated.prop_filter("within the schema's length", bounded),
                ]
                .prop_map(Value::String)
                .boxed(),
                None => generated
                    .prop_filter("within the schema's length", bounded)
                    .prop_map(Value::String)
                    .boxed(),
            }
        }
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "integer" => {
            let (min, max) = (int("minimum").unwrap_or(0), int("maximum").unwrap_or(1000));
            (min..=max).prop_map(|n| json!(n)).boxed()
        }
        "array" => {
            let items = valid(&schema["items"], key, samples);
            let min = usize_of("minItems").unwrap_or(0);
            let max = usize_of("maxItems").unwrap_or(3).min(3).max(min);
            proptest::collection::vec(items, min..=max)
                .prop_map(Value::Array)
                .boxed()
        }
        _ => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                // A map (Group attributes): a few entries of the value schema, under keys
                // drawn from the schema's own names and generated ones.
                return match schema.get("additionalProperties").filter(|v| v.is_object()) {
                    Some(values) => {
                        let max = usize_of("maxProperties").unwrap_or(3).min(3);
                        let names = prop_oneof![
                            proptest::sample::select(vec![
                                "department".to_owned(),
                                "cost-center".to_owned(),
                                "a.b_c".to_owned(),
                            ]),
                            proptest::string::string_regex("[A-Za-z][A-Za-z0-9._-]{0,20}")
                                .expect("a regular expression"),
                        ];
                        proptest::collection::btree_map(names, valid(values, key, samples), 0..=max)
                            .prop_map(|m| Value::Object(m.into_iter().collect()))
                            .boxed()
                    }
                    None => Just(Value::Object(Map::new())).boxed(),
                };
            };
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
                .iter()
                .map(|(name, property)| {
                    let name = name.clone();
                    let value = valid(property, &name, samples);
                    if required.contains(&name.as_str()) {
                        value.prop_map(move |v| Some((name.clone(), v))).boxed()
                    } else {
                        proptest::option::of(value.prop_map(move |v| (name.clone(), v))).boxed()
                    }
                })
                .collect();
            fields
                .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
                .boxed()
        }
    }
}

/// Any JSON, with the field names of `schema` mixed into its keys.
fn arbitrary(names: Vec<String>) -> BoxedStrategy<Value> {
    let key = prop_oneof![
        3 => proptest::sample::select(names),
        1 => any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[a-z0-9-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

fn schema_names(schema: &Value, out: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            out.push(name.clone());
            schema_names(property, out);
        }
    }
    if let Some(items) = schema.get("items") {
        schema_names(items, out);
    }
}

fn runner() -> Runner<function_sco::function::Sco> {
    Runner::new(function_sco::function::Sco, response::DEFAULT_TTL)
}

fn with_spec(input: &RenderInput, spec: Value) -> RenderInput {
    let mut input = input.clone();
    input.composite["spec"] = spec;
    input
}

/// The checks every answer must pass: no panic, and a Fatal names what is wrong.
fn answered(rsp: &RunFunctionResponse) -> Result<Option<&str>, TestCaseError> {
    let fatal = rsp.results.iter().find(|r| r.severity() == Severity::Fatal);
    if let Some(result) = fatal {
        prop_assert_ne!(
            result.reason.as_deref(),
            Some("InternalError"),
            "the function panicked: {}",
            result.message
        );
        return Ok(Some(result.message.as_str()));
    }
    Ok(None)
}

/// The generator's seed unless `PROPTEST_RNG_SEED` names another. Fixed, so that a run is
/// repeatable: the share of generated specs that get past validation (checked below) depends
/// on the draw, and with a random seed OpenShiftCluster's swung from 7 to 22 of 192 between
/// runs of the same code, across the 1-in-20 floor. Other seeds are for exploring by hand (the
/// fuzz targets explore the rest).
const SEED: u64 = 20_261_206;

/// The number environment variable `name` holds, if it holds one.
fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|n| n.parse().ok())
}

fn config() -> Config {
    Config {
        cases: env("PROPTEST_CASES").unwrap_or(CASES),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(SEED)),
        failure_persistence: None,
        ..Config::default()
    }
}

fn for_every_example(
    property: &str,
    strategy: impl Fn(&Subject) -> BoxedStrategy<Value>,
    check: impl Fn(&Subject, &RenderInput) -> Result<(), TestCaseError>,
) {
    for subject in subjects() {
        for (dir, example) in &subject.examples {
            let mut runner = TestRunner::new(config());
            let result = runner.run(&strategy(&subject), |spec| {
                check(&subject, &with_spec(example, spec))
            });
            if let Err(e) = result {
                panic!(
                    "{property}: {} ({}): {e}",
                    subject.entry.name,
                    dir.display()
                );
            }
        }
    }
}

#[test]
fn well_typed_specs_compose_valid_manifests_or_name_a_field() {
    let runner = runner();
    let composed = std::cell::RefCell::new(BTreeMap::<&str, (u32, u32)>::new());
    for_every_example(
        "well-typed specs",
        |s| valid(&s.spec_schema, "spec", &s.samples),
        |subject, input| {
            let rsp = render::run(&runner, input);
            let fatal = answered(&rsp)?;
            {
                let mut counts = composed.borrow_mut();
                let count = counts.entry(subject.entry.name).or_default();
                if fatal.is_none() {
                    count.0 += 1;
                }
                count.1 += 1;
            }
            if let Some(message) = fatal {
                // Every error leads with its field path: `spec.parameters.x: why; ...`.
                let named = |error: &str| {
                    error.split_once(": ").is_some_and(|(path, _)| {
                        ["spec.", "metadata.", "credentials."]
                            .iter()
                            .any(|root| path.starts_with(root))
                            && !path.contains(char::is_whitespace)
                    })
                };
                prop_assert!(named(message), "a Fatal that names no field: {message}");
                return Ok(());
            }
            for (name, resource) in &rsp.desired.clone().unwrap_or_default().resources {
                let manifest = resource
                    .resource
                    .as_ref()
                    .map(pbstruct::to_json_value)
                    .unwrap_or_default();
                if let Err(errors) = schema::validate(&manifest) {
                    prop_assert!(false, "{name} is not valid: {}", errors.join("; "));
                }
            }
            Ok(())
        },
    );
    // A generator that only ever reaches a Fatal would test validation alone; 1 in 20 is
    // enough to reach every composition's compose and status code (OpenShiftCluster's name
    // rules refuse most generated names: its control plane's namespace must fit 63 characters).
    for (name, (rendered, cases)) in composed.into_inner() {
        eprintln!("{name}: {rendered} of {cases} generated specs composed");
        assert!(
            rendered * 20 >= cases,
            "{name}: only {rendered} of {cases} generated specs got past validation"
        );
    }
}

#[test]
fn arbitrary_trees_get_an_answer() {
    let runner = runner();
    for_every_example(
        "arbitrary trees",
        |s| {
            let mut names = vec!["parameters".to_owned()];
            schema_names(&s.spec_schema, &mut names);
            arbitrary(names)
                .prop_map(|parameters| json!({"parameters": parameters}))
                .boxed()
        },
        |_, input| {
            let rsp = render::run(&runner, input);
            answered(&rsp)?;
            Ok(())
        },
    );
}

#[test]
fn the_same_request_gives_the_same_bytes_and_earlier_steps_pass_through() {
    let runner = runner();
    let earlier = pbstruct::from_json_value(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "from-an-earlier-step", "namespace": "default"},
        "data": {"key": "value"},
    }))
    .unwrap();
    for_every_example(
        "determinism and pass-through",
        |s| valid(&s.spec_schema, "spec", &s.samples),
        |_, input| {
            let (mut req, _) = render::settle(&runner, input);
            req.desired.get_or_insert_default().resources.insert(
                "earlier-step".to_owned(),
                Resource {
                    resource: Some(earlier.clone()),
                    ..Default::default()
                },
            );
            let first = runner.call(&req);
            let second = runner.call(&req);
            answered(&first)?;
            prop_assert_eq!(
                first.encode_to_vec(),
                second.encode_to_vec(),
                "two answers to one request differ"
            );
            let passed = first
                .desired
                .as_ref()
                .and_then(|d| d.resources.get("earlier-step"));
            prop_assert_eq!(
                passed.and_then(|r| r.resource.as_ref()),
                Some(&earlier),
                "the earlier step's resource was changed or dropped"
            );
            Ok(())
        },
    );
}

/// Every key of `value`, at any depth.
fn keys_of(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| keys_of(v, out)),
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys_of(v, out);
            }
        }
        _ => {}
    }
}

/// What the controllers report back is read on every call (conditions, a provider-kubernetes
/// Object's `status.atProvider.manifest`, a fetched Namespace's labels): with any JSON as the
/// `status`, `spec` or `metadata.labels` of any observed or required object of an example
/// (the examples' own keys mixed in, so that the readers' paths are reached), every
/// composition still answers, never panics.
#[test]
fn arbitrary_observed_state_gets_an_answer() {
    let runner = runner();
    for subject in subjects() {
        for (dir, example) in &subject.examples {
            let objects: Vec<&Value> = example.observed.iter().chain(&example.required).collect();
            if objects.is_empty() {
                continue;
            }
            let mut names = Vec::new();
            objects.iter().for_each(|o| keys_of(o, &mut names));
            names.sort();
            names.dedup();
            let strategy = (
                0..objects.len(),
                proptest::sample::select(vec!["status", "spec", "labels"]),
                arbitrary(names),
            );
            let mut cases = TestRunner::new(config());
            let result = cases.run(&strategy, |(index, part, value)| {
                let mut input = example.clone();
                let observed = input.observed.len();
                let object = match input.observed.get_mut(index) {
                    Some(object) => object,
                    None => &mut input.required[index - observed],
                };
                match part {
                    "labels" => object["metadata"]["labels"] = value,
                    _ => object[part] = value,
                }
                answered(&render::run(&runner, &input))?;
                Ok(())
            });
            if let Err(e) = result {
                panic!(
                    "arbitrary observed state: {} ({}): {e}",
                    subject.entry.name,
                    dir.display()
                );
            }
        }
    }
}
