//! Strict validation of Kubernetes manifests against the upstream schemas in `schemas/`.
//!
//! Every schema there is indexed once by `(apiVersion, kind)`: the CRDs (`*.yaml`,
//! `derived/*.yaml`, each served version), the KubeVirt schema fragments
//! (`kubevirt/*.openAPIV3Schema.yaml`, whose group, kind and versions come from the README's
//! KubeVirt table) and the Kubernetes core JSON schemas (`core/*.json`). Each is converted into a
//! JSON Schema (draft 2020-12) that is stricter than the API server, so that what the server would
//! silently prune or default away fails a test instead:
//!
//! - a field the schema does not declare is an error (also in objects declared without fields),
//!   except below `x-kubernetes-preserve-unknown-fields`;
//! - `null` is an error unless the field is `nullable` (the core schemas allow `null` everywhere;
//!   that is dropped too);
//! - `x-kubernetes-int-or-string` takes an integer or a string; formats `int32`/`int64` bound the
//!   value, `date-time` must be RFC 3339 and `byte` standard base64; other formats are not checked;
//! - `x-kubernetes-list-type: set` lists must not repeat an item and `map` lists must not repeat a
//!   key;
//! - the root and every `x-kubernetes-embedded-resource` need `apiVersion` and `kind`, and their
//!   `metadata` must be an ObjectMeta: only its fields, `name` a DNS-1123 subdomain, `namespace` a
//!   DNS-1123 label, label and annotation keys qualified names, label values valid.
//!
//! [`validate`] also requires the manifest's `apiVersion`/`kind` to be a served version of a kind
//! with a schema here, and validates the manifest wrapped in a provider-kubernetes `Object`
//! (`spec.forProvider.manifest`) as a manifest of its own. Not checked: CEL rules
//! (`x-kubernetes-validations`), defaults, immutability, admission webhooks and name rules of
//! particular kinds beyond the DNS-1123 subdomain.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::Location;
use jsonschema::{Draft, Keyword, ValidationError, Validator};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Validates `manifest` strictly against the schema of its `apiVersion` and `kind`, and a manifest
/// wrapped in a provider-kubernetes `Object` against its own. Each error names the JSON path, what
/// is wrong and the apiVersion and kind whose schema it broke; errors are sorted by path.
pub fn validate(manifest: &Value) -> Result<(), Vec<String>> {
    let mut findings = Findings::default();
    check_manifest(manifest, "", &mut findings);
    findings.into_result()
}

/// Validates `instance` strictly against an OpenAPI v3 schema (a CRD or XRD version's
/// `openAPIV3Schema`), the way [`validate`] validates a manifest against its kind's schema: the
/// root's `apiVersion`, `kind` and `metadata` are implied. The schema is compiled on every call.
pub fn validate_against(schema_openapi_v3: &Value, instance: &Value) -> Result<(), Vec<String>> {
    let mut findings = Findings::default();
    let subject = subject_of(instance);
    match compile(&convert_resource(schema_openapi_v3)) {
        Ok(validator) => findings.collect(&validator, instance, "", &subject),
        Err(message) => findings.add(
            "",
            format!("the schema does not compile: {message}"),
            &subject,
        ),
    }
    findings.into_result()
}

/// Panics with a readable list of errors unless [`validate`] accepts `manifest`.
pub fn assert_valid(manifest: &Value) {
    if let Err(errors) = validate(manifest) {
        panic!(
            "{} is not valid:\n  {}",
            subject_of(manifest),
            errors.join("\n  ")
        );
    }
}

/// Every indexed `(apiVersion, kind)`, sorted.
pub fn indexed_kinds() -> Vec<(&'static str, &'static str)> {
    INDEX
        .schemas
        .keys()
        .map(|(api_version, kind)| (api_version.as_str(), kind.as_str()))
        .collect()
}

/// Compiles (once) the schema of `api_version` `kind`, or says why it cannot be used.
pub fn load(api_version: &str, kind: &str) -> Result<(), String> {
    INDEX.lookup(api_version, kind)?.validator().map(|_| ())
}

