//! Offline rendering: build the request Crossplane would send from files, run it through the
//! same [`Runner`] the server uses (answering requirements from the files, as Crossplane's
//! requirements loop does), and print the outcome as YAML the way `crossplane render` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost::Message;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::proto::v1::{
    Capability, CredentialData, Credentials, Ready, RequestMeta, Resource, ResourceSelector,
    Resources, RunFunctionRequest, RunFunctionResponse, Severity, State, Status, Target,
    credentials, resource_selector,
};
use super::request::KEY_ENVIRONMENT;
use super::response;
use super::runner::{Function, Runner};

/// The annotation Crossplane keys observed composed resources by.
pub const COMPOSITION_RESOURCE_NAME: &str = "crossplane.io/composition-resource-name";

/// How often Crossplane calls a function to settle its requirements (the first call plus five).
const MAX_CALLS: usize = 6;

/// What a render starts from.
#[derive(Clone, Default)]
pub struct RenderInput {
    /// The composite resource (XR).
    pub composite: Value,
    /// Observed composed resources, each carrying the composition-resource-name annotation.
    pub observed: Vec<Value>,
    /// The step's input, if any.
    pub input: Option<Value>,
    /// Pipeline context (the environment included).
    pub context: Map<String, Value>,
    /// Objects that requirements may select.
    pub required: Vec<Value>,
    /// Function credentials by name: data key to bytes.
    pub credentials: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
}

impl std::fmt::Debug for RenderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderInput")
            .field("composite", &self.composite)
            .field("observed", &self.observed)
            .field("input", &self.input)
            .field("context", &self.context)
            .field("required", &self.required)
            // Names only: credential data never reaches a log line.
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not readable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not YAML, or not the expected shape.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// All YAML documents of a file (empty documents skipped).
pub fn read_documents(path: &Path) -> Result<Vec<Value>, FileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: name.clone(),
        source,
    })?;
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let value: Value =
            serde::Deserialize::deserialize(document).map_err(|e| FileError::Invalid {
                path: name.clone(),
                message: e.to_string(),
            })?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// The single YAML document of a file.
pub fn read_document(path: &Path) -> Result<Value, FileError> {
    let mut documents = read_documents(path)?;
    match documents.len() {
        1 => Ok(documents.remove(0)),
        n => Err(FileError::Invalid {
            path: path.display().to_string(),
            message: format!("expected one YAML document, found {n}"),
        }),
    }
}

/// Every directory below `base` (recursively) that holds an `xr.yaml`, sorted: the render cases
/// of tests, examples and benchmarks.
pub fn case_dirs(base: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "xr.yaml") {
                out.push(dir.clone());
            }
        }
    }
    out.sort();
    out
}

/// The environment function-environment-configs would build from EnvironmentConfigs: their
/// `data` merged in file order, as `{apiVersion: internal.crossplane.io/v1alpha1, kind:
/// Environment, ...}`. A document that is not an EnvironmentConfig is used as data itself.
pub fn environment_from(documents: &[Value]) -> Value {
    let mut environment =
        json!({"apiVersion": "internal.crossplane.io/v1alpha1", "kind": "Environment"});
    for document in documents {
        let data = if document.get("kind").and_then(Value::as_str) == Some("EnvironmentConfig") {
            document.get("data").cloned().unwrap_or(Value::Null)
        } else {
            document.clone()
        };
        if data.is_object() {
            response::merge(&mut environment, &data);
        }
    }
    environment
}

/// The files a render reads: the XR and, optionally, the others (`function-sco render`'s
/// arguments).
#[derive(Debug, Clone, Default)]
pub struct RenderFiles {
    /// The composite resource (XR).
    pub xr: PathBuf,
    /// Observed composed resources (a YAML stream).
    pub observed: Option<PathBuf>,
    /// EnvironmentConfig manifests (or plain data) making up the Crossplane environment.
    pub environment: Option<PathBuf>,
    /// The pipeline step's input.
    pub input: Option<PathBuf>,
    /// Pipeline context: a YAML map of context keys to values.
    pub context: Option<PathBuf>,
    /// Objects requirements may select.
    pub required: Option<PathBuf>,
    /// Function credentials: a YAML stream of Secrets, as `crossplane render
    /// --function-credentials` takes; each Secret's `metadata.name` names the credential.
    pub credentials: Option<PathBuf>,
}

