//! Conversion between `google.protobuf.Struct` and JSON or typed values.
//!
//! Struct numbers are `f64` on the wire. Integral values that an `f64` holds exactly
//! (|n| <= 2^53) come back as JSON integers, so `cpu: 2` deserialises into a `u32`. JSON
//! never holds NaN or infinities; a non-finite number arriving in a Struct becomes `null`.

use crate::Struct;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

/// A Struct as a JSON value (always an object).
pub fn to_json_value(s: &Struct) -> Value {
    Value::Object(s.to_json())
}

/// A JSON object as a Struct.
pub fn from_json_object(m: &Map<String, Value>) -> Struct {
    Struct::from_json(m)
}

/// A JSON value as a Struct, when it is an object.
pub fn from_json_value(v: &Value) -> Option<Struct> {
    v.as_object().map(Struct::from_json)
}

/// Deserialises a Struct into a typed value straight from its bytes, naming the failing
/// field path in the error.
pub fn from_struct<T: DeserializeOwned>(s: &Struct) -> Result<T, PathError> {
    explained(s.deserializer())
}

/// Deserialises JSON into a typed value, naming the failing field path in the error.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, PathError> {
    from_ref(&value)
}

/// [`from_value`] without taking the value.
pub fn from_ref<T: DeserializeOwned>(value: &Value) -> Result<T, PathError> {
    explained(value)
}

/// [`from_ref`], naming every field that fails rather than the first: on failure, the
/// value is read again by [`from_value_collecting`].
pub fn from_ref_every<T: DeserializeOwned>(value: &Value) -> Result<T, Vec<PathError>> {
    from_ref(value).map_err(|first| {
        let errors = from_value_collecting::<T>(value.clone()).errors;
        if errors.is_empty() {
            vec![first]
        } else {
            errors
        }
    })
}

/// Deserialises from `from`; on failure, again with path tracking to name the field.
fn explained<'de, T, D>(from: D) -> Result<T, PathError>
where
    T: Deserialize<'de>,
    D: Deserializer<'de> + Copy,
    D::Error: std::fmt::Display,
{
    // Tracking the path costs an allocation per field; do it only to explain a failure.
    T::deserialize(from).or_else(|_| {
        serde_path_to_error::deserialize(from).map_err(|e| PathError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    })
}

/// Deserialises JSON into `T` and reports every field that failed, not only the first,
/// as Kubernetes validation does.
///
/// serde stops at the first error; this deserialises again after taking the failing value
/// out of a copy, until the rest reads, and returns what was read with every error. An
/// optional field taken out reads as absent; a required one taken out makes its parent fail
/// with "missing field", and the parent is taken out in turn (that consequence is not
/// reported again). Paths are the user's: a list item taken out does not shift the indices
/// named in later errors. `value` is `None` when not even a repaired copy reads (a required
/// field at the root is wrong); [`Collected::pruned`] lists what was taken out, so a caller
/// running its own rules on the repaired value can skip rules about those fields.
pub fn from_value_collecting<T: DeserializeOwned>(mut value: Value) -> Collected<T> {
    /// Enough for any real XR; bounds the work a hostile one can cause.
    const MAX_ERRORS: usize = 64;
    let mut errors = Vec::new();
    let mut pruned: Vec<Vec<Step>> = Vec::new();
    for _ in 0..MAX_ERRORS {
        // Read as the fast path reads (from the Struct encoding), so both agree on what fails.
        let attempt = match &value {
            Value::Object(m) => {
                serde_path_to_error::deserialize::<_, T>(Struct::from_json(m).deserializer())
                    .map_err(failure)
            }
            other => serde_path_to_error::deserialize::<_, T>(other).map_err(failure),
        };
        let (at, message) = match attempt {
            Ok(read) => {
                return Collected {
                    value: Some(read),
                    errors,
                    pruned: pruned.iter().map(|p| dotted(p)).collect(),
                };
            }
            Err(err) => err,
        };
        let Some(at) = at else {
            break;
        };
        // The parent of something taken out now misses it: already reported.
        let consequence = message.starts_with("missing field")
            && pruned
                .iter()
                .any(|p| p.len() == at.len() + 1 && p.starts_with(&at));
        let original = original_path(&at, &pruned);
        if !consequence {
            errors.push(PathError {
                path: dotted(&original),
                message,
            });
        }
        if at.is_empty() || !take_out(&mut value, &at) {
            break;
        }
        pruned.push(at);
    }
    Collected {
        value: None,
        errors,
        pruned: pruned.iter().map(|p| dotted(p)).collect(),
    }
}

/// Where a read failed (as steps, if they can be taken out) and why.
fn failure<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> (Option<Vec<Step>>, String) {
    (steps(e.path()), e.inner().to_string())
}

/// What [`from_value_collecting`] read.
#[derive(Debug)]
pub struct Collected<T> {
    /// The value read after taking out every failing field, if it then read.
    pub value: Option<T>,
    /// Every failing field, in the order serde met them.
    pub errors: Vec<PathError>,
    /// Dotted paths of what was taken out (as in the repaired value).
    pub pruned: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path as steps, or `None` when it passes through something that is not a map key or
/// a list index (an enum variant), which cannot be taken out.
fn steps(path: &serde_path_to_error::Path) -> Option<Vec<Step>> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|s| match s {
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Seq { index } => Some(Step::Index(*index)),
            _ => None,
        })
        .collect()
}