/// The strict JSON Schema of `api_version` `kind` that [`validate`] applies (no `$ref`s: each
/// schema is self-contained), or why there is none.
pub fn json_schema(api_version: &str, kind: &str) -> Result<&'static Value, String> {
    INDEX
        .lookup(api_version, kind)
        .map(|schema| &schema.json_schema)
}

/// `schema_open_api_v3` (a CRD or XRD version's `openAPIV3Schema`) converted as [`validate`]
/// converts the schemas of `schemas/`: the strict JSON Schema of a whole resource.
pub fn convert_resource(schema_open_api_v3: &Value) -> Value {
    INDEX
        .converter(Dialect::OpenApi)
        .resource(schema_open_api_v3)
}

/// What went wrong while indexing `schemas/` (unreadable files, odd shapes); empty when
/// every file was indexed.
pub fn index_problems() -> &'static [String] {
    &INDEX.problems
}

/// The directory of the upstream schemas.
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

// ---------------------------------------------------------------------------------------------
// Validation of one manifest and its wrapped manifests.

/// The provider-kubernetes API groups whose `Object` wraps a manifest.
const PROVIDER_KUBERNETES_GROUPS: [&str; 2] =
    ["kubernetes.crossplane.io", "kubernetes.m.crossplane.io"];

/// Where a provider-kubernetes `Object` holds the manifest it wraps.
const WRAPPED_MANIFEST: &str = "/spec/forProvider/manifest";

fn check_manifest(manifest: &Value, at: &str, findings: &mut Findings) {
    let subject = subject_of(manifest);
    let field = |name: &str| {
        manifest
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        for name in ["apiVersion", "kind"]
            .into_iter()
            .filter(|name| field(name).is_none())
        {
            findings.add(
                &format!("{at}/{name}"),
                "required: a non-empty string".to_string(),
                &subject,
            );
        }
        return;
    };
    match INDEX.lookup(api_version, kind).and_then(Schema::validator) {
        Ok(validator) => findings.collect(validator, manifest, at, &subject),
        Err(message) => findings.add(&format!("{at}/apiVersion"), message, &subject),
    }
    if kind == "Object"
        && PROVIDER_KUBERNETES_GROUPS.contains(&group_of(api_version))
        && let Some(wrapped) = manifest.pointer(WRAPPED_MANIFEST).filter(|m| m.is_object())
    {
        check_manifest(wrapped, &format!("{at}{WRAPPED_MANIFEST}"), findings);
    }
}

/// `apiVersion kind` of a manifest, for error messages.
fn subject_of(manifest: &Value) -> String {
    let field = |name: &str| manifest.get(name).and_then(Value::as_str).unwrap_or("?");
    format!("{} {}", field("apiVersion"), field("kind"))
}

/// The API group of an apiVersion (`""` for the core group).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// Validation errors keyed by (path, message), each with the `apiVersion kind` whose schema
/// reported it. A wrapped manifest is validated after its `Object`, so an error that both report
/// (the metadata of an embedded resource) is listed once, for the wrapped manifest.
#[derive(Default)]
struct Findings(BTreeMap<(String, String), String>);

impl Findings {
    fn add(&mut self, path: &str, message: String, subject: &str) {
        self.0
            .insert((path.to_string(), message), subject.to_string());
    }

    fn collect(&mut self, validator: &Validator, instance: &Value, at: &str, subject: &str) {
        for error in validator.iter_errors(instance) {
            let path = format!("{at}{}", error.instance_path().as_str());
            for (path, message) in describe(&error, &path) {
                self.add(&path, message, subject);
            }
        }
    }

    fn into_result(self) -> Result<(), Vec<String>> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(self
            .0
            .into_iter()
            .map(|((path, message), subject)| {
                format!(
                    "{}: {message} ({subject})",
                    if path.is_empty() { "/" } else { &path }
                )
            })
            .collect())
    }
}

/// The findings of one validation error: `(path, message)`, one per unknown field.
fn describe(error: &ValidationError, path: &str) -> Vec<(String, String)> {
    let child = |name: &str| format!("{path}/{}", name.replace('~', "~0").replace('/', "~1"));
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| (child(name), "unknown field".to_string()))
            .collect(),
        ValidationErrorKind::Required { property } => {
            vec![(
                child(property.as_str().unwrap_or_default()),
                "required field is missing".to_string(),
            )]
        }
        _ => vec![(path.to_string(), message(error))],
    }
}

