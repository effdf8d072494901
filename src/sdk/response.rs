//! Building a `RunFunctionResponse` the way function-sdk-go does: start from the request
//! ([`to`]), then add results, conditions, desired resources, status and requirements.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::Value;

use super::proto::v1::{
    Capability, Condition, MatchLabels, Requirements, Resource, ResourceSelector, ResponseMeta,
    Result as FnResult, RunFunctionRequest, RunFunctionResponse, SchemaSelector, Severity, State,
    Status, Target, resource_selector,
};
use super::request;
use super::resource::{Name, Ready};
use pbstruct::Struct;

/// The TTL function-sdk-go uses when a function sets none.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// A response that starts from the request: the tag is copied, the desired state and context
/// are carried over unchanged, and the TTL is set. Anything earlier steps composed survives
/// unless this function changes it on purpose.
pub fn to(req: &RunFunctionRequest, ttl: Duration) -> RunFunctionResponse {
    RunFunctionResponse {
        meta: Some(ResponseMeta {
            tag: request::tag(req).to_owned(),
            ttl: Some(duration(ttl)),
        }),
        desired: req.desired.clone(),
        context: req.context.clone(),
        ..Default::default()
    }
}

/// Sets the response TTL.
pub fn set_ttl(rsp: &mut RunFunctionResponse, ttl: Duration) {
    rsp.meta.get_or_insert_with(Default::default).ttl = Some(duration(ttl));
}

fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

/// Appends a Fatal result: Crossplane stops the pipeline, applies and deletes nothing this
/// reconcile, and reports the message on the composite resource.
pub fn fatal(rsp: &mut RunFunctionResponse, message: impl Into<String>) -> &mut FnResult {
    push_result(rsp, Severity::Fatal, message.into())
}

/// Appends a Warning result (a Warning event on the composite resource).
pub fn warning(rsp: &mut RunFunctionResponse, message: impl Into<String>) -> &mut FnResult {
    push_result(rsp, Severity::Warning, message.into())
}

/// Appends a Normal result (a Normal event on the composite resource).
pub fn normal(rsp: &mut RunFunctionResponse, message: impl Into<String>) -> &mut FnResult {
    push_result(rsp, Severity::Normal, message.into())
}

fn push_result(
    rsp: &mut RunFunctionResponse,
    severity: Severity,
    message: String,
) -> &mut FnResult {
    rsp.results.push(FnResult {
        severity: severity as i32,
        message,
        reason: None,
        target: Some(Target::Composite as i32),
    });
    rsp.results.last_mut().expect("just pushed")
}

/// Whether the response carries a Fatal result.
pub fn has_fatal(rsp: &RunFunctionResponse) -> bool {
    rsp.results.iter().any(|r| r.severity() == Severity::Fatal)
}

/// Builder methods for results and conditions.
pub trait Targeted {
    /// Shows it on the composite resource only (the default).
    fn target_composite(&mut self) -> &mut Self;
    /// Shows it on the composite resource and its claim.
    fn target_composite_and_claim(&mut self) -> &mut Self;
}

impl Targeted for FnResult {
    fn target_composite(&mut self) -> &mut Self {
        self.set_target(Target::Composite);
        self
    }
    fn target_composite_and_claim(&mut self) -> &mut Self {
        self.set_target(Target::CompositeAndClaim);
        self
    }
}

impl Targeted for Condition {
    fn target_composite(&mut self) -> &mut Self {
        self.set_target(Target::Composite);
        self
    }
    fn target_composite_and_claim(&mut self) -> &mut Self {
        self.set_target(Target::CompositeAndClaim);
        self
    }
}

/// Builder method for a result's reason.
pub trait WithReason {
    /// Sets the PascalCase reason (the event reason).
    fn with_reason(&mut self, reason: impl Into<String>) -> &mut Self;
}

