//! What the fuzz targets share: the examples, loaded once, and the checks every answer must
//! pass (an answer, never a panic).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use function_sco::function::Sco;
use function_sco::sdk::proto::v1::{RunFunctionResponse, Severity};
use function_sco::sdk::render::{self, RenderFiles, RenderInput};
use function_sco::sdk::{Runner, response};
use serde_json::{Map, Value};

/// The project root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The function, as the server runs it.
pub fn runner() -> &'static Runner<Sco> {
    static RUNNER: OnceLock<Runner<Sco>> = OnceLock::new();
    RUNNER.get_or_init(|| Runner::new(Sco, response::DEFAULT_TTL))
}

/// Every example of every composition, in a stable order.
pub fn examples() -> &'static [RenderInput] {
    static EXAMPLES: OnceLock<Vec<RenderInput>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        render::case_dirs(&root().join("examples"))
            .iter()
            .map(|dir| RenderFiles::in_dir(dir).load().expect("the examples load"))
            .collect()
    })
}

/// Panics (which libFuzzer reports as a crash) when the function panicked: the runner turns
/// a panic into a Fatal with reason InternalError so that the server keeps serving.
pub fn assert_answered(rsp: &RunFunctionResponse) {
    for result in &rsp.results {
        assert!(
            !(result.severity() == Severity::Fatal
                && result.reason.as_deref() == Some("InternalError")),
            "the function panicked: {}",
            result.message
        );
    }
}

/// Where [`replace_part`] puts the fuzzed JSON, by the part byte modulo their number.
const PARTS: [&str; 4] = ["status", "spec", "metadata", ""];

/// Puts `value` into object number `index` (modulo their number) of the example's observed
/// composed resources followed by its required resources: as its `status`, `spec` or
/// `metadata` (by `part`, see [`PARTS`]), or as the whole object. A whole object keeps the
/// composition resource name the old one had: without it, it would be no composed resource
/// at all. False when there is no such object, or a whole object is not a JSON object.
pub fn replace_part(input: &mut RenderInput, index: usize, part: u8, value: Value) -> bool {
    let count = input.observed.len() + input.required.len();
    if count == 0 {
        return false;
    }
    let index = index % count;
    let object = match input.observed.get_mut(index) {
        Some(observed) => observed,
        None => &mut input.required[index - input.observed.len()],
    };
    let Value::Object(fields) = object else {
        return false;
    };
    match PARTS[usize::from(part) % PARTS.len()] {
        "" => {
            let Value::Object(mut whole) = value else {
                return false;
            };
            let name = fields
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get(render::COMPOSITION_RESOURCE_NAME))
                .cloned();
            if let Some(name) = name {
                let metadata = object_at(&mut whole, "metadata");
                let annotations = object_at(metadata, "annotations");
                annotations.insert(render::COMPOSITION_RESOURCE_NAME.to_owned(), name);
            }
            *fields = whole;
        }
        key => {
            fields.insert(key.to_owned(), value);
        }
    }
    true
}

/// The object at `key` of `map`, made an empty one first if it is missing or not an object.
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let value = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("made an object above")
}
