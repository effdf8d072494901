//! Typed access to a `RunFunctionRequest`: observed and desired state, input, context, the
//! Crossplane environment, required resources, credentials and capabilities.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::proto::v1::{Capability, RunFunctionRequest, credentials};
use super::resource::{Name, Ready};
use pbstruct::PathError;
use pbstruct::{Encoded, Struct};

/// The context key function-environment-configs writes the merged environment to.
pub const KEY_ENVIRONMENT: &str = "apiextensions.crossplane.io/environment";

/// An observed composed resource, kept as the request carries it: borrowed from the request,
/// read on demand, so a composition that only checks that a resource exists never pays for
/// copying or reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedComposed<'a> {
    /// The object as it arrived.
    encoded: Cow<'a, Struct>,
    /// Its connection details.
    pub connection_details: Cow<'a, BTreeMap<String, Vec<u8>>>,
}

impl ObservedComposed<'static> {
    /// An observed resource from its object (tests, and callers that hold JSON already); a
    /// value that is not an object is an empty object, as a Struct cannot hold it.
    pub fn new(resource: &Value, connection_details: BTreeMap<String, Vec<u8>>) -> Self {
        Self {
            encoded: Cow::Owned(pbstruct::from_json_value(resource).unwrap_or_default()),
            connection_details: Cow::Owned(connection_details),
        }
    }
}

impl ObservedComposed<'_> {
    /// The whole object, including status, as JSON.
    pub fn resource(&self) -> Value {
        pbstruct::to_json_value(&self.encoded)
    }

    /// The object read into `T`: fields `T` does not name are skipped, not read.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, PathError> {
        pbstruct::from_struct(&self.encoded)
    }

    /// The `status` of the first of `status.conditions` of type `type_`, read where it is
    /// encoded, nothing else of the object built; `None` without such a condition (or with
    /// one whose status is not a string).
    pub fn condition_status(&self, type_: &str) -> Option<&str> {
        self.encoded
            .list_strs_at(&["status", "conditions"], ["type", "status"])
            .find(|[t, _]| *t == type_)
            .map(|[_, status]| status)
            .filter(|status| !status.is_empty())
    }

    /// The object's `metadata.name`, when it has one.
    pub fn name(&self) -> Option<&str> {
        let [name] = self.encoded.strs_at(&["metadata"], ["name"]);
        (!name.is_empty()).then_some(name)
    }

    /// The annotation `key` of the object, when it has one that is not empty.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        let [value] = self.encoded.strs_at(&["metadata", "annotations"], [key]);
        (!value.is_empty()).then_some(value)
    }

    /// Whether the object has a `Ready` condition with status `True`.
    pub fn is_ready(&self) -> bool {
        self.condition_status("Ready") == Some("True")
    }

    /// Whether the object is `Ready=True`, and its `Synced=False` condition if it has one,
    /// read in one pass over the conditions' types and statuses (the reason and message only
    /// when there is something to say).
    pub fn health(&self) -> (bool, Option<Unsynced>) {
        let (mut ready, mut synced) = (None, None);
        for [type_, status] in self
            .encoded
            .list_strs_at(&["status", "conditions"], ["type", "status"])
        {
            match type_ {
                "Ready" if ready.is_none() => ready = Some(status == "True"),
                "Synced" if synced.is_none() => synced = Some(status != "False"),
                _ => {}
            }
            if ready.is_some() && synced.is_some() {
                break;
            }
        }
        let unsynced = (synced == Some(false))
            .then(|| self.synced_condition())
            .flatten();
        (ready.unwrap_or(false), unsynced)
    }

    /// The object's `Synced=False` condition, if it has one: its provider could not make the
    /// external resource match what was asked (an update refused, a reference unresolved).
    pub fn unsynced(&self) -> Option<Unsynced> {
        if self.condition_status("Synced") != Some("False") {
            return None;
        }
        self.synced_condition()
    }

    /// The first `Synced` condition's reason and message.
    fn synced_condition(&self) -> Option<Unsynced> {
        self.encoded
            .list_strs_at(&["status", "conditions"], ["type", "reason", "message"])
            .find(|[t, ..]| *t == "Synced")
            .map(|[_, reason, message]| Unsynced::new(reason, message))
    }
}

/// Why a composed resource's provider reports it `Synced=False`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsynced {
    /// The condition's reason (`ReconcileError`).
    pub reason: String,
    /// Its message, at most [`Unsynced::MESSAGE_MAX`] characters.
    pub message: String,
}

