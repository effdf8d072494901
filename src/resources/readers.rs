//! Tests only: every reader of observed state reads what the upstream schema of its kind
//! declares, by the name and of the JSON type the controller writes.
//!
//! A reader ignores the fields it does not name, and a composed resource's observed object
//! is never validated, so a reader that misspells a field (`currentCpuTopology` for KubeVirt's
//! `currentCPUTopology`) or reads it as another type reads nothing and no test of a rendered
//! manifest notices. So each module lists its readers (`readers()` beside the code that reads)
//! with the kind each reads, and [`findings`] walks the reader's JSON Schema (schemars, from the
//! same serde attributes that decode) against the vendored upstream schema: every field the
//! reader names must be declared there (or sit below a free-form object), and the reader must
//! accept every JSON type upstream allows for it, `null` and every enum value included, so
//! that what the API server accepted reads (an integer beyond the reader's range aside). The
//! composition tests also check that the lists cover every reader type and every JSON pointer
//! read in the source.
//!
//! Upstream schemas come from `schemas/` through the strict validator's index
//! (`tests/support/schema.rs`), and KubeVirt's own API (the VirtualMachineInstance, which has no
//! CRD file) from KubeVirt's `api/openapi-spec/swagger.json`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde_json::{Value, json};

#[allow(dead_code, unreachable_pub)]
#[path = "../../tests/support/schema.rs"]
mod upstream;

/// One reader of observed state and the upstream schema of what it reads.
#[derive(Debug)]
pub(crate) struct Reader {
    /// What reads (a Rust type or a JSON pointer), for messages.
    pub name: String,
    /// The reader's JSON Schema (`$defs` at its root).
    pub schema: Value,
    /// Where its fields must be declared.
    pub upstream: Upstream,
}