/// A one-line message for a validation error that does not repeat large values.
fn message(error: &ValidationError) -> String {
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<&str> = match kind {
                TypeKind::Single(single) => vec![single.as_str()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
            };
            format!(
                "expected {}, got {}",
                expected.join(" or "),
                json_type(instance)
            )
        }
        ValidationErrorKind::Format { format } => {
            format!("{}: {}", brief(instance), format_rule(format))
        }
        ValidationErrorKind::PropertyNames { error } => format!("key {}", message(error)),
        ValidationErrorKind::Custom { message, .. } => message.clone(),
        ValidationErrorKind::FalseSchema => "no value is allowed here".to_string(),
        _ if instance.is_array() || instance.is_object() => {
            truncate(error.masked_with("the value").to_string())
        }
        _ => truncate(error.to_string()),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as JSON, cut short.
fn brief(value: &Value) -> String {
    truncate(value.to_string())
}

fn truncate(mut text: String) -> String {
    const MAX: usize = 200;
    if let Some((cut, _)) = text.char_indices().nth(MAX) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The index of `schemas/`.

static INDEX: LazyLock<Index> = LazyLock::new(|| Index::build(&schemas_dir()));

/// The schemas by `(apiVersion, kind)`.
struct Index {
    schemas: BTreeMap<(String, String), Schema>,
    /// Served versions by (group, kind), to explain an unserved version.
    served: BTreeMap<(String, String), BTreeSet<String>>,
    /// The strict ObjectMeta schema, from the core JSON schemas.
    object_meta: Value,
    problems: Vec<String>,
}

/// One kind's converted JSON Schema and its validator, compiled on first use.
struct Schema {
    source: String,
    json_schema: Value,
    validator: OnceLock<Result<Validator, String>>,
}

impl Schema {
    fn validator(&self) -> Result<&Validator, String> {
        self.validator
            .get_or_init(|| compile(&self.json_schema))
            .as_ref()
            .map_err(|e| format!("the schema in {} does not compile: {e}", self.source))
    }
}

/// The parts of a CustomResourceDefinition the index needs.
#[derive(Deserialize)]
struct Crd {
    kind: String,
    spec: CrdSpec,
}

#[derive(Deserialize)]
struct CrdSpec {
    group: String,
    names: CrdNames,
    versions: Vec<CrdVersion>,
}

#[derive(Deserialize)]
struct CrdNames {
    kind: String,
}

#[derive(Deserialize)]
struct CrdVersion {
    name: String,
    #[serde(default)]
    served: bool,
    schema: Option<CrdValidation>,
}

#[derive(Deserialize)]
struct CrdValidation {
    #[serde(rename = "openAPIV3Schema")]
    open_api_v3_schema: Value,
}

/// A KubeVirt schema fragment file: the top-level `openAPIV3Schema` only.
#[derive(Deserialize)]
struct Fragment {
    #[serde(rename = "openAPIV3Schema")]
    open_api_v3_schema: Value,
}

/// What the README's KubeVirt table says about a fragment file.
struct FragmentRow {
    group: String,
    kind: String,
    versions: Vec<String>,
}

impl Index {
    fn build(dir: &Path) -> Self {
        let mut index = Index {
            schemas: BTreeMap::new(),
            served: BTreeMap::new(),
            object_meta: json!({"type": "object"}),
            problems: Vec::new(),
        };
        let core = index.files(&dir.join("core"), ".json");
        index.object_meta = index.object_meta_from(&core);
        for path in &core {
            index.add_core(path);
        }
        let mut crds = index.files(dir, ".yaml");
        crds.extend(index.files(&dir.join("derived"), ".yaml"));
        for path in &crds {
            index.add_crds(path);
        }
        let rows = index.kubevirt_table(&dir.join("README.md"));
        for path in index.files(&dir.join("kubevirt"), ".openAPIV3Schema.yaml") {
            index.add_fragment(&path, &rows);
        }
        index
    }

    fn lookup(&self, api_version: &str, kind: &str) -> Result<&Schema, String> {
        if let Some(schema) = self
            .schemas
            .get(&(api_version.to_string(), kind.to_string()))
        {
            return Ok(schema);
        }
        let group = group_of(api_version);
        match self.served.get(&(group.to_string(), kind.to_string())) {
            Some(versions) => Err(format!(
                "{api_version} {kind} is not served; served versions: {}",
                versions.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
            None => Err(format!(
                "no schema for {api_version} {kind} in schemas/ (unknown apiVersion or kind)"
            )),
        }
    }

    fn insert(
        &mut self,
        group: &str,
        version: &str,
        kind: &str,
        source: &Path,
        json_schema: Value,
    ) {
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let source = source
            .strip_prefix(schemas_dir())
            .unwrap_or(source)
            .display()
            .to_string();
        let key = (api_version, kind.to_string());
        if let Some(existing) = self.schemas.get(&key) {
            self.problems.push(format!(
                "{source}: {} {} is also defined in {}; ignored",
                key.0, key.1, existing.source
            ));
            return;
        }
        self.served
            .entry((group.to_string(), kind.to_string()))
            .or_default()
            .insert(version.to_string());
        self.schemas.insert(
            key,
            Schema {
                source,
                json_schema,
                validator: OnceLock::new(),
            },
        );
    }

    /// The files in `dir` whose names end with `suffix`, sorted.
    fn files(&mut self, dir: &Path, suffix: &str) -> Vec<PathBuf> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.problems.push(format!("{}: {e}", dir.display()));
                return Vec::new();
            }
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.is_file()
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
            })
            .collect();
        files.sort();
        files
    }

    fn converter(&self, dialect: Dialect) -> Converter<'_> {
        Converter {
            dialect,
            object_meta: &self.object_meta,
        }
    }

    fn read(&mut self, path: &Path) -> Option<String> {
        fs::read_to_string(path)
            .map_err(|e| self.problems.push(format!("{}: {e}", path.display())))
            .ok()
    }

    /// Indexes every served version of every CRD in a YAML file.
    fn add_crds(&mut self, path: &Path) {
        let Some(text) = self.read(path) else { return };
        for document in serde_norway::Deserializer::from_str(&text) {
            let crd = match Crd::deserialize(document) {
                Ok(crd) if crd.kind == "CustomResourceDefinition" => crd,
                Ok(crd) => {
                    self.problems.push(format!(
                        "{}: a {}, not a CustomResourceDefinition",
                        path.display(),
                        crd.kind
                    ));
                    continue;
                }
                Err(e) => {
                    self.problems.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            for version in crd.spec.versions.into_iter().filter(|v| v.served) {
                let Some(schema) = version.schema else {
                    self.problems.push(format!(
                        "{}: version {} has no schema",
                        path.display(),
                        version.name
                    ));
                    continue;
                };
                let json_schema = self
                    .converter(Dialect::OpenApi)
                    .resource(&schema.open_api_v3_schema);
                self.insert(
                    &crd.spec.group,
                    &version.name,
                    &crd.spec.names.kind,
                    path,
                    json_schema,
                );
            }
        }
    }

    /// Indexes a KubeVirt schema fragment under the group, kind and versions of its README row.
    fn add_fragment(&mut self, path: &Path, rows: &BTreeMap<String, FragmentRow>) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(row) = rows.get(name) else {
            self.problems.push(format!(
                "{}: no row in the README's KubeVirt table",
                path.display()
            ));
            return;
        };
        let Some(text) = self.read(path) else { return };
        match serde_norway::from_str::<Fragment>(&text) {
            Ok(fragment) => {
                let json_schema = self
                    .converter(Dialect::OpenApi)
                    .resource(&fragment.open_api_v3_schema);
                for version in &row.versions {
                    self.insert(&row.group, version, &row.kind, path, json_schema.clone());
                }
            }
            Err(e) => self.problems.push(format!("{}: {e}", path.display())),
        }
    }

    /// Indexes a core JSON schema under its `x-kubernetes-group-version-kind`.
    fn add_core(&mut self, path: &Path) {
        let Some(schema) = self.read_json(path) else {
            return;
        };
        let gvks = schema
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if gvks.is_empty() {
            self.problems.push(format!(
                "{}: no x-kubernetes-group-version-kind",
                path.display()
            ));
        }
        let json_schema = self.converter(Dialect::JsonSchema).resource(&schema);
        for gvk in &gvks {
            let part = |name: &str| {
                gvk.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            self.insert(
                &part("group"),
                &part("version"),
                &part("kind"),
                path,
                json_schema.clone(),
            );
        }
    }

    fn read_json(&mut self, path: &Path) -> Option<Value> {
        let text = self.read(path)?;
        serde_json::from_str(&text)
            .map_err(|e| self.problems.push(format!("{}: {e}", path.display())))
            .ok()
    }

    /// The strict ObjectMeta schema: the core schemas' `metadata` (the first that has one) with
    /// the name, label and annotation rules of the API server as formats.
    fn object_meta_from(&mut self, core: &[PathBuf]) -> Value {
        let found = core.iter().find_map(|path| {
            self.read_json(path)?
                .pointer("/properties/metadata")
                .cloned()
        });
        let Some(core_meta) = found else {
            self.problems
                .push("no core JSON schema declares metadata; metadata is not checked".to_string());
            return json!({"type": "object"});
        };
        let mut meta = Converter {
            dialect: Dialect::JsonSchema,
            object_meta: &Value::Null,
        }
        .convert(&core_meta, true);
        let rules = [
            ("/properties/name", "format", json!(DNS_SUBDOMAIN)),
            ("/properties/generateName", "format", json!(GENERATE_NAME)),
            ("/properties/namespace", "format", json!(DNS_LABEL)),
            (
                "/properties/labels",
                "propertyNames",
                json!({"format": QUALIFIED_NAME}),
            ),
            (
                "/properties/labels/additionalProperties",
                "format",
                json!(LABEL_VALUE),
            ),
            (
                "/properties/annotations",
                "propertyNames",
                json!({"format": QUALIFIED_NAME}),
            ),
            (
                "/properties/finalizers/items",
                "format",
                json!(QUALIFIED_NAME),
            ),
        ];
        for (pointer, keyword, value) in rules {
            match meta.pointer_mut(pointer).and_then(Value::as_object_mut) {
                Some(node) => {
                    node.insert(keyword.to_string(), value);
                }
                None => self
                    .problems
                    .push(format!("the core ObjectMeta schema has no {pointer}")),
            }
        }
        meta
    }

    /// The README's KubeVirt table: fragment file name -> group, kind and served versions.
    fn kubevirt_table(&mut self, readme: &Path) -> BTreeMap<String, FragmentRow> {
        let Some(text) = self.read(readme) else {
            return BTreeMap::new();
        };
        let mut rows = BTreeMap::new();
        for line in text.lines() {
            let cells: Vec<&str> = line
                .split('|')
                .map(|cell| cell.trim().trim_matches('`'))
                .collect();
            let [_, file, group, kind, _scope, served, ..] = cells.as_slice() else {
                continue;
            };
            let Some(name) = file
                .strip_prefix("kubevirt/")
                .filter(|n| n.ends_with(".openAPIV3Schema.yaml"))
            else {
                continue;
            };
            // "v1*,v1alpha3(deprecated)": `*` marks the storage version, parentheses a remark.
            let versions = served
                .split(',')
                .map(|v| {
                    v.split(['*', '('])
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                })
                .filter(|v| !v.is_empty())
                .collect();
            rows.insert(
                name.to_string(),
                FragmentRow {
                    group: group.to_string(),
                    kind: kind.to_string(),
                    versions,
                },
            );
        }
        rows
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI v3 (and the core JSON schemas) to strict JSON Schema 2020-12.

/// The schema language of a source file.
#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    /// A CRD's structural OpenAPI v3 schema. An object declared without fields is empty: the API
    /// server prunes anything in it, so here anything in it is an error.
    OpenApi,
    /// The core JSON schemas (JSON Schema generated from the Kubernetes OpenAPI v2). An object
    /// without `properties` there is free-form (e.g. `fieldsV1`).
    JsonSchema,
}

/// The custom keyword that requires the items of a list to have distinct key field values.
const LIST_MAP_KEYS: &str = "x-sco-list-map-keys";

/// Value keywords copied as they are.
const VALUE_KEYWORDS: [&str; 13] = [
    "required",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "multipleOf",
    "minProperties",
    "maxProperties",
];

struct Converter<'a> {
    dialect: Dialect,
    /// The schema every resource's `metadata` must satisfy.
    object_meta: &'a Value,
}

impl Converter<'_> {
    /// The schema of a whole resource: `apiVersion` and `kind` required, `metadata` an ObjectMeta.
    fn resource(&self, node: &Value) -> Value {
        let mut schema = self.convert(node, true);
        self.as_resource(node, &mut schema);
        schema
    }

    /// Converts one schema node. `strict` adds `additionalProperties: false` to objects; it is
    /// off inside `allOf`/`anyOf`/`oneOf`/`not`, whose branches only add value checks to the
    /// fields the node itself declares.
    fn convert(&self, node: &Value, strict: bool) -> Value {
        let Some(node) = node.as_object() else {
            return node.clone();
        };
        let flag = |name: &str| node.get(name) == Some(&Value::Bool(true));
        let nullable = flag("nullable");
        let mut out = Map::new();

        let mut types = if flag("x-kubernetes-int-or-string") {
            vec!["integer", "string"]
        } else {
            types_of(node)
        };
        // A combinator whose branches only name types (how int-or-string is written:
        // `anyOf: [{type: integer}, {type: string}]`) is folded into `type`, so that a value of
        // a wrong type gets one error that says which types would do.
        let mut folded = Vec::new();
        for keyword in ["anyOf", "oneOf"] {
            let Some(alternatives) = branch_types(node.get(keyword)) else {
                continue;
            };
            let exclusive =
                !(alternatives.contains(&"integer") && alternatives.contains(&"number"));
            let narrowed: Vec<&str> = if types.is_empty() {
                alternatives.clone()
            } else {
                types
                    .iter()
                    .copied()
                    .filter(|t| alternatives.contains(t))
                    .collect()
            };
            if (keyword == "anyOf" || exclusive) && !narrowed.is_empty() {
                types = narrowed;
                folded.push(keyword);
            }
        }
        if !types.is_empty() {
            if nullable {
                types.push("null");
            }
            out.insert(
                "type".into(),
                if types.len() == 1 {
                    json!(types[0])
                } else {
                    json!(types)
                },
            );
        }
        for keyword in VALUE_KEYWORDS {
            if let Some(value) = node.get(keyword) {
                out.insert(keyword.into(), value.clone());
            }
        }
        if let (true, Some(Value::Array(options))) = (nullable, out.get_mut("enum")) {
            options.push(Value::Null);
        }
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            match node.get(exclusive) {
                // OpenAPI v3.0 (draft 4) marks the bound exclusive; 2020-12 gives the bound.
                Some(Value::Bool(true)) => {
                    if let Some(limit) = out.remove(bound) {
                        out.insert(exclusive.into(), limit);
                    }
                }
                Some(limit @ Value::Number(_)) => {
                    out.insert(exclusive.into(), limit.clone());
                }
                _ => {}
            }
        }

        let branches = |keyword: &str| -> Vec<Value> {
            node.get(keyword)
                .and_then(Value::as_array)
                .map(|bs| bs.iter().map(|b| self.convert(b, false)).collect())
                .unwrap_or_default()
        };
        let mut all_of = branches("allOf");
        match node.get("format").and_then(Value::as_str) {
            Some("int32") => all_of.push(json!({"minimum": i32::MIN, "maximum": i32::MAX})),
            Some("int64") => all_of.push(json!({"minimum": i64::MIN, "maximum": i64::MAX})),
            Some(format @ ("date-time" | "byte")) => {
                out.insert("format".into(), json!(format));
            }
            _ => {}
        }
        for (keyword, converted) in [
            ("allOf", all_of),
            ("anyOf", branches("anyOf")),
            ("oneOf", branches("oneOf")),
        ] {
            if !converted.is_empty() && !folded.contains(&keyword) {
                out.insert(keyword.into(), Value::Array(converted));
            }
        }
        if let Some(not) = node.get("not") {
            out.insert("not".into(), self.convert(not, false));
        }

        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            let converted = properties
                .iter()
                .map(|(name, child)| (name.clone(), self.convert(child, strict)))
                .collect();
            out.insert("properties".into(), Value::Object(converted));
        }
        match node.get("items") {
            Some(Value::Array(tuple)) => {
                out.insert(
                    "prefixItems".into(),
                    tuple
                        .iter()
                        .map(|item| self.convert(item, strict))
                        .collect(),
                );
            }
            Some(items) => {
                out.insert("items".into(), self.convert(items, strict));
            }
            None => {}
        }
        let declares_fields = node.contains_key("properties")
            || (self.dialect == Dialect::OpenApi
                && node.get("type").and_then(Value::as_str) == Some("object"));
        match node.get("additionalProperties") {
            Some(additional) => {
                out.insert(
                    "additionalProperties".into(),
                    self.convert(additional, strict),
                );
            }
            None if strict && declares_fields && !flag("x-kubernetes-preserve-unknown-fields") => {
                out.insert("additionalProperties".into(), json!(false));
                // With `properties` (even none) the validator names each unknown field.
                out.entry("properties").or_insert_with(|| json!({}));
            }
            None => {}
        }

        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => {
                out.insert("uniqueItems".into(), json!(true));
            }
            Some("map") => {
                if let Some(keys) = node
                    .get("x-kubernetes-list-map-keys")
                    .filter(|k| k.as_array().is_some_and(|k| k.iter().all(Value::is_string)))
                {
                    out.insert(LIST_MAP_KEYS.into(), keys.clone());
                }
            }
            _ => {}
        }
        let mut converted = Value::Object(out);
        if flag("x-kubernetes-embedded-resource") {
            self.as_resource(&Value::Object(node.clone()), &mut converted);
        }
        converted
    }

    /// Makes `schema` (converted from `node`) the schema of a resource: `apiVersion` and `kind`
    /// required non-empty strings, `metadata` an ObjectMeta that also satisfies whatever `node`
    /// itself says about its metadata (e.g. a name pattern).
    fn as_resource(&self, node: &Value, schema: &mut Value) {
        let Some(schema) = schema.as_object_mut() else {
            return;
        };
        let declared_meta = node.pointer("/properties/metadata").filter(|meta| {
            self.dialect == Dialect::OpenApi
                && meta
                    .as_object()
                    .is_some_and(|m| m.keys().any(|k| k != "type" && k != "description"))
        });
        let metadata = match declared_meta {
            Some(declared) => json!({"allOf": [self.object_meta, self.convert(declared, false)]}),
            None => self.object_meta.clone(),
        };
        let Some(properties) = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        else {
            return;
        };
        for field in ["apiVersion", "kind"] {
            let declared = properties.remove(field).unwrap_or_else(|| json!({}));
            properties.insert(
                field.into(),
                json!({"allOf": [declared, {"type": "string", "minLength": 1}]}),
            );
        }
        properties.insert("metadata".into(), metadata);
        let required = schema.entry("required").or_insert_with(|| json!([]));
        if let Some(required) = required.as_array_mut() {
            for field in ["apiVersion", "kind"] {
                if !required.contains(&json!(field)) {
                    required.push(json!(field));
                }
            }
        }
    }
}