impl WithReason for FnResult {
    fn with_reason(&mut self, reason: impl Into<String>) -> &mut Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Builder method for a condition's message.
pub trait WithMessage {
    /// Sets the human-readable message.
    fn with_message(&mut self, message: impl Into<String>) -> &mut Self;
}

impl WithMessage for Condition {
    fn with_message(&mut self, message: impl Into<String>) -> &mut Self {
        self.message = Some(message.into());
        self
    }
}

/// Sets condition `type_` on the composite resource, replacing an earlier one of the same type
/// in this response. `reason` must be PascalCase and not empty.
pub fn condition<'a>(
    rsp: &'a mut RunFunctionResponse,
    type_: &str,
    status: Status,
    reason: &str,
) -> &'a mut Condition {
    rsp.conditions.retain(|c| c.r#type != type_);
    rsp.conditions.push(Condition {
        r#type: type_.to_owned(),
        status: status as i32,
        reason: reason.to_owned(),
        message: None,
        target: Some(Target::Composite as i32),
    });
    rsp.conditions.last_mut().expect("just pushed")
}

/// Sets condition `type_` to `True`.
pub fn condition_true<'a>(
    rsp: &'a mut RunFunctionResponse,
    type_: &str,
    reason: &str,
) -> &'a mut Condition {
    condition(rsp, type_, Status::ConditionTrue, reason)
}

/// Sets condition `type_` to `False`.
pub fn condition_false<'a>(
    rsp: &'a mut RunFunctionResponse,
    type_: &str,
    reason: &str,
) -> &'a mut Condition {
    condition(rsp, type_, Status::ConditionFalse, reason)
}

/// Sets condition `type_` to `Unknown`.
pub fn condition_unknown<'a>(
    rsp: &'a mut RunFunctionResponse,
    type_: &str,
    reason: &str,
) -> &'a mut Condition {
    condition(rsp, type_, Status::ConditionUnknown, reason)
}

fn desired(rsp: &mut RunFunctionResponse) -> &mut State {
    rsp.desired.get_or_insert_with(Default::default)
}

/// Sets (adds or replaces) the desired composed resource `name` with explicit readiness.
/// Other desired resources are left as they are.
pub fn set_desired_composed(
    rsp: &mut RunFunctionResponse,
    name: &Name,
    resource: &Value,
    ready: Ready,
) {
    set_desired_composed_struct(rsp, name, pbstruct::from_json_value(resource), ready);
}

/// [`set_desired_composed`] for an object already encoded (see [`pbstruct::to_struct`]).
pub fn set_desired_composed_struct(
    rsp: &mut RunFunctionResponse,
    name: &Name,
    resource: Option<Struct>,
    ready: Ready,
) {
    let mut r = Resource {
        resource,
        ..Default::default()
    };
    r.set_ready(ready);
    desired(rsp).resources.insert(name.to_string(), r);
}

/// Removes the desired composed resource `name`, so Crossplane deletes it.
pub fn remove_desired_composed(rsp: &mut RunFunctionResponse, name: &Name) {
    desired(rsp).resources.remove(name.as_str());
}

fn desired_composite(rsp: &mut RunFunctionResponse) -> &mut Resource {
    desired(rsp).composite.get_or_insert_with(Default::default)
}

/// Merges `status` (a JSON object) into the desired composite resource's status. Keys set by
/// earlier steps that `status` does not name are kept; nested objects merge key by key.
pub fn set_desired_composite_status(rsp: &mut RunFunctionResponse, status: &Value) {
    let resource = desired_composite(rsp)
        .resource
        .get_or_insert_with(Default::default);
    // Only the status entry is read and written again; the rest stays as earlier steps left it.
    let status = match resource.get("status") {
        Some(mut earlier) => {
            merge(&mut earlier, status);
            Cow::Owned(earlier)
        }
        None => Cow::Borrowed(status),
    };
    resource.insert("status", &status);
}

/// JSON merge of `patch` into `target`: objects merge recursively, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Overrides the composite resource's derived readiness (honoured since Crossplane 1.19).
pub fn set_desired_composite_ready(rsp: &mut RunFunctionResponse, ready: Ready) {
    desired_composite(rsp).set_ready(ready);
}