impl RenderFiles {
    /// The files of a case directory: `xr.yaml`, and whichever of `observed.yaml`,
    /// `environment.yaml`, `input.yaml`, `context.yaml` and `required.yaml` exist.
    pub fn in_dir(dir: &Path) -> Self {
        let file = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        Self {
            xr: dir.join("xr.yaml"),
            observed: file("observed.yaml"),
            environment: file("environment.yaml"),
            input: file("input.yaml"),
            context: file("context.yaml"),
            required: file("required.yaml"),
            credentials: file("credentials.yaml"),
        }
    }

    /// Reads the files into a render input.
    pub fn load(&self) -> Result<RenderInput, FileError> {
        let mut input = RenderInput {
            composite: read_document(&self.xr)?,
            ..Default::default()
        };
        if let Some(path) = &self.observed {
            input.observed = read_documents(path)?;
        }
        if let Some(path) = &self.input {
            input.input = Some(read_document(path)?);
        }
        if let Some(path) = &self.required {
            input.required = read_documents(path)?;
        }
        if let Some(path) = &self.credentials {
            input.credentials = credentials_from(path, &read_documents(path)?)?;
        }
        if let Some(path) = &self.context {
            match read_document(path)? {
                Value::Object(map) => input.context = map,
                _ => {
                    return Err(FileError::Invalid {
                        path: path.display().to_string(),
                        message: "expected a map of context keys to values".into(),
                    });
                }
            }
        }
        if let Some(path) = &self.environment {
            input = input.with_environment(environment_from(&read_documents(path)?));
        }
        Ok(input)
    }
}

/// Function credentials from Secret manifests' `data` (base64), by `metadata.name`.
pub fn credentials_from(
    path: &Path,
    documents: &[Value],
) -> Result<BTreeMap<String, BTreeMap<String, Vec<u8>>>, FileError> {
    use base64::Engine as _;
    let invalid = |message: String| FileError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let mut out = BTreeMap::new();
    for doc in documents {
        if doc.get("kind").and_then(Value::as_str) != Some("Secret") {
            return Err(invalid("expected Secret manifests (kind: Secret)".into()));
        }
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a Secret has no metadata.name".into()))?;
        let mut data = BTreeMap::new();
        for (key, value) in doc
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let bytes = value
                .as_str()
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                .ok_or_else(|| invalid(format!("Secret {name} data.{key} is not base64")))?;
            data.insert(key.clone(), bytes);
        }
        // Crossplane's render reads `data` only: an API server turns `stringData` into `data`
        // on write, and there is none here. Refused, so a file works with both renders.
        if doc.get("stringData").is_some() {
            return Err(invalid(format!(
                "Secret {name} has stringData, which crossplane render ignores (only an API server turns it into data); give its keys under data, base64-encoded"
            )));
        }
        out.insert(name.to_owned(), data);
    }
    Ok(out)
}

impl RenderInput {
    /// Puts an environment into the context under Crossplane's environment key.
    pub fn with_environment(mut self, environment: Value) -> Self {
        self.context.insert(KEY_ENVIRONMENT.to_owned(), environment);
        self
    }

    /// The first request Crossplane would send.
    pub fn request(&self) -> RunFunctionRequest {
        let mut observed = State {
            composite: Some(Resource {
                resource: pbstruct::from_json_value(&self.composite),
                ..Default::default()
            }),
            ..Default::default()
        };
        for object in &self.observed {
            let name = object
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(COMPOSITION_RESOURCE_NAME))
                .and_then(Value::as_str)
                .or_else(|| object.pointer("/metadata/name").and_then(Value::as_str))
                .unwrap_or_default();
            observed.resources.insert(
                name.to_owned(),
                Resource {
                    resource: pbstruct::from_json_value(object),
                    ..Default::default()
                },
            );
        }
        let mut req = RunFunctionRequest {
            observed: Some(observed),
            desired: Some(State::default()),
            input: self.input.as_ref().and_then(pbstruct::from_json_value),
            context: Some(pbstruct::from_json_object(&self.context)),
            credentials: self
                .credentials
                .iter()
                .map(|(name, data)| {
                    let source =
                        credentials::Source::CredentialData(CredentialData { data: data.clone() });
                    (
                        name.clone(),
                        Credentials {
                            source: Some(source),
                        },
                    )
                })
                .collect(),
            ..Default::default()
        };
        let capabilities = [
            Capability::Capabilities,
            Capability::RequiredResources,
            Capability::Credentials,
            Capability::Conditions,
            Capability::RequiredSchemas,
        ];
        req.meta = Some(RequestMeta {
            tag: tag(&req),
            capabilities: capabilities.iter().map(|c| *c as i32).collect(),
        });
        req
    }
}

