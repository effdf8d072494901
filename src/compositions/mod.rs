//! The SCO compositions and the one shape they share.
//!
//! A composition is a module implementing [`Composition`], registered by one line in
//! [`REGISTRY`]. Everything else follows from that line: the dispatch by the XR's apiVersion
//! and kind, the input's `spec.composition` values, the composition's key in the platform
//! settings and its part of their schema, `function-sco generate <name>`, and the tests that
//! every registered composition gets (its XRD is the generated one, its examples render to
//! their goldens, every manifest is strictly valid).
//!
//! Every composition module has the same files and reads the same way:
//! - `spec.rs`: the typed XR (a kube `CustomResource`), the source of its XRD, and its status;
//! - `settings.rs`: its own platform settings, with their defaults (the shared ones are
//!   [`platform::Platform`]);
//! - `names.rs`: composition resource names and object names, in one place;
//! - `mod.rs`: what it composes and why (the module doc), then [`Composition::validate`]
//!   (every rule, every bad field at once), [`Composition::compose`] (the resources, through
//!   a [`build::Build`]) and [`Composition::status`], in that order, and last, for the tests,
//!   `readers()`: the module's readers of observed state with the kind each reads;
//! - `tests.rs`: unit tests beside it.
//!
//! Shared by all: [`build`] (add a part with its readiness, wait with a reason, add a Usage),
//! [`kcp`] (a provider config for an observed KCP workspace), [`conventions`] (scope,
//! labels, names, readiness), [`types`] (validated names) and [`xrd`] (XRDs from the types).
//!
//! | Composition | XR | module |
//! |---|---|---|
//! | Organisation | `tenant.cloud.stakater.com/v1` `Organisation` (cluster-scoped) | [`organisation`] |
//! | Project | `tenant.cloud.stakater.com/v1` `XProject` (cluster-scoped, claim `Project`) | [`project`] |
//! | VirtualMachine | `compute.cloud.stakater.com/v1` `VirtualMachine` (namespaced) | [`virtual_machine`] |
//! | OpenShiftCluster | `kubernetes.cloud.stakater.com/v1` `OpenShiftCluster` (namespaced) | [`openshift_cluster`] |
//! | OpenShiftNodePool | `kubernetes.cloud.stakater.com/v1` `OpenShiftNodePool` (namespaced) | [`openshift_node_pool`] |
//! | User | `iam.cloud.stakater.com/v1` `User` (namespaced) | [`iam::user`] |
//! | Group | `iam.cloud.stakater.com/v1` `Group` (namespaced) | [`iam::group`] |

use std::any::Any;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use kube::core::CustomResourceExt;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::sdk::request::{ObservedComposed, Unsynced};
use crate::sdk::resource::{Manifest, Name, Object};
use crate::sdk::response::Requirement;
use pbstruct::PathError;

pub mod build;
pub mod conventions;
pub mod kcp;
pub mod platform;
#[cfg(test)]
mod readers;
pub mod secrets;
pub mod types;
pub mod xrd;

pub mod iam;
pub mod openshift_cluster;
pub mod openshift_node_pool;
pub mod organisation;
pub mod project;
pub mod virtual_machine;

use build::Build;
use platform::Platform;

/// Every composition function-sco serves, one line each, in the order the README lists them.
pub static REGISTRY: &[Entry] = &[
    Entry::of::<organisation::Organisation>(),
    Entry::of::<project::Project>(),
    Entry::of::<virtual_machine::VirtualMachine>(),
    Entry::of::<openshift_cluster::OpenShiftCluster>(),
    Entry::of::<openshift_node_pool::OpenShiftNodePool>(),
    Entry::of::<iam::user::User>(),
    Entry::of::<iam::group::Group>(),
];

