//! The SCO compositions, one module per composite resource kind, all of the same shape:
//! `spec.rs` holds the typed XR (the source of the XRD schema), `mod.rs` a pure `render` from
//! the XR, observed state and platform settings to [`Desired`] state, and tests sit beside it.
//! [`conventions`] holds what every composition shares: scope, labels, names, readiness.
//!
//! | Composition | XR | module |
//! |---|---|---|
//! | Organisation | `tenant.cloud.stakater.com/v1` `Organisation` (cluster-scoped) | [`organisation`] |
//! | VirtualMachine | `compute.cloud.stakater.com/v1` `VirtualMachine` (namespaced) | [`virtual_machine`] |

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Platform;
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;
use crate::sdk::response::Requirement;
use pbstruct as pbser;
use pbstruct::Struct;
use pbstruct::{self as structpb, PathError};

pub mod conventions;
pub mod organisation;
pub mod virtual_machine;
pub mod xrd;

/// What a composition sees of the request besides its typed XR.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Observed composed resources by composition resource name.
    pub resources: &'a BTreeMap<Name, ObservedComposed<'a>>,
    /// Resources Crossplane fetched, by requirement name; a missing key means not resolved yet.
    pub required: &'a BTreeMap<String, Vec<Value>>,
}

impl Observed<'_> {
    /// The observed object of composed resource `name` read into `T`, if it exists: only
    /// the fields `T` names are read.
    pub fn read<T: DeserializeOwned>(&self, name: &Name) -> Option<Result<T, PathError>> {
        self.resources.get(name).map(ObservedComposed::read)
    }

    /// Whether composed resource `name` exists, without reading it.
    pub fn exists(&self, name: &Name) -> bool {
        self.resources.contains_key(name)
    }
}

/// A composed resource a composition wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The manifest (SSA intent: only fields the function owns), written straight from its
    /// typed builder to the bytes the response carries.
    pub encoded: Struct,
    /// Whether it was observed ready.
    pub ready: bool,
}

impl Composed {
    /// The manifest as JSON.
    pub fn manifest(&self) -> Value {
        Value::Object(self.encoded.to_json())
    }
}

/// Why a composition is not done yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// PascalCase reason (`WaitingForWorkspace`).
    pub reason: String,
    /// What it waits for, for humans.
    pub message: String,
}

/// What a composition renders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Desired {
    /// Composed resources by composition resource name.
    pub resources: BTreeMap<Name, Composed>,
    /// Fields of the composite resource's status.
    pub status: Map<String, Value>,
    /// Set while something the composition depends on is not there yet.
    pub waiting: Option<Waiting>,
    /// Resources Crossplane must fetch, by requirement name (declared on every call).
    pub requirements: BTreeMap<String, Requirement>,
}

impl Desired {
    /// Adds a composed resource built from a typed value.
    pub fn add(&mut self, name: impl Into<Name>, manifest: &impl Serialize, ready: bool) {
        let encoded = pbser::to_struct(manifest).expect("composed resources serialise to objects");
        self.resources
            .insert(name.into(), Composed { encoded, ready });
    }

    /// Whether everything is composed and ready.
    pub fn ready(&self) -> bool {
        self.waiting.is_none() && self.resources.values().all(|r| r.ready)
    }
}

/// One invalid field of the XR or input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path (`spec.parameters.instanceType`).
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The XR asks for something that cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// One invalid field.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            path: path.into(),
            message: message.into(),
        }])
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.path, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

/// A composition: a typed XR rendered into desired state.
pub trait Composition {
    /// The name used in the input's `spec.composition`, logs and metrics.
    const NAME: &'static str;
    /// The XR's apiVersion.
    const API_VERSION: &'static str;
    /// The XR's kind.
    const KIND: &'static str;
    /// The typed XR.
    type Xr: DeserializeOwned;
    /// Renders desired state. Pure and deterministic.
    fn render(
        xr: &Self::Xr,
        observed: &Observed<'_>,
        platform: &Platform,
    ) -> Result<Desired, Invalid>;
    /// The CompositeResourceDefinition serving this XR, generated from the Rust types.
    fn definition() -> Value;
}

/// The compositions function-sco serves, as the input's `spec.composition` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CompositionKind {
    /// `tenant.cloud.stakater.com/v1` `Organisation`.
    Organisation,
    /// `compute.cloud.stakater.com/v1` `VirtualMachine`.
    VirtualMachine,
}

/// A registry entry.
pub struct Entry {
    /// Which composition.
    pub kind: CompositionKind,
    /// Its name.
    pub name: &'static str,
    /// The XR apiVersion it serves.
    pub api_version: &'static str,
    /// The XR kind it serves.
    pub xr_kind: &'static str,
    /// Reads the typed XR from the observed composite and renders it.
    pub render: fn(&Struct, &Observed<'_>, &Platform) -> Result<Desired, Invalid>,
    /// Its XRD.
    pub definition: fn() -> Value,
}

const fn entry<C: Composition>(kind: CompositionKind) -> Entry {
    Entry {
        kind,
        name: C::NAME,
        api_version: C::API_VERSION,
        xr_kind: C::KIND,
        render: render_composite::<C>,
        definition: C::definition,
    }
}

fn render_composite<C: Composition>(
    xr: &Struct,
    observed: &Observed<'_>,
    platform: &Platform,
) -> Result<Desired, Invalid> {
    let typed: C::Xr = structpb::from_struct(xr).map_err(|e| {
        let path = e.path.trim_start_matches('.');
        Invalid::field(if path.is_empty() { "(root)" } else { path }, e.message)
    })?;
    C::render(&typed, observed, platform)
}

/// Every composition, in the order the README lists them.
pub static REGISTRY: &[Entry] = &[
    entry::<organisation::Organisation>(CompositionKind::Organisation),
    entry::<virtual_machine::VirtualMachine>(CompositionKind::VirtualMachine),
];

/// The entry for a composition kind.
pub fn by_kind(kind: CompositionKind) -> &'static Entry {
    REGISTRY
        .iter()
        .find(|e| e.kind == kind)
        .expect("every kind is registered")
}

/// The entry serving an XR's apiVersion and kind.
pub fn for_xr(api_version: &str, kind: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.api_version == api_version && e.xr_kind == kind)
}

/// `apiVersion kind` of every served XR, for messages.
pub fn supported() -> String {
    REGISTRY
        .iter()
        .map(|e| format!("{} {}", e.api_version, e.xr_kind))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A generated manifest as YAML: `input` for the function input CRD, or a composition's name
/// (case-insensitive, `-`/`_` ignored) for its XRD.
pub fn generate(what: &str) -> Result<String, String> {
    let wanted = what.to_ascii_lowercase().replace(['-', '_'], "");
    let value = if wanted == "input" {
        crate::function::input_definition()
    } else {
        let entry = REGISTRY
            .iter()
            .find(|e| e.name.to_ascii_lowercase() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = REGISTRY
                    .iter()
                    .map(|e| e.name.to_ascii_lowercase())
                    .collect();
                format!(
                    "cannot generate {what:?}: choose input or one of {}",
                    names.join(", ")
                )
            })?;
        (entry.definition)()
    };
    serde_norway::to_string(&value).map_err(|e| e.to_string())
}