impl Unsynced {
    /// Longest message kept: provider errors can quote whole objects.
    pub const MESSAGE_MAX: usize = 500;

    fn new(reason: &str, message: &str) -> Self {
        let message = match message.char_indices().nth(Self::MESSAGE_MAX) {
            Some((cut, _)) => format!("{}...", &message[..cut]),
            None => message.to_owned(),
        };
        Self {
            reason: reason.to_owned(),
            message,
        }
    }
}

/// A desired composed resource, as earlier steps (or this function) left it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredComposed {
    /// The partial object (SSA intent).
    pub resource: Value,
    /// Readiness.
    pub ready: Ready,
}

/// The observed composite resource, as JSON.
pub fn observed_composite(req: &RunFunctionRequest) -> Option<Value> {
    observed_composite_struct(req).map(pbstruct::to_json_value)
}

/// The observed composite resource, as the request carries it.
pub fn observed_composite_struct(req: &RunFunctionRequest) -> Option<&Struct> {
    req.observed.as_ref()?.composite.as_ref()?.resource.as_ref()
}

/// The observed composite resource's connection details.
pub fn observed_composite_connection_details(
    req: &RunFunctionRequest,
) -> BTreeMap<String, Vec<u8>> {
    req.observed
        .as_ref()
        .and_then(|o| o.composite.as_ref())
        .map(|c| {
            c.connection_details
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The observed composed resources by composition resource name, borrowed from the request.
pub fn observed_composed(req: &RunFunctionRequest) -> BTreeMap<Name, ObservedComposed<'_>> {
    let Some(observed) = req.observed.as_ref() else {
        return BTreeMap::new();
    };
    observed
        .resources
        .iter()
        .map(|(name, r)| {
            let composed = ObservedComposed {
                encoded: r
                    .resource
                    .as_ref()
                    .map_or_else(|| Cow::Owned(Struct::default()), Cow::Borrowed),
                connection_details: Cow::Borrowed(&r.connection_details),
            };
            (Name::from(name.as_str()), composed)
        })
        .collect()
}

/// The desired composite resource so far (earlier steps may have set status), as JSON.
pub fn desired_composite(req: &RunFunctionRequest) -> Option<Value> {
    let s = req
        .desired
        .as_ref()?
        .composite
        .as_ref()?
        .resource
        .as_ref()?;
    Some(pbstruct::to_json_value(s))
}

/// The desired composed resources so far, by composition resource name.
pub fn desired_composed(req: &RunFunctionRequest) -> BTreeMap<Name, DesiredComposed> {
    let Some(desired) = req.desired.as_ref() else {
        return BTreeMap::new();
    };
    desired
        .resources
        .iter()
        .map(|(name, r)| {
            let resource = r
                .resource
                .as_ref()
                .map_or(Value::Object(Map::new()), pbstruct::to_json_value);
            (
                Name::from(name.as_str()),
                DesiredComposed {
                    resource,
                    ready: r.ready(),
                },
            )
        })
        .collect()
}

/// The step's input, as JSON, when the step has one.
pub fn input(req: &RunFunctionRequest) -> Option<Value> {
    req.input.as_ref().map(pbstruct::to_json_value)
}

/// The step's input decoded into `T`; `Ok(None)` when the step has no input.
pub fn input_as<T: DeserializeOwned>(req: &RunFunctionRequest) -> Result<Option<T>, PathError> {
    input(req).map(pbstruct::from_value).transpose()
}

/// A context value by key.
pub fn context_key(req: &RunFunctionRequest, key: &str) -> Option<Value> {
    req.context.as_ref()?.get(key)
}

/// The Crossplane environment (`apiextensions.crossplane.io/environment`), when an earlier
/// step (function-environment-configs) put one in the context.
pub fn environment(req: &RunFunctionRequest) -> Option<Value> {
    context_key(req, KEY_ENVIRONMENT)
}

/// One key of the Crossplane environment; the rest of the environment is not read.
pub fn environment_key(req: &RunFunctionRequest, key: &str) -> Option<Value> {
    environment_key_encoded(req, key).map(Encoded::to_json)
}

/// [`environment_key`], still encoded (to compare with an earlier call's before reading it).
pub fn environment_key_encoded<'a>(req: &'a RunFunctionRequest, key: &str) -> Option<Encoded<'a>> {
    req.context.as_ref()?.encoded_at(&[KEY_ENVIRONMENT, key])
}

