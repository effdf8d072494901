//! The SCO function: reads the step input and platform configuration, picks the composition
//! (the input's `spec.composition`, else the XR's apiVersion and kind), renders, and writes the
//! outcome into the response. Every problem with the request ends here as a Fatal result plus
//! a `Valid=False` condition that names the field.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kube::CustomResource;
use kube::core::CustomResourceExt;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compositions::platform::Platform;
use crate::compositions::secrets::Credentials;
use crate::compositions::{self, Desired, Entry, Invalid, Observed, REGISTRY};
use crate::config::{Config, ENVIRONMENT_KEY};
use crate::sdk::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::{Name, Object, Ready};
use crate::sdk::response::{self, Targeted, WithMessage, WithReason};
use crate::sdk::{Function, Handled, request};

/// apiVersion of the function input.
pub const INPUT_API_VERSION: &str = "sco.fn.stakater.com/v1alpha1";

/// Condition type reporting whether the XR, input and configuration are valid.
pub const CONDITION_VALID: &str = "Valid";
/// The condition listing what the composition warns about now (`True`, one warning a line),
/// or `False` (`NoWarnings`).
pub const CONDITION_WARNINGS: &str = "Warnings";
/// Condition type reporting whether everything is composed and ready, and if not, why.
pub const CONDITION_RESOURCES_READY: &str = "ResourcesReady";
/// Condition type reporting whether the providers of the composed resources apply them
/// (none reports `Synced=False`), and if not, what they say. Crossplane does not carry a
/// composed resource's `Synced` to its XR (crossplane/crossplane#4937), so an update a
/// provider cannot make (a webhook's refusal, a reference that does not resolve) would
/// otherwise show nowhere the XR's owner looks.
pub const CONDITION_RESOURCES_SYNCED: &str = "ResourcesSynced";

/// The function input: which composition to run and platform configuration overrides.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "sco.fn.stakater.com",
    version = "v1alpha1",
    kind = "Input",
    namespaced,
    doc = "Input of a function-sco pipeline step."
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputSpec {
    /// The composition to render the XR with. Without it, the XR's apiVersion and kind choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "composition_schema")]
    pub composition: Option<String>,
    /// Platform configuration for this pipeline step. Wins over the environment's `sco` key,
    /// which wins over the built-in defaults; see the README for every key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "platform_schema")]
    pub platform: Option<Value>,
}

/// The input's `spec.composition`: one of the registered compositions' names.
fn composition_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The composition to render the XR with. Without it, the XR's apiVersion and kind choose.",
        "type": "string",
        "nullable": true,
        "enum": compositions::names(),
    })
}

/// The input's `spec.platform`: the shared settings, and each registered composition's own
/// under its key.
fn platform_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Platform>();
    let object = schema.ensure_object();
    object.insert(
        "description".into(),
        "Platform configuration for this pipeline step. Wins over the environment's `sco` key, which wins over the built-in defaults; see the README for every key.".into(),
    );
    object.insert("nullable".into(), true.into());
    for entry in REGISTRY {
        let settings = entry.settings_schema(generator).to_value();
        if let Some(Value::Object(properties)) = schema.ensure_object().get_mut("properties") {
            properties.insert(entry.settings_key.to_owned(), settings);
        }
    }
    schema
}

/// The input as it arrives in the request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InputObject {
    api_version: String,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<Value>,
    #[serde(default)]
    spec: InputSpec,
}

/// The function input CRD (shipped in `package/input/` for tooling).
pub fn input_definition() -> Value {
    serde_json::to_value(Input::crd()).expect("the CRD serialises")
}

/// A generated manifest as YAML: `input` for the function input CRD, or a composition's name
/// (case-insensitive, `-`/`_` ignored) for its XRD.
pub fn generate(what: &str) -> Result<String, String> {
    let value = if what.eq_ignore_ascii_case("input") {
        input_definition()
    } else {
        let entry = compositions::by_loose_name(what).ok_or_else(|| {
            let names: Vec<String> = REGISTRY.iter().map(Entry::dir).collect();
            format!(
                "cannot generate {what:?}: choose input or one of {}",
                names.join(", ")
            )
        })?;
        (entry.definition)()
    };
    serde_norway::to_string(&value).map_err(|e| e.to_string())
}

/// The SCO composition function.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sco;