/// The types a node names, without `null` (the core schemas allow `null` everywhere).
fn types_of(node: &Map<String, Value>) -> Vec<&str> {
    match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

/// The types of `anyOf`/`oneOf` branches that each name types and nothing else.
fn branch_types(branches: Option<&Value>) -> Option<Vec<&str>> {
    let mut types = Vec::new();
    for branch in branches?.as_array()? {
        let branch = branch.as_object().filter(|b| b.len() == 1)?;
        let named = types_of(branch);
        if named.is_empty() {
            return None;
        }
        types.extend(named);
    }
    Some(types).filter(|t| !t.is_empty())
}

/// Compiles a converted schema with the Kubernetes formats and the list-map keyword.
fn compile(schema: &Value) -> Result<Validator, String> {
    let mut options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_keyword(LIST_MAP_KEYS, list_map_keys);
    for format in FORMATS {
        options = options.with_format(format.name, format.check);
    }
    options.build(schema).map_err(|e| truncate(e.to_string()))
}

/// `x-kubernetes-list-type: map`: no two items may have the same values of the key fields.
struct ListMapKeys(Vec<String>);

/// Builds [`ListMapKeys`] from the keyword's value, the key field names.
fn list_map_keys<'a>(
    _: &'a Map<String, Value>,
    keys: &'a Value,
    _: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let keys = keys
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    Ok(Box::new(ListMapKeys(keys)))
}