/// The upstream schema a reader is held to.
#[derive(Debug, Clone)]
pub(crate) enum Upstream {
    /// The schema of `apiVersion` `kind` in `schemas/`.
    Kind(String, &'static str),
    /// A definition of KubeVirt's OpenAPI (`schemas/kubevirt/swagger.json`).
    KubeVirt(&'static str),
    /// One of our own XRDs (`xrds/<dir>/definition.yaml`), for a composite fetched as a
    /// required resource.
    Xrd(&'static str),
    /// No schema can be vendored; the reason says what the reads were checked against instead
    /// (for the reader of the list, not the code).
    Unverifiable(#[allow(dead_code)] &'static str),
}

/// Reader type `T` of `api_version` `kind`.
pub(crate) fn reader<T: JsonSchema>(api_version: impl Into<String>, kind: &'static str) -> Reader {
    typed::<T>(Upstream::Kind(api_version.into(), kind))
}

/// Reader type `T` held to `upstream`.
pub(crate) fn typed<T: JsonSchema>(upstream: Upstream) -> Reader {
    Reader {
        name: T::schema_name().into_owned(),
        schema: schemars::schema_for!(T).to_value(),
        upstream,
    }
}

/// A read by JSON pointer (`/status/source`; a numeric segment indexes a list).
pub(crate) fn pointer(upstream: Upstream, pointer: &'static str) -> Reader {
    Reader {
        name: pointer.to_string(),
        schema: nest(json!({}), pointer),
        upstream,
    }
}

/// Reader type `T` of what is at `pointer` (`/metadata/ownerReferences`).
pub(crate) fn typed_at<T: JsonSchema>(upstream: Upstream, pointer: &'static str) -> Reader {
    let mut leaf = schemars::schema_for!(T).to_value();
    let defs = leaf.as_object_mut().and_then(|l| l.remove("$defs"));
    let mut schema = nest(leaf, pointer);
    if let (Some(defs), Some(root)) = (defs, schema.as_object_mut()) {
        root.insert("$defs".into(), defs);
    }
    Reader {
        name: pointer.to_string(),
        schema,
        upstream,
    }
}

/// `leaf` placed at `pointer` in objects (and lists, for numeric segments).
fn nest(leaf: Value, pointer: &str) -> Value {
    pointer
        .rsplit('/')
        .filter(|s| !s.is_empty())
        .fold(leaf, |schema, segment| {
            if segment.parse::<usize>().is_ok() {
                json!({"type": "array", "items": schema})
            } else {
                json!({"type": "object", "properties": {segment: schema}})
            }
        })
}

/// What `reader` reads that its upstream schema does not declare, or declares with a JSON
/// type the reader cannot decode; empty when it reads only what is there.
pub(crate) fn findings(reader: &Reader) -> Vec<String> {
    let xrd: Value;
    let (root, node, closed_by_properties) = match &reader.upstream {
        Upstream::Kind(api_version, kind) => match upstream::json_schema(api_version, kind) {
            Ok(schema) => (schema, schema, false),
            Err(e) => return vec![format!("{}: {e}", reader.name)],
        },
        Upstream::KubeVirt(definition) => {
            let node = KUBEVIRT.get("definitions").and_then(|d| d.get(*definition));
            match node {
                Some(node) => (&*KUBEVIRT, node, true),
                None => {
                    return vec![format!(
                        "{}: no {definition} in KubeVirt's OpenAPI",
                        reader.name
                    )];
                }
            }
        }
        Upstream::Xrd(dir) => match xrd_schema(dir) {
            Ok(schema) => {
                xrd = schema;
                (&xrd, &xrd, false)
            }
            Err(e) => return vec![format!("{}: {e}", reader.name)],
        },
        Upstream::Unverifiable(_) => return Vec::new(),
    };
    let mut walk = Walk {
        reader: &reader.schema,
        upstream: root,
        closed_by_properties,
        found: Vec::new(),
        declared: 0,
        subject: format!("{} ({:?})", reader.name, reader.upstream),
    };
    walk.node(&reader.schema, node, "");
    if walk.declared == 0 {
        walk.found
            .push(format!("{}: reads no field at all", walk.subject));
    }
    walk.found
}

/// KubeVirt's OpenAPI v2 document.
static KUBEVIRT: LazyLock<Value> = LazyLock::new(|| {
    let path = upstream::schemas_dir().join("kubevirt/swagger.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
});

/// The strict JSON Schema of the served version of `xrds/<dir>/definition.yaml`.
fn xrd_schema(dir: &str) -> Result<Value, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("xrds/{dir}/definition.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let xrd: Value =
        serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let versions = xrd.pointer("/spec/versions").and_then(Value::as_array);
    let served = versions
        .into_iter()
        .flatten()
        .find(|v| v["referenceable"] == json!(true))
        .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
        .ok_or_else(|| format!("{}: no referenceable version with a schema", path.display()))?;
    Ok(upstream::convert_resource(served))
}

struct Walk<'a> {
    /// The reader's root, for its `$ref`s.
    reader: &'a Value,
    /// The upstream document's root, for its `$ref`s.
    upstream: &'a Value,
    /// Whether an upstream object with `properties` declares all its fields (OpenAPI v2);
    /// the strict schemas of the index say so with `additionalProperties: false`.
    closed_by_properties: bool,
    found: Vec<String>,
    /// How many of the reader's fields were found declared.
    declared: usize,
    subject: String,
}

/// A field looked up in an upstream object schema.
enum Field<'a> {
    Declared(&'a Value),
    /// The object takes any field (free-form, or below `x-kubernetes-preserve-unknown-fields`).
    Open,
    Undeclared,
}

impl<'a> Walk<'a> {
    /// A value the reader reads where upstream declares `up`: `null` too, if upstream allows
    /// it (serde reads `null` into an `Option` only, `#[serde(default)]` covers absence).
    fn node(&mut self, read: &'a Value, up: &'a Value, path: &str) {
        if nullable(self.upstream, up) && !nullable(self.reader, read) {
            self.found.push(format!(
                "{}: upstream allows null, the reader does not ({})",
                at(path),
                self.subject
            ));
        }
        self.shape(read, up, path);
    }

    fn shape(&mut self, read: &'a Value, up: &'a Value, path: &str) {
        let read = resolve(self.reader, read);
        let up = resolve(self.upstream, up);
        for keyword in ["anyOf", "oneOf"] {
            for branch in branches(read, keyword) {
                if resolve(self.reader, branch).get("type") != Some(&json!("null")) {
                    self.shape(branch, up, path);
                }
            }
        }
        if let (Some(reads), Some(allowed)) = (types(self.reader, read), types(self.upstream, up)) {
            for t in allowed.difference(&reads) {
                if !(*t == "integer" && reads.contains("number")) {
                    self.found.push(format!(
                        "{}: upstream allows {t}, the reader reads {} ({})",
                        at(path),
                        reads.iter().copied().collect::<Vec<_>>().join(" or "),
                        self.subject
                    ));
                }
            }
        }
        match (enum_values(read), enum_values(up)) {
            (Some(reads), Some(allowed)) => {
                for value in allowed.iter().filter(|v| !reads.contains(v)) {
                    self.found.push(format!(
                        "{}: upstream allows {value}, the reader does not ({})",
                        at(path),
                        self.subject
                    ));
                }
            }
            (Some(_), None) if types(self.upstream, up).is_some_and(|t| t.contains("string")) => {
                self.found.push(format!(
                    "{}: upstream allows any string, the reader a closed set ({})",
                    at(path),
                    self.subject
                ));
            }
            _ => {}
        }
        for (name, child) in read
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let child_path = format!("{path}/{name}");
            match self.field(up, name) {
                Field::Declared(declared) => {
                    self.declared += 1;
                    self.node(child, declared, &child_path);
                }
                Field::Open => {}
                Field::Undeclared => self.found.push(format!(
                    "{child_path}: not declared upstream ({})",
                    self.subject
                )),
            }
        }
        let values =
            |schema: &'a Value| schema.get("additionalProperties").filter(|v| v.is_object());
        if let (Some(values), Some(declared)) = (values(read), values(up)) {
            self.node(values, declared, &format!("{path}/*"));
        }
        if let (Some(items), Some(declared)) = (read.get("items"), up.get("items")) {
            self.node(items, declared, &format!("{path}/0"));
        }
    }

    /// Field `name` of upstream object schema `up`, also through `allOf`/`anyOf`/`oneOf`.
    fn field(&self, up: &'a Value, name: &str) -> Field<'a> {
        let up = resolve(self.upstream, up);
        if let Some(declared) = up.get("properties").and_then(|p| p.get(name)) {
            return Field::Declared(declared);
        }
        let mut closed = up.get("additionalProperties") == Some(&json!(false))
            || (self.closed_by_properties && up.get("properties").is_some());
        let mut open = false;
        for keyword in ["allOf", "anyOf", "oneOf"] {
            for branch in branches(up, keyword) {
                match self.field(branch, name) {
                    Field::Declared(declared) => return Field::Declared(declared),
                    Field::Open => open = true,
                    Field::Undeclared => closed = true,
                }
            }
        }
        if let Some(values) = up.get("additionalProperties").filter(|v| v.is_object()) {
            return Field::Declared(values);
        }
        if closed || (!open && types(self.upstream, up).is_some_and(|t| !t.contains("object"))) {
            Field::Undeclared
        } else {
            Field::Open
        }
    }
}

/// `node`, or what its `$ref` (`#/$defs/...`, `#/definitions/...`) points to in `root`.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        match target.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(found) => node = found,
            None => break,
        }
    }
    node
}

/// The JSON types (without `null`) `node` admits, when it says; through `$ref`s, and the
/// types of `anyOf`/`oneOf` branches when each branch names its own.
fn types<'a>(root: &'a Value, node: &'a Value) -> Option<BTreeSet<&'a str>> {
    let node = resolve(root, node);
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return Some(BTreeSet::from(["integer", "string"]));
    }
    let named = type_keyword(node).or_else(|| {
        let branches = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))?
            .as_array()?;
        let mut all = BTreeSet::new();
        for branch in branches {
            all.extend(types(root, branch)?);
        }
        Some(all)
    })?;
    Some(named.into_iter().filter(|t| *t != "null").collect())
}