/// Why a call could not be rendered.
#[derive(Debug)]
pub struct Failure {
    /// PascalCase reason of the Fatal result and the `Valid=False` condition.
    pub reason: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
    /// Which composition (or `unknown`) the call was for.
    pub handler: &'static str,
}

impl Function for Sco {
    fn run(&self, req: &RunFunctionRequest, ttl: Duration) -> Handled {
        let mut rsp = response::to(req, ttl);
        let handler = match compose(req, &mut rsp) {
            Ok(handler) => handler,
            Err(Failure {
                reason,
                message,
                handler,
            }) => {
                response::fatal(&mut rsp, message.clone()).with_reason(reason);
                response::condition_false(&mut rsp, CONDITION_VALID, reason)
                    .with_message(message)
                    .target_composite_and_claim();
                handler
            }
        };
        Handled {
            response: rsp,
            handler,
        }
    }
}

/// A request read and checked: the composition to run and everything its render takes,
/// borrowing the objects the request carries rather than copying them.
pub struct Prepared<'req> {
    /// The composition serving the XR.
    pub entry: &'static Entry,
    /// The observed composite resource, as the request carries it.
    pub composite: Object<'req>,
    /// Observed composed resources.
    pub resources: BTreeMap<Name, ObservedComposed<'req>>,
    /// Required resources by requirement name.
    pub required: BTreeMap<String, Vec<Value>>,
    /// The step's function credentials.
    pub credentials: Credentials,
    /// The resolved platform configuration.
    pub config: Arc<Config>,
}

impl<'req> Prepared<'req> {
    /// Reads a request: input, composite, platform configuration and observed state.
    pub fn of(req: &'req RunFunctionRequest) -> Result<Self, Failure> {
        let fail = |reason, message: String, handler| Failure {
            reason,
            message,
            handler,
        };
        let input = parse_input(req).map_err(|m| fail("InvalidInput", m, "unknown"))?;
        let Some(composite) = request::observed_composite_struct(req) else {
            return Err(fail(
                "NoCompositeResource",
                "the request has no observed composite resource".into(),
                "unknown",
            ));
        };
        let composite = Object::new(composite);
        let entry = select(input.composition.as_deref(), composite)
            .map_err(|m| fail("UnsupportedComposite", m, "unknown"))?;
        let config = Config::resolve_encoded(
            request::environment_key_encoded(req, ENVIRONMENT_KEY),
            input.platform.as_ref(),
        )
        .map_err(|e| fail("InvalidPlatformConfig", e.to_string(), entry.name))?;
        let resources = request::observed_composed(req);
        let required = request::all_required_resources(req);
        let credentials = Credentials(
            req.credentials
                .keys()
                .filter_map(|name| Some((name.clone(), request::credentials(req, name)?.clone())))
                .collect(),
        );
        Ok(Self {
            entry,
            composite,
            resources,
            required,
            credentials,
            config,
        })
    }

    /// Renders the composition (pure: no protocol types involved).
    pub fn render(&self) -> Result<Desired, Invalid> {
        let observed = Observed {
            resources: &self.resources,
            required: &self.required,
            credentials: &self.credentials,
        };
        self.entry.render(
            self.composite,
            &observed,
            &self.config.platform,
            self.config.settings(self.entry),
        )
    }
}

fn compose(
    req: &RunFunctionRequest,
    rsp: &mut RunFunctionResponse,
) -> Result<&'static str, Failure> {
    let prepared = Prepared::of(req)?;
    let name = prepared.entry.name;
    let desired = prepared.render().map_err(|e: Invalid| Failure {
        reason: e.reason(),
        message: e.to_string(),
        handler: name,
    })?;
    write(req, rsp, desired, &prepared.config.platform);
    Ok(name)
}

fn parse_input(req: &RunFunctionRequest) -> Result<InputSpec, String> {
    let Some(input) = &req.input else {
        return Ok(InputSpec::default());
    };
    let input: InputObject = pbstruct::from_struct(input).map_err(|e| {
        let path = e.path.trim_start_matches('.');
        format!("input {path}: {}", e.message)
    })?;
    if input.api_version != INPUT_API_VERSION || input.kind != "Input" {
        return Err(format!(
            "input: expected apiVersion {INPUT_API_VERSION} and kind Input, got apiVersion {:?} and kind {:?}",
            input.api_version, input.kind
        ));
    }
    Ok(input.spec)
}