/// Every resolved requirement's resources, by requirement name (see [`required_resources`]).
pub fn all_required_resources(req: &RunFunctionRequest) -> BTreeMap<String, Vec<Value>> {
    #[allow(deprecated)]
    let names = req
        .required_resources
        .keys()
        .chain(req.extra_resources.keys());
    names
        .filter_map(|name| required_resources(req, name).map(|found| (name.clone(), found)))
        .collect()
}

/// Resources Crossplane fetched for requirement `name`.
///
/// `None` means not resolved yet (Crossplane has not answered the requirement);
/// `Some(vec![])` means Crossplane looked and found nothing. Reads `required_resources` and
/// falls back to the deprecated `extra_resources` that Crossplane 1.15 to 1.20 fill.
pub fn required_resources(req: &RunFunctionRequest, name: &str) -> Option<Vec<Value>> {
    #[allow(deprecated)]
    let found = req
        .required_resources
        .get(name)
        .or_else(|| req.extra_resources.get(name))?;
    Some(
        found
            .items
            .iter()
            .filter_map(|r| r.resource.as_ref())
            .map(pbstruct::to_json_value)
            .collect(),
    )
}

/// The credential data of the pipeline step's credential `name`.
pub fn credentials<'a>(
    req: &'a RunFunctionRequest,
    name: &str,
) -> Option<&'a BTreeMap<String, Vec<u8>>> {
    match req.credentials.get(name)?.source.as_ref()? {
        credentials::Source::CredentialData(d) => Some(&d.data),
    }
}

/// The OpenAPI v3 schema Crossplane fetched for requirement `name`: `None` when not resolved,
/// `Some(None)` when the kind was not found.
pub fn required_schema(req: &RunFunctionRequest, name: &str) -> Option<Option<Value>> {
    let schema = req.required_schemas.get(name)?;
    Some(schema.openapi_v3.as_ref().map(pbstruct::to_json_value))
}

/// Whether the calling Crossplane advertises its capabilities (v2.2 and later).
pub fn advertises_capabilities(req: &RunFunctionRequest) -> bool {
    has_capability(req, Capability::Capabilities)
}

/// Whether the calling Crossplane advertises `capability`. When it advertises none
/// ([`advertises_capabilities`] is false), absence says nothing about support.
pub fn has_capability(req: &RunFunctionRequest, capability: Capability) -> bool {
    req.meta
        .as_ref()
        .is_some_and(|m| m.capabilities.contains(&(capability as i32)))
}