/// Crossplane's tag: the SHA-256 of the request's encoding before meta is set.
fn tag(req: &RunFunctionRequest) -> String {
    let digest = Sha256::digest(req.encode_to_vec());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the function as Crossplane's requirements loop would: call, fetch what the response
/// requires from `input.required`, call again with the function's own context, until the
/// requirements stop changing or a Fatal result ends it.
pub fn run<F: Function>(runner: &Runner<F>, input: &RenderInput) -> RunFunctionResponse {
    settle(runner, input).1
}

/// [`run`], also returning the last request: the one Crossplane sends on every reconcile once
/// the requirements are settled (benchmarks replay it).
pub fn settle<F: Function>(
    runner: &Runner<F>,
    input: &RenderInput,
) -> (RunFunctionRequest, RunFunctionResponse) {
    let first = input.request();
    let mut req = first.clone();
    let mut previous = None;
    let mut rsp = runner.call(&req);
    for call in 1.. {
        if response::has_fatal(&rsp) || rsp.requirements == previous {
            break;
        }
        let Some(requirements) = rsp.requirements.clone() else {
            break;
        };
        if call == MAX_CALLS {
            // As Crossplane's requirements loop fails the reconcile.
            response::fatal(
                &mut rsp,
                format!(
                    "requirements didn't stabilize after the maximum number of iterations ({})",
                    MAX_CALLS - 1
                ),
            );
            break;
        }
        // Each call gets what the last response asked for, nothing of earlier rounds
        // (Crossplane's `satisfy` starts from the step's own requirements every round).
        req.required_resources = first.required_resources.clone();
        #[allow(deprecated)]
        {
            req.extra_resources = first.extra_resources.clone();
        }
        for (name, selector) in &requirements.resources {
            req.required_resources
                .insert(name.clone(), select(&input.required, selector));
        }
        #[allow(deprecated)]
        for (name, selector) in &requirements.extra_resources {
            req.extra_resources
                .insert(name.clone(), select(&input.required, selector));
        }
        req.context = rsp.context.clone();
        previous = Some(requirements);
        rsp = runner.call(&req);
    }
    (req, rsp)
}

/// The objects a selector matches, sorted by namespace and name.
fn select(objects: &[Value], selector: &ResourceSelector) -> Resources {
    let text = |o: &Value, p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut found: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            text(o, "/apiVersion") == selector.api_version && text(o, "/kind") == selector.kind
        })
        .filter(|o| {
            selector
                .namespace
                .as_ref()
                .is_none_or(|ns| text(o, "/metadata/namespace") == *ns)
        })
        .filter(|o| match &selector.r#match {
            Some(resource_selector::Match::MatchName(n)) => text(o, "/metadata/name") == *n,
            Some(resource_selector::Match::MatchLabels(l)) => l.labels.iter().all(|(k, v)| {
                o.pointer("/metadata/labels")
                    .and_then(|ls| ls.get(k))
                    .and_then(Value::as_str)
                    == Some(v)
            }),
            None => true,
        })
        .collect();
    found.sort_by_key(|o| (text(o, "/metadata/namespace"), text(o, "/metadata/name")));
    Resources {
        items: found
            .into_iter()
            .map(|o| Resource {
                resource: pbstruct::from_json_value(o),
                ..Default::default()
            })
            .collect(),
    }
}