/// Sets a connection detail on the desired composite resource (published for legacy XRs only;
/// Crossplane v2 XRs need a composed Secret instead).
pub fn set_composite_connection_detail(rsp: &mut RunFunctionResponse, key: &str, value: &[u8]) {
    desired_composite(rsp)
        .connection_details
        .insert(key.to_owned(), value.to_vec());
}

/// Sets a context key for the steps that follow.
pub fn set_context_key(rsp: &mut RunFunctionResponse, key: &str, value: &Value) {
    rsp.context
        .get_or_insert_with(Default::default)
        .insert(key, value);
}

/// What a resource requirement matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly this name.
    Name(String),
    /// Every object with these labels.
    Labels(std::collections::BTreeMap<String, String>),
    /// Every object of the kind (Crossplane 2.3 and later).
    All,
}

/// A resource requirement: Crossplane fetches the matching objects and calls again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// apiVersion of the objects.
    pub api_version: String,
    /// kind of the objects.
    pub kind: String,
    /// What to match.
    pub matching: Match,
    /// Namespace to look in; `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
}

impl Requirement {
    /// The Namespace `name`.
    pub fn namespace(name: &str) -> Self {
        Self {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            matching: Match::Name(name.to_owned()),
            namespace: None,
        }
    }

    /// The Secret `name` in `namespace`.
    pub fn secret(namespace: &str, name: &str) -> Self {
        Self {
            api_version: "v1".into(),
            kind: "Secret".into(),
            matching: Match::Name(name.to_owned()),
            namespace: Some(namespace.to_owned()),
        }
    }
}

/// Requires resources under `name`. Declare requirements on every call, also once satisfied,
/// or Crossplane's requirements loop does not settle.
///
/// Crossplane 2.2 and later advertise capabilities; they get `requirements.resources` when
/// they support it. Older Crossplane advertises nothing: 2.0 and 2.1 read `resources`, 1.15
/// to 1.20 only the deprecated `extra_resources`, so both are set.
pub fn require_resources(
    rsp: &mut RunFunctionResponse,
    req: &RunFunctionRequest,
    name: &str,
    requirement: &Requirement,
) {
    let selector = ResourceSelector {
        api_version: requirement.api_version.clone(),
        kind: requirement.kind.clone(),
        namespace: requirement.namespace.clone(),
        r#match: match &requirement.matching {
            Match::Name(n) => Some(resource_selector::Match::MatchName(n.clone())),
            Match::Labels(l) => Some(resource_selector::Match::MatchLabels(MatchLabels {
                labels: l.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            })),
            Match::All => None,
        },
    };
    let requirements = rsp.requirements.get_or_insert_with(Requirements::default);
    if request::advertises_capabilities(req) {
        if request::has_capability(req, Capability::RequiredResources) {
            requirements.resources.insert(name.to_owned(), selector);
        }
    } else {
        #[allow(deprecated)]
        requirements
            .extra_resources
            .insert(name.to_owned(), selector.clone());
        requirements.resources.insert(name.to_owned(), selector);
    }
}