/// The types `node`'s own `type` keyword names (a name or a list), when it has one.
fn type_keyword(node: &Value) -> Option<BTreeSet<&str>> {
    match node.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.as_str()])),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// The subschemas of combinator `keyword` (`allOf`, `anyOf`, `oneOf`) of `node`, if any.
fn branches<'a>(node: &'a Value, keyword: &str) -> impl Iterator<Item = &'a Value> {
    node.get(keyword)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether `node` admits `null`: it says nothing of types (any value), names `null` among
/// them (or is OpenAPI `nullable`), or has a branch that does.
fn nullable(root: &Value, node: &Value) -> bool {
    let node = resolve(root, node);
    if node.get("nullable") == Some(&Value::Bool(true)) {
        return true;
    }
    let all_of = branches(node, "allOf").all(|b| nullable(root, b));
    if let Some(own) = type_keyword(node) {
        return own.contains("null") && all_of;
    }
    if node.get("anyOf").is_some() || node.get("oneOf").is_some() {
        return branches(node, "anyOf")
            .chain(branches(node, "oneOf"))
            .any(|b| nullable(root, b));
    }
    if node.get("allOf").is_some() {
        return all_of;
    }
    node.get("enum").is_none() && node.get("const").is_none()
}

/// The values of an `enum` (or of `oneOf` branches that are each a `const`), without `null`.
fn enum_values(node: &Value) -> Option<Vec<&Value>> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Some(values.iter().filter(|v| !v.is_null()).collect());
    }
    let branches = node.get("oneOf")?.as_array()?;
    branches.iter().map(|b| b.get("const")).collect()
}

