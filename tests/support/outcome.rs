//! A rendered case as the stage-by-stage tests read it: composed resources with readiness,
//! the XR's status and conditions, the TTL and the Fatal result, if any.

use std::collections::BTreeMap;

use function_sco::sdk::proto::v1::{Ready, RunFunctionResponse, Severity, Status};
use serde_json::Value;

/// A rendered stage: composed resources with readiness, XR status, conditions and TTL.
pub struct Outcome {
    pub response: RunFunctionResponse,
    pub composed: BTreeMap<String, (Value, Ready)>,
    pub status: Value,
}

impl Outcome {
    pub fn of(response: RunFunctionResponse) -> Self {
        let desired = response.desired.clone().unwrap_or_default();
        let composed = desired
            .resources
            .iter()
            .map(|(name, r)| {
                (
                    name.clone(),
                    (
                        r.resource
                            .as_ref()
                            .map_or(Value::Null, pbstruct::to_json_value),
                        r.ready(),
                    ),
                )
            })
            .collect();
        let status = desired
            .composite
            .and_then(|c| c.resource)
            .map_or(Value::Null, |s| {
                pbstruct::to_json_value(&s)["status"].clone()
            });
        Self {
            response,
            composed,
            status,
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.composed.keys().map(String::as_str).collect()
    }

    pub fn manifest(&self, name: &str) -> &Value {
        &self
            .composed
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not composed; composed: {:?}", self.names()))
            .0
    }

    pub fn ready(&self, name: &str) -> bool {
        self.composed[name].1 == Ready::True
    }

    /// (status, reason, message) of condition `type_`.
    pub fn condition(&self, type_: &str) -> (Status, String, String) {
        let c = self
            .response
            .conditions
            .iter()
            .find(|c| c.r#type == type_)
            .unwrap_or_else(|| panic!("no {type_} condition"));
        (
            c.status(),
            c.reason.clone(),
            c.message.clone().unwrap_or_default(),
        )
    }

    pub fn composite_ready(&self) -> Ready {
        self.response
            .desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .map_or(Ready::Unspecified, |c| c.ready())
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.response
            .meta
            .as_ref()
            .and_then(|m| m.ttl)
            .map_or(0, |t| t.seconds)
    }

    pub fn fatal(&self) -> Option<&str> {
        self.response
            .results
            .iter()
            .find(|r| r.severity() == Severity::Fatal)
            .map(|r| r.message.as_str())
    }

    pub fn warnings(&self) -> Vec<&str> {
        self.response
            .results
            .iter()
            .filter(|r| r.severity() == Severity::Warning)
            .map(|r| r.message.as_str())
            .collect()
    }
}
