//! `status.conditions[]` entries as observed readers need them: type, status, reason and
//! message (the `metav1.Condition` shape, which Crossplane's managed resources also use).

use serde::Deserialize;

/// One observed condition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Condition {
    /// The condition type (`Ready`, `Synced`, `NetworkCreated`, ...).
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// A CamelCase reason.
    #[serde(default)]
    pub reason: String,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
}

impl Condition {
    /// Whether the status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// The condition of `type_` among `conditions`.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_is_there() {
        let conditions: Vec<Condition> = serde_json::from_value(json!([
            {"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "Synced", "status": "False"},
        ]))
        .unwrap();
        assert!(find(&conditions, "Ready").unwrap().is_true());
        let synced = find(&conditions, "Synced").unwrap();
        assert_eq!((synced.is_true(), synced.message.as_str()), (false, ""));
        assert_eq!(find(&conditions, "Other"), None);
    }
}