fn select(wanted: Option<&str>, composite: Object<'_>) -> Result<&'static Entry, String> {
    let [api_version, kind] = composite.strs_at(&[], ["apiVersion", "kind"]);
    if let Some(wanted) = wanted {
        let entry = compositions::by_name(wanted).ok_or_else(|| {
            format!(
                "input spec.composition is {wanted:?}, which function-sco does not have; choose one of {}",
                compositions::names().join(", ")
            )
        })?;
        if entry.api_version != api_version || entry.xr_kind != kind {
            return Err(format!(
                "input spec.composition is {} but the composite resource is apiVersion {api_version:?} kind {kind:?}; {} renders {} {}",
                entry.name, entry.name, entry.api_version, entry.xr_kind
            ));
        }
        return Ok(entry);
    }
    compositions::for_xr(api_version, kind).ok_or_else(|| {
        format!("function-sco has no composition for apiVersion {api_version:?} kind {kind:?}; it serves {}", compositions::supported())
    })
}

/// Writes a rendered composition into the response.
fn write(
    req: &RunFunctionRequest,
    rsp: &mut RunFunctionResponse,
    desired: Desired,
    platform: &Platform,
) {
    let ready = desired.ready();
    for (name, requirement) in &desired.requirements {
        response::require_resources(rsp, req, name, requirement);
    }
    if !desired.status.is_empty() {
        response::set_desired_composite_status(rsp, &Value::Object(desired.status));
    }
    response::set_desired_composite_ready(rsp, if ready { Ready::True } else { Ready::False });
    response::condition_true(rsp, CONDITION_VALID, "ValidSpec").target_composite_and_claim();
    warn(req, rsp, desired.warnings);
    let unsynced: Vec<String> = desired
        .resources
        .iter()
        .filter_map(|(name, composed)| {
            let unsynced = composed.unsynced.as_ref()?;
            Some(format!(
                "{name} ({}): {}",
                unsynced.reason, unsynced.message
            ))
        })
        .collect();
    if unsynced.is_empty() {
        response::condition_true(rsp, CONDITION_RESOURCES_SYNCED, "Synced");
    } else {
        response::condition_false(rsp, CONDITION_RESOURCES_SYNCED, "ReconcileError").with_message(
            format!("not synced by their providers: {}", unsynced.join("; ")),
        );
    }
    match (&desired.waiting, ready) {
        (Some(waiting), _) => {
            response::condition_false(rsp, CONDITION_RESOURCES_READY, &waiting.reason)
                .with_message(waiting.message.clone())
                .target_composite_and_claim();
        }
        (None, true) => {
            response::condition_true(rsp, CONDITION_RESOURCES_READY, "Available")
                .target_composite_and_claim();
        }
        (None, false) => {
            let unready: Vec<&str> = desired
                .resources
                .iter()
                .filter(|(_, c)| !c.ready)
                .map(|(n, _)| n.as_str())
                .collect();
            response::condition_false(rsp, CONDITION_RESOURCES_READY, "Creating")
                .with_message(format!(
                    "waiting for {} to become ready",
                    unready.join(", ")
                ))
                .target_composite_and_claim();
        }
    }
    for (name, composed) in desired.resources {
        let readiness = if composed.ready {
            Ready::True
        } else {
            Ready::False
        };
        response::set_desired_composed_struct(
            rsp,
            &name,
            Some(composed.manifest.into_encoded()),
            readiness,
        );
    }
    if !ready {
        let current = rsp
            .meta
            .as_ref()
            .and_then(|m| m.ttl)
            .map(|t| {
                Duration::new(
                    t.seconds.max(0).unsigned_abs(),
                    t.nanos.max(0).unsigned_abs(),
                )
            })
            .filter(|t| !t.is_zero());
        let shorter = current.map_or(platform.waiting_ttl.0, |c| c.min(platform.waiting_ttl.0));
        response::set_ttl(rsp, shorter);
    }
}

/// Reports what the composition warns about: as the `Warnings` condition on every call, and
/// as a Warning result (an event) only when a warning is new, not already in the observed
/// composite's `Warnings` condition. A function must not return a Warning on every call
/// (Crossplane's function specification, `contributing/specifications/functions.md`: results
/// indicate transitions), and a lasting state such as a VM waiting for a restart would
/// otherwise raise an event on every TTL.
fn warn(req: &RunFunctionRequest, rsp: &mut RunFunctionResponse, warnings: Vec<String>) {
    if warnings.is_empty() {
        response::condition_false(rsp, CONDITION_WARNINGS, "NoWarnings");
        return;
    }
    let observed = req
        .observed
        .as_ref()
        .and_then(|o| o.composite.as_ref())
        .and_then(|c| c.resource.as_ref())
        .and_then(|xr| {
            xr.list_strs_at(&["status", "conditions"], ["type", "status", "message"])
                .find(|[type_, ..]| *type_ == CONDITION_WARNINGS)
                .filter(|[_, status, _]| *status == "True")
                .map(|[.., message]| message)
        })
        .unwrap_or_default();
    // One warning a line in the condition, so each is found again on the next call.
    let warnings: Vec<String> = warnings.iter().map(|w| w.replace('\n', " ")).collect();
    let said: BTreeSet<&str> = observed.lines().collect();
    for warning in &warnings {
        if !said.contains(warning.as_str()) {
            response::warning(rsp, warning.clone());
        }
    }
    response::condition_true(rsp, CONDITION_WARNINGS, "Warned").with_message(warnings.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::proto::v1::{Resource, Severity, State, Status, Target};
    use serde_json::json;

    fn request(xr: Value, input: Option<Value>) -> RunFunctionRequest {
        let mut desired = State::default();
        desired
            .resources
            .insert("from-earlier-step".into(), Resource::default());
        RunFunctionRequest {
            observed: Some(State {
                composite: Some(Resource {
                    resource: pbstruct::from_json_value(&xr),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            desired: Some(desired),
            input: input.as_ref().and_then(pbstruct::from_json_value),
            ..Default::default()
        }
    }

    fn fatal_message(rsp: &RunFunctionResponse) -> &str {
        let r = rsp
            .results
            .iter()
            .find(|r| r.severity() == Severity::Fatal)
            .expect("a fatal result");
        let valid = rsp
            .conditions
            .iter()
            .find(|c| c.r#type == CONDITION_VALID)
            .expect("a Valid condition");
        assert_eq!(valid.status(), Status::ConditionFalse);
        assert_eq!(valid.message.as_deref(), Some(r.message.as_str()));
        &r.message
    }

    #[test]
    fn a_waiting_composite_keeps_a_sub_second_ttl() {
        // A VM nothing of which is observed waits: its TTL is the shorter of the call's and
        // the platform's waiting TTL, fractions kept (a TTL of zero is never requeued).
        let xr = json!({"apiVersion": "compute.cloud.stakater.com/v1", "kind": "VirtualMachine",
            "metadata": {"name": "web", "namespace": "ws-shop-vms", "uid": "u1"},
            "spec": {"parameters": {"flavour": "fedora", "instanceType": "u1.small"}}});
        let rsp = Sco
            .run(&request(xr, None), Duration::from_millis(500))
            .response;
        assert!(!response::has_fatal(&rsp), "{:?}", rsp.results);
        // What a claim's user needs reaches the claim too: whether the spec is valid, and
        // what the composite waits for.
        for type_ in [CONDITION_VALID, CONDITION_RESOURCES_READY] {
            let condition = rsp.conditions.iter().find(|c| c.r#type == type_).unwrap();
            assert_eq!(condition.target(), Target::CompositeAndClaim, "{type_}");
        }
        let synced = rsp
            .conditions
            .iter()
            .find(|c| c.r#type == CONDITION_RESOURCES_SYNCED)
            .unwrap();
        assert_eq!(
            synced.target(),
            Target::Composite,
            "provider errors stay on the XR"
        );
        let ttl = rsp.meta.and_then(|m| m.ttl).expect("a TTL");
        assert_eq!((ttl.seconds, ttl.nanos), (0, 500_000_000));
    }

    #[test]
    fn a_warning_is_an_event_once_and_a_condition_while_it_lasts() {
        let mut req = RunFunctionRequest::default();
        let warnings = || vec!["VM restarts to apply it".to_owned(), "second".to_owned()];
        let warned = |rsp: &RunFunctionResponse| -> Vec<String> {
            rsp.results
                .iter()
                .filter(|r| r.severity() == Severity::Warning)
                .map(|r| r.message.clone())
                .collect()
        };
        let condition = |rsp: &RunFunctionResponse| {
            rsp.conditions
                .iter()
                .find(|c| c.r#type == CONDITION_WARNINGS)
                .cloned()
                .expect("a Warnings condition")
        };
        // New: an event for each, and the condition lists them.
        let mut rsp = RunFunctionResponse::default();
        warn(&req, &mut rsp, warnings());
        assert_eq!(warned(&rsp), warnings());
        let listed = condition(&rsp);
        assert_eq!(listed.status(), Status::ConditionTrue);
        assert_eq!(
            listed.message.as_deref(),
            Some("VM restarts to apply it\nsecond")
        );
        // Next call, the XR carrying that condition: no event for what was said, one for
        // what is new.
        let xr = json!({"status": {"conditions": [
            {"type": "Warnings", "status": "True", "reason": "Warned", "message": listed.message},
        ]}});
        req.observed = Some(State {
            composite: Some(Resource {
                resource: pbstruct::from_json_value(&xr),
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut rsp = RunFunctionResponse::default();
        warn(&req, &mut rsp, vec!["second".into(), "third".into()]);
        assert_eq!(warned(&rsp), ["third"]);
        // Nothing to warn about: the condition says so.
        let mut rsp = RunFunctionResponse::default();
        warn(&req, &mut rsp, Vec::new());
        assert!(warned(&rsp).is_empty());
        assert_eq!(condition(&rsp).status(), Status::ConditionFalse);
    }

    #[test]
    fn an_unknown_kind_is_fatal_and_lists_the_supported_ones() {
        let req = request(
            json!({"apiVersion": "example.org/v1", "kind": "XBucket"}),
            None,
        );
        let rsp = Sco.run(&req, Duration::from_secs(60)).response;
        let message = fatal_message(&rsp);
        assert!(message.contains("XBucket"), "{message}");
        assert!(
            message.contains("compute.cloud.stakater.com/v1 VirtualMachine"),
            "{message}"
        );
        assert!(
            rsp.desired
                .unwrap()
                .resources
                .contains_key("from-earlier-step")
        );
    }

    #[test]
    fn a_bad_input_is_fatal_and_names_the_field() {
        let xr = json!({"apiVersion": "example.org/v1", "kind": "XBucket"});
        let rsp = Sco.run(&request(xr.clone(), Some(json!({"apiVersion": INPUT_API_VERSION, "kind": "Input", "spec": {"compositon": "VirtualMachine"}}))), Duration::from_secs(60)).response;
        assert!(
            fatal_message(&rsp).contains("compositon"),
            "{}",
            fatal_message(&rsp)
        );
        let rsp = Sco
            .run(
                &request(xr, Some(json!({"apiVersion": "other/v1", "kind": "Input"}))),
                Duration::from_secs(60),
            )
            .response;
        assert!(fatal_message(&rsp).contains(INPUT_API_VERSION));
    }

    #[test]
    fn an_input_composition_must_match_the_xr() {
        let xr = json!({"apiVersion": "example.org/v1", "kind": "XBucket"});
        let input = json!({"apiVersion": INPUT_API_VERSION, "kind": "Input", "spec": {"composition": "VirtualMachine"}});
        let rsp = Sco
            .run(&request(xr, Some(input)), Duration::from_secs(60))
            .response;
        assert!(fatal_message(&rsp).contains("spec.composition is VirtualMachine"));
    }

    #[test]
    fn an_unknown_input_composition_is_fatal_and_lists_the_known_ones() {
        let xr = json!({"apiVersion": "compute.cloud.stakater.com/v1", "kind": "VirtualMachine"});
        let input = json!({"apiVersion": INPUT_API_VERSION, "kind": "Input", "spec": {"composition": "Bucket"}});
        let rsp = Sco
            .run(&request(xr, Some(input)), Duration::from_secs(60))
            .response;
        let message = fatal_message(&rsp);
        assert!(message.contains("\"Bucket\""), "{message}");
        assert!(
            message.contains("Organisation, Project, VirtualMachine"),
            "{message}"
        );
    }

    #[test]
    fn the_input_crd_is_generated() {
        let crd = input_definition();
        assert_eq!(crd["metadata"]["name"], "inputs.sco.fn.stakater.com");
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        assert!(
            spec["composition"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("VirtualMachine"))
        );
        assert!(spec["platform"]["properties"]["providerConfigs"].is_object());
        for entry in REGISTRY {
            assert!(
                spec["composition"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(entry.name))
            );
            assert!(
                spec["platform"]["properties"][entry.settings_key].is_object(),
                "{} settings in the schema",
                entry.name
            );
        }
    }
}