fn dotted(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// `at` (a path in the repaired value) as a path in the user's value: every list item taken
/// out before an index of the same list shifts that index back up.
fn original_path(at: &[Step], pruned: &[Vec<Step>]) -> Vec<Step> {
    let mut out = at.to_vec();
    for (depth, step) in at.iter().enumerate() {
        let Step::Index(mut index) = *step else {
            continue;
        };
        // Items taken out of this list, as repaired indices at the time; undo them last first.
        for p in pruned.iter().rev() {
            if p.len() == depth + 1
                && p[..depth] == at[..depth]
                && let Step::Index(removed) = p[depth]
                && removed <= index
            {
                index += 1;
            }
        }
        out[depth] = Step::Index(index);
    }
    out
}

fn take_out(value: &mut Value, at: &[Step]) -> bool {
    let Some((last, parent)) = at.split_last() else {
        return false;
    };
    let mut node = value;
    for step in parent {
        node = match (step, node) {
            (Step::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Step::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Step::Key(k), Value::Object(m)) => m.remove(k).is_some(),
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

/// A deserialisation error with the path of the field that failed (`spec.parameters.flavour`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct PathError {
    /// Dotted path of the failing field; `.` or empty for the root.
    pub path: String,
    /// What was wrong there.
    pub message: String,
}

impl PathError {
    /// The same error with `prefix` put in front of its path (`spec` + `parameters.x`).
    #[must_use]
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = if self.path.is_empty() || self.path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

/// A short name for a JSON value's type, for messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::to_struct;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[test]
    fn integers_are_restored() {
        let s = from_json_value(&json!({"cpu": 2, "big": 9_007_199_254_740_992_i64, "neg": -3}))
            .unwrap();
        let back = to_json_value(&s);
        assert_eq!(
            back,
            json!({"cpu": 2, "big": 9_007_199_254_740_992_i64, "neg": -3})
        );
        assert!(back["cpu"].is_i64());
    }

    #[test]
    fn fractions_stay_fractions_and_huge_values_stay_floats() {
        let s = from_json_value(&json!({"ratio": 0.5, "huge": 1.0e300})).unwrap();
        let back = to_json_value(&s);
        assert_eq!(back["ratio"], json!(0.5));
        assert!(back["huge"].is_f64());
    }

    #[test]
    fn typed_round_trip_through_struct() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Vm {
            cores: u32,
            name: String,
            tags: Vec<String>,
        }
        let vm = Vm {
            cores: 4,
            name: "a".into(),
            tags: vec!["x".into()],
        };
        let s = to_struct(&vm).unwrap();
        assert_eq!(from_struct::<Vm>(&s).unwrap(), vm);
    }

    #[test]
    fn errors_name_the_field_path() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            size: u32,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            parameters: Inner,
        }
        let err = from_value::<Outer>(json!({"parameters": {"size": "big"}})).unwrap_err();
        assert_eq!(err.path, "parameters.size");
        assert_eq!(
            err.within("spec").to_string().split(':').next().unwrap(),
            "spec.parameters.size"
        );
    }

    #[test]
    fn every_failing_field_is_reported_at_once() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Params {
            size: Option<u32>,
            name: String,
            tags: Option<Vec<String>>,
            key: Option<bool>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            parameters: Params,
        }
        let read = from_value_collecting::<Outer>(json!({"parameters": {
            "size": "big", "name": "a", "tags": ["x", 1, "y", 2], "extra": true, "key": "no"
        }}));
        let paths: Vec<_> = read.errors.iter().map(|e| e.path.as_str()).collect();
        // In the order serde meets them: a Struct's keys are sorted.
        assert_eq!(
            paths,
            [
                "parameters.extra",
                "parameters.key",
                "parameters.size",
                "parameters.tags[1]",
                "parameters.tags[3]"
            ],
            "{:?}",
            read.errors
        );
        let value = read.value.expect("the rest reads");
        assert_eq!(value.parameters.name, "a");
        assert_eq!(value.parameters.size, None);
        assert_eq!(
            value.parameters.tags.as_deref(),
            Some(&["x".into(), "y".into()][..])
        );
        assert!(read.pruned.contains(&"parameters.size".to_string()));
    }

    #[test]
    fn a_required_field_taken_out_fails_its_parent_once() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Params {
            name: String,
            size: Option<u32>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            parameters: Option<Params>,
            other: Option<u32>,
        }
        let read = from_value_collecting::<Outer>(
            json!({"parameters": {"name": 3, "size": "x"}, "other": "y"}),
        );
        let paths: Vec<_> = read.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["other", "parameters.name", "parameters.size"]);
        assert!(read.value.is_some());

        let unreadable = from_value_collecting::<Params>(json!({"size": 1}));
        assert!(unreadable.value.is_none());
        assert_eq!(unreadable.errors.len(), 1);
        assert!(
            unreadable.errors[0]
                .message
                .contains("missing field `name`")
        );
    }

    #[test]
    fn from_ref_every_reads_or_names_every_bad_field() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Params {
            name: String,
            size: Option<u32>,
        }
        assert_eq!(
            from_ref_every::<Params>(&json!({"name": "a", "size": 1})).unwrap(),
            Params {
                name: "a".into(),
                size: Some(1)
            }
        );
        let errors =
            from_ref_every::<Params>(&json!({"name": 3, "size": "x", "extra": 1})).unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["extra", "name", "size"]);
    }

    #[test]
    fn paths_inside_lists_are_the_users_after_an_item_is_taken_out() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            a: u32,
            b: Option<String>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Item>,
            x: Option<Vec<u32>>,
            y: Option<Vec<String>>,
        }
        // items[1] loses its required `a` and goes whole; items[2].b is then read as the
        // repaired items[1].b, and reported where the user wrote it. Taking out x[1] shifts
        // no index of the other list y.
        let read = from_value_collecting::<Outer>(json!({
            "items": [{"a": 1, "b": "x"}, {"a": "bad"}, {"a": 2, "b": 5}],
            "x": [1, "two", 3],
            "y": ["a", 2],
        }));
        let paths: Vec<_> = read.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["items[1].a", "items[2].b", "x[1]", "y[1]"],
            "{:?}",
            read.errors
        );
        let value = read.value.expect("the rest reads");
        assert_eq!(value.items.len(), 2);
        assert_eq!((value.items[1].a, value.items[1].b.as_deref()), (2, None));
        assert_eq!(value.x.as_deref(), Some(&[1, 3][..]));
    }

    #[test]
    fn a_missing_field_elsewhere_is_reported_beside_a_taken_out_item() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            name: String,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            a: Option<Vec<u32>>,
            b: Option<Inner>,
        }
        // `b` misses `name` in the user's input: not a consequence of taking out a[1].
        let read = from_value_collecting::<Outer>(json!({"a": [1, "x"], "b": {}}));
        let paths: Vec<_> = read.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a[1]", "b"], "{:?}", read.errors);
        assert!(read.errors[1].message.contains("missing field `name`"));
    }

    #[test]
    fn an_error_at_the_root_takes_the_prefix_as_its_path() {
        for root in ["", "."] {
            let err = PathError {
                path: root.into(),
                message: "bad".into(),
            };
            assert_eq!(err.within("spec").to_string(), "spec: bad");
        }
    }

    #[test]
    fn a_json_object_converts_both_ways() {
        let object = json!({"b": [1, {"c": null}], "a": "x"});
        let s = from_json_object(object.as_object().unwrap());
        assert_eq!(to_json_value(&s), object);
        assert!(!s.is_empty());
        assert!(from_json_object(&Map::new()).is_empty());
    }

    #[test]
    fn scalars_are_not_structs() {
        assert!(to_struct(&3).is_err());
        assert!(from_json_value(&json!([1])).is_none());
    }
}