impl ListMapKeys {
    fn duplicate(&self, list: &Value) -> Option<String> {
        let mut seen = BTreeSet::new();
        for item in list.as_array()? {
            let key: Vec<&Value> = self
                .0
                .iter()
                .map(|name| item.get(name).unwrap_or(&Value::Null))
                .collect();
            if !seen.insert(serde_json::to_string(&key).unwrap_or_default()) {
                let shown: Vec<String> = self
                    .0
                    .iter()
                    .zip(&key)
                    .map(|(name, value)| format!("{name}={}", brief(value)))
                    .collect();
                return Some(format!("duplicate entry with {}", shown.join(", ")));
            }
        }
        None
    }
}

impl<'i> Keyword<'i> for ListMapKeys {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.duplicate(instance)
            .map_or(Ok(()), |message| Err(ValidationError::custom(message)))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.duplicate(instance).is_none()
    }
}

// ---------------------------------------------------------------------------------------------
// Formats: the API server's name rules, and `byte`.
//
// These are written out here rather than taken from the crate under test, so that a mistake there
// cannot hide behind the same mistake here.

const DNS_SUBDOMAIN: &str = "k8s-dns-subdomain";
const DNS_LABEL: &str = "k8s-dns-label";
const GENERATE_NAME: &str = "k8s-generate-name";
const QUALIFIED_NAME: &str = "k8s-qualified-name";
const LABEL_VALUE: &str = "k8s-label-value";

