//! The CEL readiness queries function-sco gives provider-kubernetes `Object`s, evaluated by
//! cel-go the way provider-kubernetes evaluates them (`tests/crossplane/cel/main.go`, built by
//! `tests/crossplane/tools.sh`, path in `CEL_READY`), not only compared as strings:
//!
//! - every query the function emits (rendering every example and golden stage now, not
//!   reading their `expected.yaml`) compiles to a bool and, on an object
//!   without status (just created), is not ready and raises no error (an error would put its
//!   message on the Object's `Ready` condition);
//! - wherever an example or stage observes the Object with its manifest
//!   (`status.atProvider.manifest`), the query the function emits now, evaluated on that
//!   manifest, agrees with the `Ready` condition the fixture gives the Object, so that the
//!   readiness our fixtures claim is the readiness provider-kubernetes would report.
//!
//! Without `CEL_READY` the test fails under `CI=true` and is skipped, loudly, elsewhere.

mod support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use function_sco::sdk::render::read_documents;
use serde_json::{Value, json};
use support::outcome::Outcome;
use support::{composed_name, root};

/// One query to evaluate, and where it came from.
struct Case {
    place: String,
    query: String,
    object: Value,
    /// The `Ready` status the fixture gives the observed Object, when it has one.
    claimed: Option<bool>,
}

/// What celready answered for one case.
#[derive(Debug, serde::Deserialize)]
struct Answer {
    ready: bool,
    error: String,
}

/// The composed resources of a file, by composition resource name.
fn by_name(path: &Path) -> BTreeMap<String, Value> {
    if !path.exists() {
        return BTreeMap::new();
    }
    read_documents(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|d| {
            let name = composed_name(&d).to_owned();
            (!name.is_empty()).then_some((name, d))
        })
        .collect()
}

/// The readiness query of an `Object`, if it has one.
fn query(object: &Value) -> Option<&str> {
    (object["kind"] == "Object" && object["spec"]["readiness"]["policy"] == "DeriveFromCelQuery")
        .then(|| object["spec"]["readiness"]["celQuery"].as_str())
        .flatten()
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for dir in support::cases() {
        let place = dir.strip_prefix(root()).unwrap().display().to_string();
        let observed = by_name(&dir.join("observed.yaml"));
        let rendered = Outcome::of(support::render_case(&dir).1);
        for (name, (desired, _)) in &rendered.composed {
            let name = name.clone();
            let Some(query) = query(desired) else {
                continue;
            };
            cases.push(Case {
                place: format!("{place} {name} (just created)"),
                query: query.to_owned(),
                object: json!({"apiVersion": "v1", "kind": "Unknown", "metadata": {"name": name}}),
                claimed: Some(false),
            });
            let Some(seen) = observed.get(&name) else {
                continue;
            };
            let manifest = &seen["status"]["atProvider"]["manifest"];
            if !manifest.is_object() {
                continue;
            }
            let claimed = seen["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .map(|c| c["status"] == "True");
            cases.push(Case {
                place: format!("{place} {name} (observed)"),
                query: query.to_owned(),
                object: manifest.clone(),
                claimed,
            });
        }
    }
    cases
}

fn evaluate(celready: &Path, cases: &[Case]) -> Vec<Answer> {
    let input: Vec<Value> = cases
        .iter()
        .map(|c| json!({"query": c.query, "object": c.object}))
        .collect();
    let mut child = Command::new(celready)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", celready.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&input).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "celready failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("celready answers JSON")
}

#[test]
fn readiness_queries_evaluate_as_provider_kubernetes_would() {
    let test = "readiness_queries_evaluate_as_provider_kubernetes_would";
    let Some(celready) = support::external_tool("CEL_READY", test) else {
        return;
    };
    let cases = cases();
    let observed = cases
        .iter()
        .filter(|c| c.place.ends_with("(observed)"))
        .count();
    // Every composition that wraps objects with a query, and observed stages both ready and
    // not: a test that found nothing to check would prove nothing.
    assert!(
        cases.len() >= 40 && observed >= 30,
        "{} cases, {observed} observed",
        cases.len()
    );
    assert!(
        cases
            .iter()
            .any(|c| c.claimed == Some(true) && c.place.ends_with("(observed)"))
            && cases
                .iter()
                .any(|c| c.claimed == Some(false) && c.place.ends_with("(observed)")),
        "observed Objects both ready and not ready"
    );
    let answers = evaluate(&celready, &cases);
    assert_eq!(answers.len(), cases.len());
    let mut wrong = Vec::new();
    for (case, answer) in cases.iter().zip(&answers) {
        if !answer.error.is_empty() {
            wrong.push(format!(
                "{}: {:?} fails: {}",
                case.place, case.query, answer.error
            ));
        } else if let Some(claimed) = case.claimed
            && claimed != answer.ready
        {
            wrong.push(format!(
                "{}: {:?} is {} but the fixture says Ready={claimed}",
                case.place, case.query, answer.ready
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_query_error_is_reported_not_taken_for_ready() {
    // The evaluator itself: an unguarded query on an object without status errs, as
    // provider-kubernetes reports it on the Object; a non-bool query is refused.
    let test = "a_query_error_is_reported_not_taken_for_ready";
    let Some(celready) = support::external_tool("CEL_READY", test) else {
        return;
    };
    let case = |query: &str, object: Value| Case {
        place: String::new(),
        query: query.to_owned(),
        object,
        claimed: None,
    };
    let answers = evaluate(
        &celready,
        &[
            case("object.status.phase == 'Ready'", json!({})),
            case("object.status.phase", json!({"status": {"phase": "Ready"}})),
            case(
                "object.status.phase == 'Ready'",
                json!({"status": {"phase": "Ready"}}),
            ),
        ],
    );
    assert!(
        !answers[0].ready && answers[0].error.contains("no such key"),
        "{answers:?}"
    );
    assert!(
        !answers[1].ready && answers[1].error.contains("not bool"),
        "{answers:?}"
    );
    assert!(
        answers[2].ready && answers[2].error.is_empty(),
        "{answers:?}"
    );
}
