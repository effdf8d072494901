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
    fn scalars_are_not_structs() {
        assert!(to_struct(&3).is_err());
        assert!(from_json_value(&json!([1])).is_none());
    }
}
