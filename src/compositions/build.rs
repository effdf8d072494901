//! The desired state a composition builds, and what every composition does while building
//! it: add a composed resource with its readiness and the status flag (part) it counts
//! towards, wait for something with a reason, warn, add a Usage that orders deletion, ask
//! Crossplane for a resource. [`Build::finish`] turns it into [`Desired`] with the status.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Composed, Desired, Observed, Waiting, conventions};
use crate::resources::keycloak;
use crate::resources::usage::Usage;
use crate::resources::{Meta, Referable};
use crate::sdk::request::{ObservedComposed, Unsynced};
use crate::sdk::resource::{Manifest, Name};
use crate::sdk::response::Requirement;

/// Desired state being built from observed state.
pub struct Build<'a, P> {
    observed: &'a Observed<'a>,
    desired: Desired,
    parts: BTreeMap<Name, P>,
}

impl<P: fmt::Debug> fmt::Debug for Build<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Build")
            .field("desired", &self.desired)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

impl<'a, P: Copy + Ord> Build<'a, P> {
    /// Nothing composed yet.
    pub fn new(observed: &'a Observed<'a>) -> Self {
        Self {
            observed,
            desired: Desired::default(),
            parts: BTreeMap::new(),
        }
    }

    /// Observed state.
    pub fn observed(&self) -> &'a Observed<'a> {
        self.observed
    }

    /// Whether observed composed resource `name` reports `Ready=True`.
    pub fn ready(&self, name: &str) -> bool {
        conventions::ready(self.observed, name)
    }