struct Format {
    name: &'static str,
    check: fn(&str) -> bool,
    rule: &'static str,
}

const FORMATS: [Format; 6] = [
    Format {
        name: DNS_SUBDOMAIN,
        check: is_dns_subdomain,
        rule: "must be a DNS-1123 subdomain: at most 253 lower-case alphanumerics, '-' and '.', each dot-separated part starting and ending alphanumeric",
    },
    Format {
        name: DNS_LABEL,
        check: is_dns_label,
        rule: "must be a DNS-1123 label: at most 63 lower-case alphanumerics and '-', starting and ending alphanumeric",
    },
    Format {
        name: GENERATE_NAME,
        check: is_generate_name,
        rule: "must be the prefix of a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.')",
    },
    Format {
        name: QUALIFIED_NAME,
        check: is_qualified_name,
        rule: "must be a qualified name: an optional DNS-1123 subdomain and '/', then at most 63 alphanumerics, '-', '_' and '.', starting and ending alphanumeric",
    },
    Format {
        name: LABEL_VALUE,
        check: is_label_value,
        rule: "must be empty or at most 63 alphanumerics, '-', '_' and '.', starting and ending alphanumeric",
    },
    Format {
        name: "byte",
        check: is_base64,
        rule: "must be standard base64 (with padding)",
    },
];