/// A composition: a typed XR validated, composed and given a status.
///
/// [`Composition::render`] runs the three steps in order; a composition implements them and
/// nothing else. Each is pure and deterministic: the same XR, observed state and settings
/// always give the same desired state.
pub trait Composition: 'static {
    /// The name used in the input's `spec.composition`, logs, metrics and file paths
    /// (lower-cased: `xrds/<name>/`, `examples/<name>/`).
    const NAME: &'static str;
    /// The XR's apiVersion.
    const API_VERSION: &'static str;
    /// The XR's kind.
    const KIND: &'static str;
    /// The key of its own settings in the platform settings (`virtualMachine`).
    const SETTINGS_KEY: &'static str;
    /// Keys of its own settings that follow another composition's: that composition's
    /// settings key and the keys, which both settings types must have with one schema. Each
    /// starts from the other composition's resolved value, and what a settings layer sets
    /// under this composition's own key patches it (so one table serves both, and either can
    /// differ where it must).
    const SETTINGS_FROM: Option<(&'static str, &'static [&'static str])> = None;
    /// The typed XR, whose schema is the XRD's.
    type Xr: DeserializeOwned + CustomResourceExt;
    /// Its own platform settings.
    type Settings: Settings;
    /// The status flags composed resources count towards (`workspaceReady`, ...).
    type Part: Copy + Ord + fmt::Debug;
    /// What validation found: everything composing and the status need.
    type Valid<'a>;
    /// The XR's status.
    type Status: Serialize;

    /// Checks the XR and settings against every rule, naming every bad field at once.
    fn validate<'a>(
        xr: &'a Self::Xr,
        cx: Context<'a, Self::Settings>,
    ) -> Result<Self::Valid<'a>, Invalid>;

    /// Adds the composed resources, with their readiness, and what is waited for.
    fn compose(valid: &Self::Valid<'_>, build: &mut Build<'_, Self::Part>);

    /// The XR's status, from what was composed and observed.
    fn status(valid: &Self::Valid<'_>, build: &Build<'_, Self::Part>) -> Self::Status;

    /// Validate, compose, status.
    fn render(xr: &Self::Xr, cx: Context<'_, Self::Settings>) -> Result<Desired, Invalid> {
        let valid = Self::validate(xr, cx)?;
        let mut build = Build::new(cx.observed);
        Self::compose(&valid, &mut build);
        let status = Self::status(&valid, &build);
        Ok(build.finish(&status))
    }

    /// The CompositeResourceDefinition serving this XR, generated from [`Composition::Xr`].
    fn definition() -> Value {
        xrd::definition::<Self::Xr>()
    }
}

/// What a composition's own settings must be: decoded strictly from its key of the platform
/// settings, with defaults for what is not set, and a schema for the input CRD.
pub trait Settings:
    DeserializeOwned + Serialize + JsonSchema + Default + Send + Sync + 'static
{
}

impl<T: DeserializeOwned + Serialize + JsonSchema + Default + Send + Sync + 'static> Settings
    for T
{
}

/// What a composition sees of the request besides its typed XR.
#[derive(Debug)]
pub struct Context<'a, S> {
    /// Observed state.
    pub observed: &'a Observed<'a>,
    /// The shared platform settings.
    pub platform: &'a Platform,
    /// The composition's own settings.
    pub settings: &'a S,
}

impl<S> Clone for Context<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Context<'_, S> {}

/// Observed state: the composed resources and the resources Crossplane fetched.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Observed composed resources by composition resource name.
    pub resources: &'a BTreeMap<Name, ObservedComposed<'a>>,
    /// Resources Crossplane fetched, by requirement name; a missing key means not resolved yet.
    pub required: &'a BTreeMap<String, Vec<Value>>,
    /// The pipeline step's function credentials (never logged: `Debug` shows names only).
    pub credentials: &'a secrets::Credentials,
}

impl Observed<'_> {
    /// The observed object of composed resource `name` read into `T`, if it exists: only
    /// the fields `T` names are read.
    pub fn read<T: DeserializeOwned>(
        &self,
        name: &(impl Borrow<str> + ?Sized),
    ) -> Option<Result<T, PathError>> {
        let name = name.borrow();
        self.resources.get(name).map(ObservedComposed::read)
    }

    /// Whether composed resource `name` exists, without reading it.
    pub fn exists(&self, name: &(impl Borrow<str> + ?Sized)) -> bool {
        let name = name.borrow();
        self.resources.contains_key(name)
    }
}

/// A composed resource a composition wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The manifest (SSA intent: only fields the function owns), written straight from its
    /// typed builder to the bytes the response carries.
    pub manifest: Manifest,
    /// Whether it was observed ready.
    pub ready: bool,
    /// Why its provider reports it `Synced=False`, if it does.
    pub unsynced: Option<Unsynced>,
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
    /// What the user should know that does not stop rendering (a setting ignored, a request
    /// only partly granted): each becomes a Warning result, an event on the XR.
    pub warnings: Vec<String>,
}