    /// The `metadata.name` of observed composed resource `name`. Crossplane keeps the name an
    /// existing composed resource has, whatever the desired state says.
    pub fn observed_name(&self, name: &str) -> Option<&'a str> {
        self.observed
            .resources
            .get(name)
            .and_then(ObservedComposed::name)
    }

    /// Whether composed resource `name` is observed.
    pub fn exists(&self, name: &str) -> bool {
        self.observed.exists(name)
    }

    /// Observed composed resource `name` read into `T`; `None` when it is not observed or
    /// does not have `T`'s shape (a reader names only the fields it needs, all optional).
    pub fn read<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.observed.read(name).and_then(Result::ok)
    }

    /// Adds composed resource `name`, counting towards `part`, ready as given.
    pub fn add(&mut self, name: &str, part: P, manifest: &impl Serialize, ready: bool) {
        let unsynced = self
            .observed
            .resources
            .get(name)
            .and_then(ObservedComposed::unsynced);
        self.insert(name, part, manifest, ready, unsynced);
    }

    /// Adds a managed resource (or provider-kubernetes Object), ready when observed with
    /// `Ready=True`.
    pub fn add_managed(&mut self, name: &str, part: P, manifest: &impl Serialize) {
        let (ready, unsynced) = self
            .observed
            .resources
            .get(name)
            .map_or((false, None), ObservedComposed::health);
        self.insert(name, part, manifest, ready, unsynced);
    }

    /// Adds a provider-keycloak managed resource as [`Self::add_managed`] does; one that
    /// provider-keycloak took over rather than created (`Ready=True` without crossplane-runtime's
    /// create annotation, see [`keycloak`]'s docs) goes without `Delete`, so that deleting the
    /// XR never deletes a Keycloak object it did not make, and the XR warns about it.
    pub fn add_keycloak<K: keycloak::Parameters + Clone>(
        &mut self,
        name: &str,
        part: P,
        managed: &keycloak::Managed<K>,
    ) {
        if K::KEPT_WHEN_ADOPTED && self.adopted(name) {
            self.warn(format!(
                "{} {} (composed resource {name}) found its Keycloak object already there: \
                 provider-keycloak takes over an object of the same name instead of creating \
                 one, and applies this XR's settings to it; the object is kept, not deleted, \
                 when the XR is deleted (delete it in Keycloak then if it should go)",
                K::KIND,
                managed.metadata.name
            ));
            self.add_managed(name, part, &managed.clone().without_delete());
        } else {
            self.add_managed(name, part, managed);
        }
    }

    /// Whether managed resource `name` found its external object rather than created it:
    /// observed `Ready=True` without the annotation crossplane-runtime writes on its way to
    /// creating one (see [`keycloak`]'s docs).
    pub fn adopted(&self, name: &str) -> bool {
        self.observed.resources.get(name).is_some_and(|o| {
            o.is_ready() && o.annotation(keycloak::EXTERNAL_CREATE_PENDING).is_none()
        })
    }

    fn insert(
        &mut self,
        name: &str,
        part: P,
        manifest: &impl Serialize,
        ready: bool,
        unsynced: Option<Unsynced>,
    ) {
        let manifest = Manifest::of(manifest).expect("composed resources serialise to objects");
        self.desired.resources.insert(
            Name::from(name),
            Composed {
                manifest,
                ready,
                unsynced,
            },
        );
        self.parts.insert(Name::from(name), part);
    }

    /// Adds an object that is ready once it exists (a Secret, a ProviderConfig).
    pub fn add_existing(&mut self, name: &str, part: P, manifest: &impl Serialize) {
        let ready = self.exists(name);
        self.add(name, part, manifest, ready);
    }

    /// Adds a Usage named `metadata` that keeps `used` until `user` is gone; `metadata`'s
    /// namespace makes it a namespaced `Usage`, none a `ClusterUsage`.
    pub fn usage(
        &mut self,
        name: &str,
        part: P,
        metadata: Meta,
        used: &impl Referable,
        user: &impl Referable,
    ) {
        self.add_managed(name, part, &Usage::new(metadata, used, user));
    }

    /// Records that the composition waits for something; the first reason given stands.
    pub fn wait(&mut self, reason: &str, message: String) {
        self.desired.waiting.get_or_insert(Waiting {
            reason: reason.to_owned(),
            message,
        });
    }

    /// Tells the user something that does not stop rendering (a Warning event on the XR);
    /// the same message given twice is said once.
    pub fn warn(&mut self, message: String) {
        if !self.desired.warnings.contains(&message) {
            self.desired.warnings.push(message);
        }
    }

    /// What the composition waits for, if anything.
    pub fn waiting(&self) -> Option<&Waiting> {
        self.desired.waiting.as_ref()
    }

    /// Asks Crossplane for resources under `name` (to be declared on every call).
    pub fn require(&mut self, name: &str, requirement: Requirement) {
        self.desired
            .requirements
            .insert(name.to_owned(), requirement);
    }

    /// The resources Crossplane fetched under requirement `name`; `None` until it has.
    pub fn required(&self, name: &str) -> Option<&'a [Value]> {
        self.observed.required.get(name).map(Vec::as_slice)
    }

    /// Whether resource `name` was composed.
    pub fn composed(&self, name: &str) -> bool {
        self.desired.resources.contains_key(name)
    }

    /// Whether every resource counting towards `part` was composed and is ready (false when
    /// there is none).
    pub fn part_ready(&self, part: P) -> bool {
        let mut resources = self.parts.iter().filter(|(_, p)| **p == part).peekable();
        resources.peek().is_some()
            && resources.all(|(name, _)| self.desired.resources.get(name).is_some_and(|r| r.ready))
    }

    /// Whether everything is composed and ready and nothing is waited for.
    pub fn all_ready(&self) -> bool {
        self.desired.ready()
    }

    /// The desired state, with `status` as the XR's status.
    pub fn finish(mut self, status: &impl Serialize) -> Desired {
        if let Ok(Value::Object(status)) = serde_json::to_value(status) {
            self.desired.status = status;
        }
        self.desired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::secret::{Base64, Secret};
    use crate::resources::{Labels, meta};
    use crate::sdk::request::ObservedComposed;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Part {
        One,
        Two,
    }

    fn secret(name: &str) -> Secret<'static> {
        Secret::new(
            meta(name, Some("ns"), &Labels::default()),
            [("k".to_owned(), Base64::from("v"))],
        )
    }

    #[test]
    fn readiness_parts_and_waiting() {
        let resources: BTreeMap<Name, ObservedComposed> = [
            (
                "managed",
                json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            ),
            ("secret", json!({"data": {}})),
        ]
        .into_iter()
        .map(|(n, v)| (Name::from(n), ObservedComposed::new(&v, BTreeMap::new())))
        .collect();
        let required = BTreeMap::from([("found".to_owned(), vec![json!({"kind": "Secret"})])]);
        let observed = Observed {
            resources: &resources,
            required: &required,
            credentials: crate::compositions::secrets::Credentials::none(),
        };
        let mut build = Build::new(&observed);
        assert!(!build.part_ready(Part::One), "no resource: not ready");
        build.add_managed("managed", Part::One, &secret("a"));
        build.add_existing("secret", Part::One, &secret("b"));
        assert!(build.part_ready(Part::One));
        build.add_existing("missing", Part::Two, &secret("c"));
        assert!(!build.part_ready(Part::Two));
        assert!(!build.all_ready());
        assert!(build.composed("missing") && !build.composed("other"));
        assert_eq!(build.required("found").map(<[Value]>::len), Some(1));
        assert_eq!(build.required("absent"), None);

        build.wait("WaitingForA", "a".into());
        build.wait("WaitingForB", "b".into());
        assert_eq!(build.waiting().unwrap().reason, "WaitingForA");
        let desired = build.finish(&json!({"ready": false}));
        assert_eq!(desired.status["ready"], false);
        assert_eq!(desired.resources.len(), 3);
        assert_eq!(
            desired.resources[&Name::from("secret")].manifest.to_json()["metadata"]["name"],
            "b"
        );
    }
}
