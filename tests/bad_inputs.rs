//! The bad-input corpus: every case under `tests/bad-inputs/<composition>/*.yaml` takes one of
//! the composition's examples, breaks its XR as the case says, and must get a Fatal result and
//! a `Valid=False` condition naming every field path the case expects, with nothing composed,
//! no panic and a bounded message. Each composition has at least [`MIN_CASES`] cases.
//!
//! A case file:
//! ```yaml
//! why: a sentence saying what is wrong
//! base: examples/virtualmachine/public   # its xr.yaml, observed, environment, required, credentials
//! set:                                   # edits to the XR, in order
//!   - path: spec.parameters.storageSize  # dotted, or a list of keys when a key has dots;
//!     value: huge                        #   a number segment indexes a list
//!   - path: spec.parameters.cloudInit
//!     remove: true
//!   - path: metadata.name
//!     repeat: {text: a, times: 1048576}  # a long string
//!   - path: spec.parameters.extra
//!     nest: 200                          # {"a": {"a": ...}} this deep
//! expect: [spec.parameters.storageSize]  # paths the Fatal must name
//! says: ["is not a size"]                 # texts the Fatal must hold (the reason, not just the path)
//! fresh: true                             # judged as first submitted: no observed resources or status
//! xrd: why the XRD admits it              # only where its schema cannot refuse it
//! cel: true                               # or: a CEL rule of the XRD refuses it
//! ```
//!
//! Each case is also validated against its composition's XRD schema (strictly, as
//! `support::schema` does; CEL rules aside): the API server should refuse a bad value before
//! the function sees it. A case the schema admits says why in `xrd`, and one that says so
//! must be admitted, so the note goes when the schema learns to refuse it. A case a CEL rule
//! refuses (`x-kubernetes-validations`, which `support::schema` does not evaluate) says
//! `cel: true`, and Kubernetes' own validator, run by `crossplane resource validate`, must
//! refuse it.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use function_sco::function::CONDITION_VALID;
use function_sco::sdk::proto::v1::Status;
use function_sco::sdk::{Runner, render, response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use support::outcome::Outcome;
use support::{case_input, root};

/// Cases each composition's corpus must hold at least.
const MIN_CASES: usize = 15;

/// Longest Fatal message a case may produce: a Kubernetes condition message is at most
/// 32768 characters, and one hostile field must not push the others out of it.
const MAX_MESSAGE: usize = 32 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    why: String,
    base: String,
    #[serde(default)]
    set: Vec<Edit>,
    expect: Vec<String>,
    /// Texts the Fatal must hold: the rule the case is about, where another rule could name the
    /// same path (an immutable field of an observed object, a parse error before the check).
    #[serde(default)]
    says: Vec<String>,
    /// Judge the XR as first submitted (no observed composed resources, no status), so that a
    /// value rule is not preempted by the rule that the field cannot change.
    #[serde(default)]
    fresh: bool,
    /// Why the XRD's schema lets this case through (the function alone refuses it); absent
    /// when the schema refuses it.
    #[serde(default)]
    xrd: Option<String>,
    /// Whether a CEL rule of the XRD refuses it.
    #[serde(default)]
    cel: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    path: EditPath,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    remove: bool,
    #[serde(default)]
    repeat: Option<Repeat>,
    #[serde(default)]
    nest: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EditPath {
    Dotted(String),
    Keys(Vec<String>),
}

impl EditPath {
    fn keys(&self) -> Vec<String> {
        match self {
            Self::Dotted(p) => p.split('.').map(str::to_owned).collect(),
            Self::Keys(k) => k.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    text: String,
    times: usize,
}

impl Edit {
    fn apply(&self, xr: &mut Value, case: &Path) {
        let keys = self.path.keys();
        let (last, parents) = keys.split_last().expect("a path has a key");
        let mut node = xr;
        for key in parents {
            node = step(node, key, true, case);
        }
        if self.remove {
            match node {
                Value::Object(m) => {
                    assert!(
                        m.remove(last).is_some(),
                        "{}: nothing at {keys:?} to remove",
                        case.display()
                    );
                }
                Value::Array(a) => {
                    a.remove(last.parse::<usize>().expect("a list index"));
                }
                _ => panic!("{}: cannot remove {keys:?}", case.display()),
            }
            return;
        }
        let value = match (&self.value, &self.repeat, self.nest) {
            (Some(v), None, None) => v.clone(),
            (None, Some(r), None) => Value::String(r.text.repeat(r.times)),
            (None, None, Some(depth)) => {
                (0..depth).fold(json!("deep"), |inner, _| json!({ "a": inner }))
            }
            _ => panic!(
                "{}: an edit sets exactly one of value, repeat, nest or remove",
                case.display()
            ),
        };
        *step(node, last, true, case) = value;
    }
}

fn step<'v>(node: &'v mut Value, key: &str, create: bool, case: &Path) -> &'v mut Value {
    match node {
        Value::Array(a) => {
            let i: usize = key
                .parse()
                .unwrap_or_else(|_| panic!("{}: {key} indexes a list", case.display()));
            if i == a.len() && create {
                a.push(Value::Null);
            }
            &mut a[i]
        }
        Value::Object(m) => m.entry(key.to_owned()).or_insert(Value::Object(Map::new())),
        other => {
            *other = Value::Object(Map::new());
            step(other, key, create, case)
        }
    }
}

#[test]
fn every_bad_input_gets_a_fatal_naming_its_fields() {
    let corpus = root().join("tests/bad-inputs");
    let mut per_composition = BTreeMap::new();
    let mut failures = Vec::new();
    let runner = Runner::new(function_sco::function::Sco, response::DEFAULT_TTL);
    for dir in sorted(&corpus) {
        let composition = dir.file_name().unwrap().to_string_lossy().into_owned();
        let cases: Vec<_> = sorted(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        per_composition.insert(composition, cases.len());
        for path in cases {
            let text = std::fs::read_to_string(&path).unwrap();
            let case: Case = serde_norway::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a case: {e}", path.display()));
            assert!(!case.why.is_empty() && !case.expect.is_empty());
            let input = case_xr(&case, &path);
            let outcome = Outcome::of(render::run(&runner, &input));
            if let Err(why) = judge(&case, &outcome) {
                failures.push(format!("{}: {why}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for entry in function_sco::compositions::REGISTRY {
        let n = per_composition.get(&entry.dir()).copied().unwrap_or(0);
        assert!(
            n >= MIN_CASES,
            "tests/bad-inputs/{}/ has {n} cases, at least {MIN_CASES} are needed",
            entry.dir()
        );
    }
}

/// The case's input: its base, fresh if it says so, with its edits applied.
fn case_xr(case: &Case, path: &Path) -> render::RenderInput {
    let mut input = case_input(&root().join(&case.base));
    if case.fresh {
        input.observed.clear();
        if let Some(xr) = input.composite.as_object_mut() {
            xr.remove("status");
        }
    }
    for edit in &case.set {
        edit.apply(&mut input.composite, path);
    }
    input
}

fn judge(case: &Case, outcome: &Outcome) -> Result<(), String> {
    let fatal = outcome
        .fatal()
        .ok_or_else(|| format!("no Fatal result ({})", case.why))?;
    if let Some(says) = case.says.iter().find(|says| !fatal.contains(says.as_str())) {
        return Err(format!("the Fatal does not say {says:?}: {}", clip(fatal)));
    }
    if fatal.len() > MAX_MESSAGE {
        return Err(format!(
            "the Fatal message has {} bytes, more than {MAX_MESSAGE}",
            fatal.len()
        ));
    }
    let (status, _, message) = outcome.condition(CONDITION_VALID);
    if status != Status::ConditionFalse {
        return Err(format!("Valid is {status:?}, not False"));
    }
    for path in &case.expect {
        let named = |m: &str| {
            m.starts_with(&format!("{path}: "))
                || m.contains(&format!("; {path}: "))
                || m.contains(&format!(": {path}: "))
        };
        if !named(fatal) {
            return Err(format!("the Fatal does not name {path}: {}", clip(fatal)));
        }
        if !named(&message) {
            return Err(format!(
                "the Valid condition does not name {path}: {}",
                clip(&message)
            ));
        }
    }
    if !outcome.composed.is_empty() {
        return Err(format!("resources were composed: {:?}", outcome.names()));
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(600).collect()
}

fn sorted(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn the_xrd_refuses_every_case_its_schema_can_express() {
    let mut wrong = Vec::new();
    for dir in sorted(&root().join("tests/bad-inputs")) {
        let composition = dir.file_name().unwrap().to_string_lossy().into_owned();
        let entry = function_sco::compositions::REGISTRY
            .iter()
            .find(|e| e.dir() == composition)
            .unwrap_or_else(|| panic!("no composition for tests/bad-inputs/{composition}"));
        let schema =
            (entry.definition)()["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
        for path in sorted(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            let case: Case =
                serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let input = case_xr(&case, &path);
            let refused = support::schema::validate_against(&schema, &input.composite).is_err();
            match (case.xrd.is_some() || case.cel, refused) {
                (false, false) => wrong.push(format!(
                    "{}: the XRD admits it; refuse it in the schema, or say why not in `xrd`",
                    path.display()
                )),
                (true, true) => wrong.push(format!(
                    "{}: the XRD's structural schema refuses it now; drop its `xrd` or `cel` note",
                    path.display()
                )),
                _ => {}
            }
            assert!(
                !(case.cel && case.xrd.is_some()),
                "{}: `cel` and `xrd` contradict each other",
                path.display()
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every `cel: true` case is refused by Kubernetes' own validation of its XRD, CEL rules
/// included, as `crossplane resource validate` runs it (with the tools of
/// `tests/crossplane/tools.sh`); the examples they break pass it (`tests/crossplane.rs`).
#[test]
fn the_xrds_cel_rules_refuse_their_cases() {
    let test = "the_xrds_cel_rules_refuse_their_cases";
    let Some(cli) = support::external_tool("CROSSPLANE_CLI", test) else {
        return;
    };
    let work = root().join("target/crossplane/bad-inputs-cel");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let mut cases = 0;
    let mut wrong = Vec::new();
    for dir in sorted(&root().join("tests/bad-inputs")) {
        let composition = dir.file_name().unwrap().to_string_lossy().into_owned();
        for path in sorted(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            let case: Case =
                serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if !case.cel {
                continue;
            }
            cases += 1;
            let input = case_xr(&case, &path);
            let name = format!(
                "{composition}-{}",
                path.file_name().unwrap().to_string_lossy()
            );
            let xr = work.join(&name);
            std::fs::write(&xr, render::to_yaml(&[input.composite])).unwrap();
            let output = std::process::Command::new(&cli)
                .args(["resource", "validate"])
                .arg(
                    root()
                        .join("xrds")
                        .join(&composition)
                        .join("definition.yaml"),
                )
                .arg(&xr)
                .arg("--crossplane-image=")
                .arg(format!("--cache-dir={}", work.join("cache").display()))
                .arg("--error-on-missing-schemas")
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run crossplane resource validate");
            let stdout = String::from_utf8_lossy(&output.stdout);
            // `[x] CEL validation error <gvk>, <name> : <field>: Invalid value: <message>`: a
            // refusal at the case's field or at an object holding it (a rule on
            // spec.parameters), not one about another field.
            let refuses_its_field = stdout
                .lines()
                .filter(|line| line.starts_with("[x]"))
                .filter_map(|line| line.split_once(" : ")?.1.split_once(": ").map(|(f, _)| f))
                .any(|field| case.expect.iter().any(|path| path.starts_with(field)));
            if output.status.success() || !refuses_its_field {
                wrong.push(format!(
                    "{}: crossplane resource validate does not refuse {:?} ({}):\n{stdout}{}",
                    path.display(),
                    case.expect,
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    assert!(cases > 0, "no `cel: true` case");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