impl Desired {
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

/// How a field path names a platform setting (`platform keycloak.url`): the platform team's
/// to fix, not the XR's author's.
const SETTING_PATH_PREFIX: &str = "platform ";

/// The field path of platform setting `key` (`keycloak.url`), for an error the platform team
/// must fix ([`Invalid::reason`] is then `InvalidPlatformConfig`).
pub fn setting_path(key: &str) -> String {
    format!("{SETTING_PATH_PREFIX}{key}")
}

impl Invalid {
    /// The reason of the Fatal result, for whoever must act first: `MissingCredential` when a
    /// function credential is missing, else `InvalidPlatformConfig` when a platform setting
    /// stands in the way (no fix of the XR would render it), else `InvalidSpec`.
    pub fn reason(&self) -> &'static str {
        if self.0.iter().any(|e| e.path.starts_with("credentials.")) {
            "MissingCredential"
        } else if self
            .0
            .iter()
            .any(|e| e.path.starts_with(SETTING_PATH_PREFIX))
        {
            "InvalidPlatformConfig"
        } else {
            "InvalidSpec"
        }
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

/// A composition's own settings, decoded, behind a type-erased pointer: the platform
/// configuration holds one per registered composition and hands each its own.
pub type AnySettings = Arc<dyn Any + Send + Sync>;

/// A registered composition: its identity and its code, with the types erased.
pub struct Entry {
    /// Its name ([`Composition::NAME`]).
    pub name: &'static str,
    /// The XR apiVersion it serves.
    pub api_version: &'static str,
    /// The XR kind it serves.
    pub xr_kind: &'static str,
    /// The key of its settings in the platform settings.
    pub settings_key: &'static str,
    /// Keys of its settings that follow another composition's ([`Composition::SETTINGS_FROM`]).
    pub settings_from: Option<(&'static str, &'static [&'static str])>,
    /// Its XRD.
    pub definition: fn() -> Value,
    render: fn(Object<'_>, &Observed<'_>, &Platform, &AnySettings) -> Result<Desired, Invalid>,
    default_settings: fn() -> Value,
    decode_settings: fn(&Value) -> Result<AnySettings, Vec<PathError>>,
    settings_schema: fn(&mut SchemaGenerator) -> Schema,
}

impl Entry {
    /// The entry of composition `C`.
    pub const fn of<C: Composition>() -> Self {
        Self {
            name: C::NAME,
            api_version: C::API_VERSION,
            xr_kind: C::KIND,
            settings_key: C::SETTINGS_KEY,
            settings_from: C::SETTINGS_FROM,
            definition: C::definition,
            render: render_erased::<C>,
            default_settings: default_settings::<C>,
            decode_settings: decode_settings::<C>,
            settings_schema: settings_schema::<C>,
        }
    }

    /// Reads the typed XR from the observed composite and renders it with `settings`, which
    /// [`Entry::decode_settings`] made.
    pub fn render(
        &self,
        xr: Object<'_>,
        observed: &Observed<'_>,
        platform: &Platform,
        settings: &AnySettings,
    ) -> Result<Desired, Invalid> {
        (self.render)(xr, observed, platform, settings)
    }

    /// Its settings' defaults, as JSON.
    pub fn default_settings(&self) -> Value {
        (self.default_settings)()
    }

    /// Decodes its settings strictly from JSON, or names every field that fails.
    pub fn decode_settings(&self, value: &Value) -> Result<AnySettings, Vec<PathError>> {
        (self.decode_settings)(value)
    }

    /// The schema of its settings.
    pub fn settings_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.settings_schema)(generator)
    }