fn format_rule(format: &str) -> String {
    match FORMATS.iter().find(|f| f.name == format) {
        Some(known) => known.rule.to_string(),
        None if format == "date-time" => "must be an RFC 3339 date-time".to_string(),
        None => format!("is not a valid {format}"),
    }
}

/// Non-empty, only `allowed` bytes, starting and ending alphanumeric.
fn is_word(s: &str, allowed: fn(u8) -> bool) -> bool {
    let alphanumeric = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    s.bytes().all(allowed)
        && alphanumeric(s.as_bytes().first())
        && alphanumeric(s.as_bytes().last())
}

fn is_dns_part(s: &str) -> bool {
    is_word(s, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
    })
}

fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && is_dns_part(s)
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_part)
}

/// `metadata.generateName`: the API server appends 5 characters, so a trailing '-' is fine.
fn is_generate_name(s: &str) -> bool {
    match s.strip_suffix('-') {
        Some(stem) => is_dns_subdomain(&format!("{stem}a")),
        None => is_dns_subdomain(s),
    }
}

fn is_name_part(s: &str) -> bool {
    s.len() <= 63
        && is_word(s, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
        })
}

fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(s),
    }
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name_part(s)
}

/// Standard base64 with padding, as Go's `base64.StdEncoding` decodes it.
fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