fn at(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

/// The readers of observed state in [`crate::resources`].
pub(crate) fn resources() -> Vec<Reader> {
    use super::*;
    let mut readers = vec![
        reader::<cert_manager::ObservedCertificate>(cert_manager::API_VERSION, "Certificate"),
        reader::<external_dns::ObservedDnsEndpoint>(external_dns::API_VERSION, "DNSEndpoint"),
        reader::<hypershift::ObservedHostedCluster>(hypershift::API_VERSION, "HostedCluster"),
        reader::<hypershift::ObservedNodePool>(hypershift::API_VERSION, "NodePool"),
        reader::<kcp::ObservedWorkspace>(kcp::API_VERSION, "Workspace"),
        reader::<kcp::ObservedApiBinding>(kcp::APIS_API_VERSION, "APIBinding"),
        reader::<kubevirt::ObservedVirtualMachine>(kubevirt::API_VERSION, "VirtualMachine"),
        reader::<mto::ObservedTenant>(mto::TENANT_API_VERSION, "Tenant"),
        reader::<ovn::ObservedClusterUserDefinedNetwork>(
            ovn::API_VERSION,
            "ClusterUserDefinedNetwork",
        ),
        reader::<secret::ObservedSecret>("v1", "Secret"),
        reader::<service::ObservedService>("v1", "Service"),
        reader::<usage::ObservedUsage>(usage::API_VERSION, "ClusterUsage"),
        reader::<usage::ObservedUsage>(usage::API_VERSION, "Usage"),
        reader::<velero::ObservedSchedule>(velero::API_VERSION, "Schedule"),
        pointer(Upstream::Kind("v1".into(), "Namespace"), "/metadata/labels"),
    ];
    // What an Object wraps is free-form here; each wrapped kind's reader is listed with it.
    for api_version in [
        provider_kubernetes::CLUSTER_API_VERSION,
        provider_kubernetes::NAMESPACED_OBJECT_API_VERSION,
    ] {
        readers.push(reader::<provider_kubernetes::Observed<Value>>(
            api_version,
            "Object",
        ));
    }
    for api_version in [helm::CLUSTER_API_VERSION, helm::NAMESPACED_API_VERSION] {
        readers.push(reader::<helm::ObservedRelease>(api_version, "Release"));
    }
    for flavour in ["keycloak.crossplane.io", "keycloak.m.crossplane.io"] {
        let api_version = |group: &str| format!("{group}.{flavour}/v1alpha1");
        readers.push(reader::<keycloak::ObservedClient>(
            api_version("openidclient"),
            "Client",
        ));
        readers.push(reader::<keycloak::ObservedMemberships>(
            api_version("group"),
            "Memberships",
        ));
    }
    readers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Each finding, one per line, or nothing.
    fn report(readers: &[Reader]) -> String {
        readers
            .iter()
            .flat_map(findings)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_readers_of_resources_read_what_upstream_declares() {
        assert_eq!(report(&resources()), "");
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct MisspeltInstance {
        status: Option<MisspeltStatus>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct MisspeltStatus {
        current_cpu_topology: Option<Value>,
        phase: Option<u32>,
        #[serde(default)]
        conditions: Vec<super::super::condition::Condition>,
    }

    #[test]
    fn a_misspelt_field_and_a_wrong_type_are_found() {
        let found = findings(&typed::<MisspeltInstance>(Upstream::KubeVirt(
            "v1.VirtualMachineInstance",
        )));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("/status/currentCpuTopology: not declared upstream"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("/status/phase: upstream allows string, the reader reads integer"),
            "{found:#?}"
        );
    }

    #[derive(Deserialize, JsonSchema, Default)]
    #[allow(dead_code)]
    struct Defaulted {
        #[serde(default)]
        status: Empty,
    }

    #[derive(Deserialize, JsonSchema, Default)]
    struct Empty {}

    #[test]
    fn a_nullable_field_needs_an_option() {
        // `#[serde(default)]` covers a missing field, not `null`, which KubeVirt allows here.
        let found = findings(&typed::<Defaulted>(Upstream::KubeVirt(
            "v1.VirtualMachineInstance",
        )));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("/status: upstream allows null, the reader does not"),
            "{found:#?}"
        );
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct ClosedUrl {
        spec: Option<ClosedUrlSpec>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct ClosedUrlSpec {
        #[serde(rename = "URL")]
        url: Option<Known>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Known {
        Here,
    }

    #[test]
    fn a_closed_set_read_from_any_string_is_found() {
        let read = reader::<ClosedUrl>(super::super::kcp::API_VERSION, "Workspace");
        let found = findings(&read);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("/spec/URL: upstream allows any string, the reader a closed set"),
            "{found:#?}"
        );
    }

    #[test]
    fn pointers_walk_objects_and_lists() {
        let read = pointer(
            Upstream::Kind("v1".into(), "Service"),
            "/status/loadBalancer/ingress/0/ip",
        );
        assert_eq!(findings(&read), Vec::<String>::new());
        let wrong = pointer(
            Upstream::Kind("v1".into(), "Service"),
            "/status/loadBalancer/ingres",
        );
        assert_eq!(findings(&wrong).len(), 1, "{:?}", findings(&wrong));
    }

    #[test]
    fn below_a_free_form_object_anything_may_be_read() {
        let read = pointer(
            Upstream::Kind(
                super::super::provider_kubernetes::CLUSTER_API_VERSION.into(),
                "Object",
            ),
            "/status/atProvider/manifest/status/anything",
        );
        assert_eq!(findings(&read), Vec::<String>::new());
    }
}