    /// The directory name of its XRD, Composition and examples (`virtualmachine`).
    pub fn dir(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

fn render_erased<C: Composition>(
    xr: Object<'_>,
    observed: &Observed<'_>,
    platform: &Platform,
    settings: &AnySettings,
) -> Result<Desired, Invalid> {
    let settings = settings
        .downcast_ref::<C::Settings>()
        .expect("the platform configuration decodes each composition's settings as its own type");
    let cx = Context {
        observed,
        platform,
        settings,
    };
    match xr.read::<C::Xr>() {
        Ok(typed) => C::render(&typed, cx),
        Err(_) => Err(every_error::<C>(xr, cx)),
    }
}

/// Every bad field of an XR that does not read, as Kubernetes validation reports them: each
/// field of the wrong type, and every rule of [`Composition::validate`] that fails on the
/// rest (read with the bad fields taken out; rules about a field taken out are not run
/// against its absence).
fn every_error<C: Composition>(xr: Object<'_>, cx: Context<'_, C::Settings>) -> Invalid {
    let read = xr.read_collecting::<C::Xr>();
    let mut errors: Vec<FieldError> = read
        .errors
        .into_iter()
        .map(|e| FieldError {
            path: if e.path.is_empty() || e.path == "." {
                "(root)".to_owned()
            } else {
                e.path
            },
            message: e.message,
        })
        .collect();
    if let Some(typed) = read.value
        && let Err(Invalid(rules)) = C::validate(&typed, cx)
    {
        let about_pruned = |path: &str| {
            read.pruned.iter().any(|p| {
                path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            })
        };
        errors.extend(rules.into_iter().filter(|e| !about_pruned(&e.path)));
    }
    if errors.is_empty() {
        // Reading failed, so collecting finds at least one error; keep the answer a Fatal.
        errors.push(FieldError {
            path: "(root)".to_owned(),
            message: "the object does not read as this XR".to_owned(),
        });
    }
    Invalid(errors)
}

fn default_settings<C: Composition>() -> Value {
    serde_json::to_value(C::Settings::default()).expect("settings serialise")
}

fn decode_settings<C: Composition>(value: &Value) -> Result<AnySettings, Vec<PathError>> {
    pbstruct::from_ref_every::<C::Settings>(value).map(|s| Arc::new(s) as AnySettings)
}

fn settings_schema<C: Composition>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<C::Settings>()
}

/// The entry of the composition named `name`.
pub fn by_name(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.name == name)
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

/// The names of every composition, for messages and the input's schema.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

/// The entry whose name matches `what` loosely (case-insensitive, `-` and `_` ignored), for
/// `function-sco generate`.
pub fn by_loose_name(what: &str) -> Option<&'static Entry> {
    let wanted = what.to_ascii_lowercase().replace(['-', '_'], "");
    REGISTRY.iter().find(|e| e.dir() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_compositions_have_distinct_names_kinds_and_settings_keys() {
        for (i, a) in REGISTRY.iter().enumerate() {
            for b in &REGISTRY[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!((a.api_version, a.xr_kind), (b.api_version, b.xr_kind));
                assert_ne!(a.settings_key, b.settings_key);
            }
            assert!(
                a.decode_settings(&a.default_settings()).is_ok(),
                "{}: the default settings decode",
                a.name
            );
        }
    }

    #[test]
    fn settings_follow_only_keys_both_compositions_have_alike() {
        let mut generator = SchemaGenerator::default();
        let mut property = |entry: &Entry, key: &str| {
            let schema = entry.settings_schema(&mut generator);
            let name = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .expect("settings are a named definition")
                .to_owned();
            let definitions = generator.definitions();
            let mut schema = definitions[&name]["properties"].get(key).cloned()?;
            // Each type documents the key in its own words.
            schema.as_object_mut()?.remove("description");
            Some(schema)
        };
        let mut followed = 0;
        for entry in REGISTRY {
            let Some((from, keys)) = entry.settings_from else {
                continue;
            };
            let source = REGISTRY
                .iter()
                .find(|e| e.settings_key == from)
                .unwrap_or_else(|| panic!("{}: no composition has settings {from}", entry.name));
            assert_ne!(source.settings_key, entry.settings_key);
            for key in keys {
                let own = property(entry, key);
                assert!(own.is_some(), "{}: no settings key {key}", entry.name);
                assert_eq!(own, property(source, key), "{}.{key}", entry.settings_key);
                followed += 1;
            }
        }
        assert!(
            followed > 0,
            "the OpenShiftNodePool follows the OpenShiftCluster"
        );
    }

    #[test]
    fn dispatch_follows_the_registry() {
        for entry in REGISTRY {
            assert!(std::ptr::eq(by_name(entry.name).unwrap(), entry));
            assert!(std::ptr::eq(
                for_xr(entry.api_version, entry.xr_kind).unwrap(),
                entry
            ));
            assert!(std::ptr::eq(by_loose_name(&entry.dir()).unwrap(), entry));
        }
        assert!(by_name("Bucket").is_none());
        assert!(for_xr("example.org/v1", "Bucket").is_none());
        assert!(by_loose_name("virtual-machine").is_some());
    }

    #[test]
    fn the_reason_names_who_must_act_first() {
        let spec = FieldError {
            path: "spec.parameters.name".into(),
            message: "bad".into(),
        };
        let setting = FieldError {
            path: setting_path("keycloak.url"),
            message: "is not set".into(),
        };
        let credential = FieldError {
            path: "credentials.sco-seed".into(),
            message: "missing".into(),
        };
        let reason = |errors: &[&FieldError]| {
            Invalid(errors.iter().map(|e| (*e).clone()).collect()).reason()
        };
        assert_eq!(reason(&[&spec]), "InvalidSpec");
        assert_eq!(reason(&[&setting]), "InvalidPlatformConfig");
        assert_eq!(reason(&[&spec, &setting]), "InvalidPlatformConfig");
        assert_eq!(reason(&[&setting, &credential]), "MissingCredential");
        // A spec field that merely mentions a setting is still the XR's.
        let mentions = FieldError {
            path: "spec.parameters.version".into(),
            message: "ask the platform team to set openshiftCluster.releaseImages".into(),
        };
        assert_eq!(reason(&[&mentions]), "InvalidSpec");
    }
}