/// The request's tag.
pub fn tag(req: &RunFunctionRequest) -> &str {
    req.meta.as_ref().map_or("", |m| m.tag.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::proto::v1::{RequestMeta, Resource, Resources, State};
    use serde_json::json;

    fn res(v: Value) -> Resource {
        Resource {
            resource: pbstruct::from_json_value(&v),
            ..Default::default()
        }
    }

    #[test]
    fn conditions_are_found_by_type() {
        let read = |v| ObservedComposed::new(&v, BTreeMap::new());
        let obj = read(
            json!({"status": {"conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}]}}),
        );
        assert_eq!(obj.condition_status("Ready"), Some("False"));
        assert_eq!(obj.condition_status("Synced"), Some("True"));
        assert!(!obj.is_ready());
        assert_eq!(obj.condition_status("Missing"), None);
        assert!(
            read(json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}))
                .is_ready()
        );
        assert!(!read(json!({"status": null})).is_ready());
        assert!(
            !read(json!({"status": {"conditions": {"type": "Ready", "status": "True"}}}))
                .is_ready()
        );
        assert!(!read(json!({"spec": {}})).is_ready());
        // A condition without a type, or an item that is no condition, hides no other.
        let untyped = json!({"status": {"conditions": [{"status": "False"}, 7, {"type": "Ready", "status": "True"}]}});
        assert!(read(untyped).is_ready());
        // The first condition of a type counts, as Kubernetes' meta.FindStatusCondition.
        let twice = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert!(!read(twice).is_ready());
    }

    #[test]
    fn health_reads_ready_and_an_unsynced_reason_in_one_pass() {
        let read = |v| ObservedComposed::new(&v, BTreeMap::new());
        let refused = read(json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "Available"},
            {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "cannot update: refused"},
        ]}}));
        let unsynced = Unsynced {
            reason: "ReconcileError".into(),
            message: "cannot update: refused".into(),
        };
        assert_eq!(refused.health(), (true, Some(unsynced.clone())));
        assert_eq!(refused.unsynced(), Some(unsynced));
        let synced = read(json!({"status": {"conditions": [
            {"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"},
        ]}}));
        assert_eq!(synced.health(), (false, None));
        assert_eq!(synced.unsynced(), None);
        // No conditions (a Secret), or Synced unknown: nothing to say.
        assert_eq!(read(json!({"data": {}})).health(), (false, None));
        let unknown =
            read(json!({"status": {"conditions": [{"type": "Synced", "status": "Unknown"}]}}));
        assert_eq!(unknown.unsynced(), None);
        // As for Ready, the first Synced condition counts; a long message is cut.
        let long = "x".repeat(Unsynced::MESSAGE_MAX + 10);
        let twice = read(json!({"status": {"conditions": [
            {"type": "Synced", "status": "False", "reason": "R", "message": long},
            {"type": "Synced", "status": "True"},
        ]}}));
        let (ready, unsynced) = twice.health();
        assert!(!ready);
        let message = unsynced.unwrap().message;
        assert_eq!(message.chars().count(), Unsynced::MESSAGE_MAX + 3);
        assert!(message.ends_with("..."));
        assert_eq!(twice.unsynced().unwrap().message, message);
        // The first Ready condition counts, as for is_ready.
        let ready_twice = read(json!({"status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"},
        ]}}));
        assert!(ready_twice.is_ready());
        assert_eq!(ready_twice.health(), (true, None));
    }

    #[test]
    fn required_resources_distinguish_unresolved_from_empty() {
        let mut req = RunFunctionRequest::default();
        assert_eq!(required_resources(&req, "kubeconfig"), None);
        req.required_resources
            .insert("kubeconfig".into(), Resources::default());
        assert_eq!(required_resources(&req, "kubeconfig"), Some(vec![]));
        req.required_resources.insert(
            "kubeconfig".into(),
            Resources {
                items: vec![res(json!({"kind": "Secret", "data": {"n": 1}}))],
            },
        );
        assert_eq!(
            required_resources(&req, "kubeconfig").unwrap()[0]["data"]["n"],
            json!(1)
        );
    }

    #[test]
    #[allow(deprecated)]
    fn deprecated_extra_resources_are_read_too() {
        let mut req = RunFunctionRequest::default();
        req.extra_resources.insert(
            "cfg".into(),
            Resources {
                items: vec![res(json!({"kind": "ConfigMap"}))],
            },
        );
        assert_eq!(required_resources(&req, "cfg").unwrap().len(), 1);
    }

    #[test]
    fn observed_and_desired_are_keyed_by_name() {
        let mut req = RunFunctionRequest::default();
        let mut observed = State {
            composite: Some(res(json!({"kind": "XR", "spec": {"n": 3}}))),
            ..Default::default()
        };
        observed
            .resources
            .insert("vm".into(), res(json!({"kind": "VirtualMachine"})));
        req.observed = Some(observed);
        let mut desired = State::default();
        let mut r = res(json!({"kind": "Service"}));
        r.set_ready(Ready::True);
        desired.resources.insert("svc".into(), r);
        req.desired = Some(desired);

        assert_eq!(observed_composite(&req).unwrap()["spec"]["n"], json!(3));
        assert_eq!(
            observed_composed(&req)[&Name::from("vm")].resource()["kind"],
            "VirtualMachine"
        );
        assert_eq!(
            desired_composed(&req)[&Name::from("svc")].ready,
            Ready::True
        );
    }

    #[test]
    fn capabilities() {
        let mut req = RunFunctionRequest::default();
        assert!(!advertises_capabilities(&req));
        req.meta = Some(RequestMeta {
            tag: "t".into(),
            capabilities: vec![
                Capability::Capabilities as i32,
                Capability::Conditions as i32,
            ],
        });
        assert!(advertises_capabilities(&req));
        assert!(has_capability(&req, Capability::Conditions));
        assert!(!has_capability(&req, Capability::RequiredResources));
        assert_eq!(tag(&req), "t");
    }

    #[test]
    fn environment_comes_from_context() {
        let req = RunFunctionRequest {
            context: pbstruct::from_json_value(&json!({KEY_ENVIRONMENT: {"sco": {"a": 1}}})),
            ..Default::default()
        };
        assert_eq!(environment(&req).unwrap()["sco"]["a"], json!(1));
        assert_eq!(environment_key(&req, "sco"), Some(json!({"a": 1})));
        assert_eq!(environment_key(&req, "other"), None);
        assert_eq!(context_key(&req, "missing"), None);
    }
}