/// Requires the OpenAPI schema of a kind under `name`.
pub fn require_schema(rsp: &mut RunFunctionResponse, name: &str, api_version: &str, kind: &str) {
    rsp.requirements
        .get_or_insert_with(Requirements::default)
        .schemas
        .insert(
            name.to_owned(),
            SchemaSelector {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::proto::v1::RequestMeta;
    use serde_json::json;

    fn request_with_desired() -> RunFunctionRequest {
        let mut req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: "abc".into(),
                capabilities: vec![],
            }),
            context: pbstruct::from_json_value(&json!({"k": "v"})),
            ..Default::default()
        };
        let mut desired = State::default();
        let mut earlier = Resource {
            resource: pbstruct::from_json_value(&json!({"kind": "Bucket"})),
            ..Default::default()
        };
        earlier.set_ready(Ready::True);
        desired.resources.insert("bucket".into(), earlier);
        desired.composite = Some(Resource {
            resource: pbstruct::from_json_value(&json!({"status": {"earlier": {"a": 1}}})),
            ..Default::default()
        });
        req.desired = Some(desired);
        req
    }

    #[test]
    fn targets_move_back_and_forth_and_connection_details_reach_the_composite() {
        let mut rsp = RunFunctionResponse::default();
        warning(&mut rsp, "w")
            .target_composite_and_claim()
            .target_composite();
        assert_eq!(rsp.results[0].target(), Target::Composite);
        warning(&mut rsp, "x").target_composite_and_claim();
        assert_eq!(rsp.results[1].target(), Target::CompositeAndClaim);
        condition_true(&mut rsp, "Ready", "Available")
            .target_composite_and_claim()
            .target_composite();
        assert_eq!(rsp.conditions[0].target(), Target::Composite);
        set_composite_connection_detail(&mut rsp, "url", b"https://x");
        let composite = rsp
            .desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .unwrap();
        assert_eq!(composite.connection_details["url"], b"https://x".to_vec());
    }

    #[test]
    fn to_copies_tag_desired_context_and_sets_ttl() {
        let req = request_with_desired();
        let rsp = to(&req, Duration::from_secs(30));
        let meta = rsp.meta.as_ref().unwrap();
        assert_eq!(meta.tag, "abc");
        assert_eq!(meta.ttl.as_ref().unwrap().seconds, 30);
        assert_eq!(rsp.desired, req.desired);
        assert_eq!(rsp.context, req.context);
    }

    #[test]
    fn ttl_can_be_changed() {
        let mut rsp = to(&RunFunctionRequest::default(), DEFAULT_TTL);
        assert_eq!(rsp.meta.as_ref().unwrap().ttl.as_ref().unwrap().seconds, 60);
        set_ttl(&mut rsp, Duration::from_millis(1500));
        let ttl = rsp.meta.unwrap().ttl.unwrap();
        assert_eq!((ttl.seconds, ttl.nanos), (1, 500_000_000));
    }

    #[test]
    fn adding_resources_preserves_earlier_steps() {
        let req = request_with_desired();
        let mut rsp = to(&req, DEFAULT_TTL);
        set_desired_composed(
            &mut rsp,
            &Name::from("vm"),
            &json!({"kind": "VirtualMachine"}),
            Ready::False,
        );
        let resources = &rsp.desired.as_ref().unwrap().resources;
        assert_eq!(resources.len(), 2);
        assert_eq!(resources["bucket"].ready(), Ready::True);
        assert_eq!(resources["vm"].ready(), Ready::False);
        remove_desired_composed(&mut rsp, &Name::from("vm"));
        assert_eq!(rsp.desired.as_ref().unwrap().resources.len(), 1);
    }

    #[test]
    fn composite_status_is_written_beside_what_earlier_steps_set() {
        let mut rsp = RunFunctionResponse::default();
        set_desired_composite_status(&mut rsp, &json!({"vm": {"ready": true}}));
        let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
        assert_eq!(
            pbstruct::to_json_value(composite.resource.as_ref().unwrap()),
            json!({"status": {"vm": {"ready": true}}})
        );
        // An earlier step's desired composite without a status keeps its other keys.
        let mut rsp = RunFunctionResponse::default();
        desired_composite(&mut rsp).resource =
            pbstruct::from_json_value(&json!({"metadata": {"labels": {"a": "b"}}, "zz": 1}));
        set_desired_composite_status(&mut rsp, &json!({"x": 1}));
        let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
        assert_eq!(
            pbstruct::to_json_value(composite.resource.as_ref().unwrap()),
            json!({"metadata": {"labels": {"a": "b"}}, "status": {"x": 1}, "zz": 1})
        );
    }

    #[test]
    fn composite_status_merges_with_earlier_status() {
        let req = request_with_desired();
        let mut rsp = to(&req, DEFAULT_TTL);
        set_desired_composite_status(
            &mut rsp,
            &json!({"vm": {"ready": true}, "earlier": {"b": 2}}),
        );
        set_desired_composite_ready(&mut rsp, Ready::False);
        let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
        let status = pbstruct::to_json_value(composite.resource.as_ref().unwrap());
        assert_eq!(
            status,
            json!({"status": {"earlier": {"a": 1, "b": 2}, "vm": {"ready": true}}})
        );
        assert_eq!(composite.ready(), Ready::False);
    }

    #[test]
    fn results_default_to_the_composite_and_chain() {
        let mut rsp = RunFunctionResponse::default();
        normal(&mut rsp, "fine");
        assert!(!has_fatal(&rsp));
        fatal(&mut rsp, "spec.x: bad")
            .target_composite_and_claim()
            .with_reason("InvalidSpec");
        warning(&mut rsp, "careful");
        assert!(has_fatal(&rsp));
        assert_eq!(rsp.results[0].target(), Target::Composite);
        assert_eq!(rsp.results[1].severity(), Severity::Fatal);
        assert_eq!(rsp.results[1].target(), Target::CompositeAndClaim);
        assert_eq!(rsp.results[1].reason.as_deref(), Some("InvalidSpec"));
        assert_eq!(rsp.results[2].severity(), Severity::Warning);
    }

    #[test]
    fn conditions_replace_the_same_type() {
        let mut rsp = RunFunctionResponse::default();
        condition_false(&mut rsp, "Valid", "InvalidSpec").with_message("spec.x: bad");
        condition_true(&mut rsp, "Valid", "ValidSpec");
        condition_unknown(&mut rsp, "Other", "Waiting").target_composite_and_claim();
        assert_eq!(rsp.conditions.len(), 2);
        assert_eq!(rsp.conditions[0].status(), Status::ConditionTrue);
        assert_eq!(rsp.conditions[0].message, None);
        assert_eq!(rsp.conditions[1].target(), Target::CompositeAndClaim);
    }

    #[test]
    fn requirements_follow_capabilities() {
        let requirement = Requirement::secret("crossplane-system", "kcp-admin");
        // Old Crossplane: no capabilities, so both fields.
        let old = RunFunctionRequest::default();
        let mut rsp = RunFunctionResponse::default();
        require_resources(&mut rsp, &old, "kubeconfig", &requirement);
        let r = rsp.requirements.as_ref().unwrap();
        #[allow(deprecated)]
        let extra = &r.extra_resources;
        assert!(extra.contains_key("kubeconfig"));
        assert_eq!(
            r.resources["kubeconfig"].namespace.as_deref(),
            Some("crossplane-system")
        );

        // New Crossplane advertising required resources: only the current field.
        let new = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: String::new(),
                capabilities: vec![
                    Capability::Capabilities as i32,
                    Capability::RequiredResources as i32,
                ],
            }),
            ..Default::default()
        };
        let mut rsp = RunFunctionResponse::default();
        require_resources(&mut rsp, &new, "kubeconfig", &requirement);
        let r = rsp.requirements.as_ref().unwrap();
        #[allow(deprecated)]
        let extra = &r.extra_resources;
        assert!(extra.is_empty());
        assert!(
            matches!(r.resources["kubeconfig"].r#match, Some(resource_selector::Match::MatchName(ref n)) if n == "kcp-admin")
        );

        require_schema(&mut rsp, "vm-schema", "kubevirt.io/v1", "VirtualMachine");
        assert_eq!(
            rsp.requirements.unwrap().schemas["vm-schema"].kind,
            "VirtualMachine"
        );
    }

    #[test]
    fn context_keys_are_set() {
        let mut rsp = to(&request_with_desired(), DEFAULT_TTL);
        set_context_key(&mut rsp, "sco.stakater.com/x", &json!({"a": 1}));
        let ctx = pbstruct::to_json_value(rsp.context.as_ref().unwrap());
        assert_eq!(ctx, json!({"k": "v", "sco.stakater.com/x": {"a": 1}}));
    }
}