/// Where an XR keeps Crossplane's machinery: a Crossplane v2 XR under `spec.crossplane`, a
/// legacy one (an `apiextensions.crossplane.io/v1` XRD of scope `LegacyCluster`, the only kind
/// that has claims) directly under `spec`. The XRD says which; the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XrShape {
    /// `spec.crossplane.resourceRefs`.
    #[default]
    Modern,
    /// `spec.resourceRefs`.
    Legacy,
}

impl XrShape {
    /// The shape of XRs an XRD serves: legacy when its scope is `LegacyCluster`.
    pub fn of_definition(definition: &Value) -> Self {
        if definition.pointer("/spec/scope") == Some(&json!("LegacyCluster")) {
            Self::Legacy
        } else {
            Self::Modern
        }
    }
}

/// The instant Crossplane's render (v2.3+) gives every condition's `lastTransitionTime`.
pub const RENDER_TIME: &str = "2024-01-01T00:00:00Z";

/// The labels of a claimed XR that Crossplane copies to every composed resource.
pub const CLAIM_LABELS: [&str; 2] = ["crossplane.io/claim-name", "crossplane.io/claim-namespace"];

/// The label Crossplane puts on every composed resource: the name of its XR.
pub const COMPOSITE_LABEL: &str = "crossplane.io/composite";

/// The outcome as YAML documents, in `crossplane composition render`'s order: the composite
/// resource with `spec.crossplane.resourceRefs` (what it composes) and its desired status and
/// conditions, the desired composed resources sorted by composition resource name (annotated
/// with it and labelled with the XR's name, as Crossplane does), then one `Result` per result.
/// Not reproduced: the controller owner reference Crossplane adds to composed resources, and
/// its own events (`Successfully selected composition: ...`), as render takes no Composition.
pub fn documents(composite: &Value, rsp: &RunFunctionResponse, shape: XrShape) -> Vec<Value> {
    let desired = rsp.desired.clone().unwrap_or_default();
    let composed: BTreeMap<String, Resource> = desired.resources.into_iter().collect();
    let mut out = Vec::with_capacity(composed.len() + rsp.results.len() + 1);

    let mut status = desired
        .composite
        .as_ref()
        .and_then(|c| c.resource.as_ref())
        .map(pbstruct::to_json_value)
        .and_then(|v| v.get("status").cloned())
        .unwrap_or_else(|| json!({}));
    let conditions = composite_conditions(
        rsp,
        desired
            .composite
            .as_ref()
            .map_or(Ready::Unspecified, Resource::ready),
        &composed,
    );
    if let Some(obj) = status.as_object_mut() {
        obj.insert("conditions".to_owned(), Value::Array(conditions));
        // A legacy XR records which of its conditions Crossplane copies to the claim.
        let for_claim: Vec<Value> = rsp
            .conditions
            .iter()
            .filter(|c| c.target() == Target::CompositeAndClaim)
            .map(|c| json!(c.r#type))
            .collect();
        if shape == XrShape::Legacy && !for_claim.is_empty() {
            obj.insert("claimConditionTypes".to_owned(), Value::Array(for_claim));
        }
    }
    let mut metadata = Map::new();
    for key in ["name", "namespace"] {
        if let Some(v) = composite.pointer(&format!("/metadata/{key}")) {
            metadata.insert(key.to_owned(), v.clone());
        }
    }
    let xr_name = composite
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    let xr_namespaced = composite.pointer("/metadata/namespace").is_some();
    let objects: Vec<(&String, Value)> = composed
        .iter()
        .map(|(name, resource)| {
            let mut object = resource
                .resource
                .as_ref()
                .map_or_else(|| json!({}), pbstruct::to_json_value);
            let mut labels = json!({COMPOSITE_LABEL: xr_name});
            // A claimed XR's claim labels go on everything it composes, as Crossplane does.
            for key in CLAIM_LABELS {
                if let Some(value) =
                    composite.pointer(&format!("/metadata/labels/{}", key.replace('/', "~1")))
                {
                    labels[key] = value.clone();
                }
            }
            response::merge(
                &mut object,
                &json!({"metadata": {
                    "annotations": {COMPOSITION_RESOURCE_NAME: name},
                    "labels": labels,
                }}),
            );
            (name, object)
        })
        .collect();
    let mut xr = json!({
        "apiVersion": composite.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": composite.get("kind").cloned().unwrap_or(Value::Null),
        "metadata": metadata,
    });
    let fatal = rsp.results.iter().any(|r| r.severity() == Severity::Fatal);
    if !fatal && !objects.is_empty() {
        let refs = resource_refs(&objects, xr_namespaced);
        xr["spec"] = match shape {
            XrShape::Modern => json!({"crossplane": {"resourceRefs": refs}}),
            XrShape::Legacy => json!({"resourceRefs": refs}),
        };
    }
    xr["status"] = status;
    out.push(xr);
    out.extend(objects.into_iter().map(|(_, object)| object));

    for result in &rsp.results {
        let mut doc = json!({
            "apiVersion": "render.crossplane.io/v1beta1",
            "kind": "Result",
            "severity": result.severity().as_str_name(),
            "message": result.message,
        });
        if let Some(reason) = &result.reason {
            doc["reason"] = json!(reason);
        }
        if result.target.is_some() {
            doc["target"] = json!(result.target().as_str_name());
        }
        out.push(doc);
    }
    out
}

/// What the XR's `spec.crossplane.resourceRefs` lists, as Crossplane sorts it: each composed
/// resource's apiVersion, kind and name, and its namespace when the XR is cluster-scoped.
fn resource_refs(objects: &[(&String, Value)], xr_namespaced: bool) -> Vec<Value> {
    let mut refs: Vec<Value> = objects
        .iter()
        .map(|(_, object)| {
            let mut reference = json!({
                "apiVersion": object.get("apiVersion").cloned().unwrap_or(Value::Null),
                "kind": object.get("kind").cloned().unwrap_or(Value::Null),
                "name": object.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
            });
            if let Some(namespace) = object
                .pointer("/metadata/namespace")
                .filter(|_| !xr_namespaced)
            {
                reference["namespace"] = namespace.clone();
            }
            reference
        })
        .collect();
    let key = |r: &Value| {
        ["apiVersion", "kind", "namespace", "name"]
            .map(|k| r[k].as_str().unwrap_or_default().to_owned())
    };
    refs.sort_by_key(key);
    refs
}

/// The conditions Crossplane (v2.4) puts on the composite resource, each at [`RENDER_TIME`]:
/// `Responsive` (its watch circuit breaker, closed), the function's own, `Synced`, then `Ready`
/// derived from composed readiness (or the function's override).
fn composite_conditions(
    rsp: &RunFunctionResponse,
    composite_ready: Ready,
    composed: &BTreeMap<String, Resource>,
) -> Vec<Value> {
    let mut conditions =
        vec![json!({"type": "Responsive", "status": "True", "reason": "WatchCircuitClosed"})];
    conditions.extend(rsp.conditions.iter().map(function_condition));
    let fatal = rsp.results.iter().find(|r| r.severity() == Severity::Fatal);
    conditions.push(match fatal {
        Some(r) => json!({"type": "Synced", "status": "False", "reason": "ReconcileError",
            "message": format!("pipeline step returned a fatal result: {}", r.message)}),
        None => json!({"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}),
    });
    for condition in &mut conditions {
        condition["lastTransitionTime"] = json!(RENDER_TIME);
    }
    if fatal.is_some() {
        // Crossplane applies nothing after a Fatal result, so readiness is not re-derived.
        return conditions;
    }
    let unready: Vec<&str> = composed
        .iter()
        .filter(|(_, r)| r.ready() != Ready::True)
        .map(|(n, _)| n.as_str())
        .collect();
    let ready = match composite_ready {
        Ready::True => true,
        Ready::False => false,
        Ready::Unspecified => unready.is_empty(),
    };
    let mut ready = if ready {
        json!({"type": "Ready", "status": "True", "reason": "Available"})
    } else if unready.is_empty() {
        json!({"type": "Ready", "status": "False", "reason": "Creating"})
    } else {
        json!({"type": "Ready", "status": "False", "reason": "Creating",
            "message": format!("Unready resources: {}", unready.join(", "))})
    };
    ready["lastTransitionTime"] = json!(RENDER_TIME);
    conditions.push(ready);
    conditions
}

/// A condition the function returned, as it appears on the composite resource.
fn function_condition(c: &super::proto::v1::Condition) -> Value {
    let status = match c.status() {
        Status::ConditionTrue => "True",
        Status::ConditionFalse => "False",
        Status::ConditionUnknown | Status::ConditionUnspecified => "Unknown",
    };
    let mut condition = json!({"type": c.r#type, "status": status, "reason": c.reason});
    if let Some(m) = &c.message {
        condition["message"] = json!(m);
    }
    // No target: the composite's conditions do not record one (Crossplane copies a
    // CompositeAndClaim condition to the claim, as `crossplane render` does not show).
    condition
}

/// Documents as one YAML stream.
pub fn to_yaml(documents: &[Value]) -> String {
    let mut out = String::new();
    for document in documents {
        out.push_str("---\n");
        out.push_str(
            &serde_norway::to_string(document)
                .unwrap_or_else(|e| format!("# cannot print document: {e}\n")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::request;
    use crate::sdk::response::{Match, Requirement};
    use crate::sdk::{Handled, resource::Name};
    use std::time::Duration;

    /// Requires a ConfigMap, then composes a copy of its data once it arrives.
    struct NeedsConfig;
    impl Function for NeedsConfig {
        fn run(&self, req: &RunFunctionRequest, ttl: Duration) -> Handled {
            let mut rsp = response::to(req, ttl);
            let requirement = Requirement {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                matching: Match::Name("settings".into()),
                namespace: Some("team".into()),
            };
            response::require_resources(&mut rsp, req, "cfg", &requirement);
            if let Some(found) = request::required_resources(req, "cfg") {
                let data = found
                    .first()
                    .and_then(|c| c.get("data").cloned())
                    .unwrap_or(Value::Null);
                response::set_desired_composed(
                    &mut rsp,
                    &Name::from("copy"),
                    &json!({"kind": "ConfigMap", "data": data}),
                    Ready::True,
                );
            }
            Handled {
                response: rsp,
                handler: "test",
            }
        }
    }

    #[test]
    fn requirements_are_answered_from_the_files() {
        let input = RenderInput {
            composite: json!({"apiVersion": "x/v1", "kind": "XR", "metadata": {"name": "a"}}),
            required: vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "other"}, "data": {"v": "no"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "team"}, "data": {"v": "yes"}}),
            ],
            ..Default::default()
        };
        let (req, rsp) = settle(&Runner::new(NeedsConfig, Duration::from_secs(60)), &input);
        assert_eq!(
            req.required_resources["cfg"].items.len(),
            1,
            "the last request carries what was required"
        );
        let docs = documents(&input.composite, &rsp, XrShape::Modern);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["data"]["v"], "yes");
        assert_eq!(
            docs[1]["metadata"]["annotations"][COMPOSITION_RESOURCE_NAME],
            "copy"
        );
        let conditions = docs[0]["status"]["conditions"].as_array().unwrap();
        assert_eq!(conditions.last().unwrap()["reason"], "Available");
        assert_eq!(conditions[0]["type"], "Responsive");
        assert_eq!(docs[1]["metadata"]["labels"][COMPOSITE_LABEL], "a");
        assert_eq!(
            docs[0]["spec"]["crossplane"]["resourceRefs"],
            json!([{"apiVersion": null, "kind": "ConfigMap", "name": null}])
        );
    }

    /// Requires something new on every call (`step-<n>`, n the requests seen so far), and
    /// records which requirements each request answered.
    struct NeverSettles;
    impl Function for NeverSettles {
        fn run(&self, req: &RunFunctionRequest, ttl: Duration) -> Handled {
            let mut rsp = response::to(req, ttl);
            let answered: Vec<&String> = req.required_resources.keys().collect();
            assert!(
                answered.len() <= 1,
                "earlier rounds carried over: {answered:?}"
            );
            let step = answered.first().map_or(0, |n| {
                n.trim_start_matches("step-").parse::<u32>().unwrap() + 1
            });
            let requirement = Requirement {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                matching: Match::Name(format!("c{step}")),
                namespace: None,
            };
            response::require_resources(&mut rsp, req, &format!("step-{step}"), &requirement);
            Handled {
                response: rsp,
                handler: "test",
            }
        }
    }

    #[test]
    fn requirements_that_never_settle_fail_as_in_crossplane() {
        let input = RenderInput {
            composite: json!({"apiVersion": "x/v1", "kind": "XR", "metadata": {"name": "a"}}),
            ..Default::default()
        };
        let rsp = run(&Runner::new(NeverSettles, Duration::from_secs(60)), &input);
        assert!(response::has_fatal(&rsp));
        assert!(
            rsp.results.iter().any(|r| r
                .message
                .contains("didn't stabilize after the maximum number of iterations (5)")),
            "{:?}",
            rsp.results
        );
    }

    #[test]
    fn a_case_directory_is_read_by_file_name() {
        let dir =
            std::env::temp_dir().join(format!("function-sco-render-case-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("xr.yaml"), "apiVersion: x/v1\nkind: XR\n").unwrap();
        std::fs::write(dir.join("input.yaml"), "kind: Input\n").unwrap();
        std::fs::write(dir.join("nested/xr.yaml"), "kind: XR\n").unwrap();
        let files = RenderFiles::in_dir(&dir);
        assert!(files.observed.is_none() && files.input.is_some());
        let input = files.load().unwrap();
        assert_eq!(input.composite["kind"], "XR");
        assert_eq!(input.input.unwrap()["kind"], "Input");
        assert_eq!(case_dirs(&dir), vec![dir.clone(), dir.join("nested")]);
        std::fs::write(dir.join("context.yaml"), "- not a map\n").unwrap();
        let err = RenderFiles::in_dir(&dir).load().unwrap_err();
        assert!(err.to_string().contains("context.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_tag_is_the_sha256_of_the_request_without_meta() {
        let input = RenderInput {
            composite: json!({"kind": "XR"}),
            ..Default::default()
        };
        let mut req = input.request();
        let tag = req.meta.take().unwrap().tag;
        let digest = Sha256::digest(req.encode_to_vec());
        let expected: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, expected);
        assert_eq!(input.request().meta.unwrap().tag, tag, "deterministic");
        let other = RenderInput {
            composite: json!({"kind": "XR", "metadata": {"name": "b"}}),
            ..Default::default()
        };
        assert_ne!(other.request().meta.unwrap().tag, tag);
    }

    #[test]
    fn environment_configs_merge_in_order() {
        let env = environment_from(&[
            json!({"apiVersion": "apiextensions.crossplane.io/v1beta1", "kind": "EnvironmentConfig", "data": {"sco": {"a": 1, "b": 1}}}),
            json!({"sco": {"b": 2}}),
        ]);
        assert_eq!(env["sco"], json!({"a": 1, "b": 2}));
        assert_eq!(env["kind"], "Environment");
    }

    #[test]
    fn fatal_results_stop_readiness_and_unready_resources_are_listed() {
        let mut rsp = RunFunctionResponse::default();
        response::set_desired_composed(&mut rsp, &Name::from("b"), &json!({}), Ready::False);
        response::set_desired_composed(&mut rsp, &Name::from("a"), &json!({}), Ready::True);
        response::fatal(&mut rsp, "spec.x: bad");
        let docs = documents(&json!({"kind": "XR"}), &rsp, XrShape::Modern);
        assert_eq!(docs.last().unwrap()["severity"], "SEVERITY_FATAL");
        let conditions = &docs[0]["status"]["conditions"];
        assert_eq!(conditions[1]["type"], "Synced");
        assert_eq!(conditions[1]["status"], "False");
        assert_eq!(
            conditions.as_array().unwrap().len(),
            2,
            "no Ready is derived after a Fatal result"
        );
        let mut rsp = RunFunctionResponse::default();
        response::set_desired_composed(&mut rsp, &Name::from("b"), &json!({}), Ready::False);
        let docs = documents(&json!({"kind": "XR"}), &rsp, XrShape::Modern);
        assert_eq!(
            docs[0]["status"]["conditions"][2]["message"],
            "Unready resources: b"
        );
        assert!(to_yaml(&docs).starts_with("---\n"));
    }
}
