//! What every composition shares: the XR's identity and scope, the labels every manifest
//! carries, deterministic names, and readiness read from observed state.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Composition, Observed};
use crate::resources::Labels;
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::{self, DNS_LABEL_MAX};

/// Label naming the organisation (as SCO labels project namespaces).
pub const LABEL_ORG: &str = "stakater.com/org";
/// MTO's label naming the Tenant a namespace belongs to: MTO stamps every namespace of a
/// Tenant with it and finds a namespace's Tenant by it (mto-docs "Namespace": "Namespace
/// should have label `stakater.com/tenant` which contains the name of tenant to which it
/// belongs to"; the hibernation how-to: "MTO stamps `stakater.com/tenant: <tenant-name>` on
/// every namespace it manages"). Its value is the Tenant's name, which for a Project is
/// `<organisation>-<project>`, so the project is carried by [`LABEL_PROJECT`].
pub const LABEL_TENANT: &str = "stakater.com/tenant";
/// Label naming the SCO project: on a project's namespaces (through the Tenant) and on every
/// object composed for something in a project.
pub const LABEL_PROJECT: &str = "sco.stakater.com/project";
/// Label naming the XR's kind.
pub const LABEL_XR_KIND: &str = "sco.stakater.com/composite-kind";
/// Label naming the XR.
pub const LABEL_XR_NAME: &str = "sco.stakater.com/composite-name";
/// Label naming the XR's namespace (namespaced XRs only).
pub const LABEL_XR_NAMESPACE: &str = "sco.stakater.com/composite-namespace";
/// Standard label saying who manages the object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Where composed resources go: a cluster-scoped XR composes cluster-scoped managed resources
/// (`kubernetes.crossplane.io`, `*.keycloak.crossplane.io`); a namespaced XR (Crossplane v2)
/// composes namespaced ones in its own namespace (`kubernetes.m.crossplane.io`,
/// `*.keycloak.m.crossplane.io`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A cluster-scoped XR.
    Cluster,
    /// A namespaced XR, in this namespace.
    Namespaced(String),
}

impl Scope {
    /// The namespace composed resources go to, if any.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Self::Cluster => None,
            Self::Namespaced(ns) => Some(ns),
        }
    }
}

/// The identity of the XR being rendered, read from its observed metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrIdentity {
    /// kind.
    pub kind: &'static str,
    /// metadata.name.
    pub name: String,
    /// Cluster-scoped or in which namespace.
    pub scope: Scope,
}

impl XrIdentity {
    /// The identity of an XR of composition `C`, from its metadata.
    pub fn of<C: Composition>(metadata: &ObjectMeta) -> Self {
        let namespace = metadata.namespace.clone().unwrap_or_default();
        Self {
            kind: C::KIND,
            name: metadata.name.clone().unwrap_or_default(),
            scope: if namespace.is_empty() {
                Scope::Cluster
            } else {
                Scope::Namespaced(namespace)
            },
        }
    }

    /// Labels every composed manifest carries: who manages it, which XR it belongs to, and
    /// the organisation and project where known.
    pub fn labels(&self, org: Option<&str>, project: Option<&str>) -> Labels {
        let mut labels = BTreeMap::new();
        labels.insert(LABEL_MANAGED_BY.to_owned(), "function-sco".to_owned());
        labels.insert(
            LABEL_XR_KIND.to_owned(),
            label_value(&self.kind.to_ascii_lowercase()),
        );
        labels.insert(LABEL_XR_NAME.to_owned(), label_value(&self.name));
        if let Some(ns) = self.scope.namespace() {
            labels.insert(LABEL_XR_NAMESPACE.to_owned(), label_value(ns));
        }
        if let Some(org) = org {
            labels.insert(LABEL_ORG.to_owned(), label_value(org));
        }
        if let Some(project) = project {
            labels.insert(LABEL_PROJECT.to_owned(), label_value(project));
        }
        labels.into()
    }
}

/// A valid label value for `text`: at most 63 characters of `[A-Za-z0-9._-]`, starting and
/// ending alphanumeric; longer values are shortened with a stable hash suffix.
pub fn label_value(text: &str) -> String {
    if is_label_value(text) {
        // Names usually are already.
        return text.to_owned();
    }
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if cleaned.len() <= DNS_LABEL_MAX {
        cleaned.to_owned()
    } else {
        resource::child_name(&[cleaned], DNS_LABEL_MAX)
    }
}

/// Whether `text` is a valid label value as it is (what [`label_value`] leaves unchanged).
fn is_label_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() <= DNS_LABEL_MAX
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A deterministic object name from `parts`, at most 63 characters (see [`resource::child_name`]).
pub fn name(parts: &[&str]) -> String {
    resource::child_name(parts, DNS_LABEL_MAX)
}

/// The project a service-cluster namespace belongs to, by SCO's naming `ws-<project>-<suffix>`
/// (`ws-proj-frontend-vms` is project `proj-frontend`); `None` for any other namespace.
pub fn project_of_namespace(namespace: &str) -> Option<&str> {
    let (project, suffix) = namespace.strip_prefix("ws-")?.rsplit_once('-')?;
    (!project.is_empty() && !suffix.is_empty()).then_some(project)
}

/// Whether observed composed resource `name` (a managed resource or provider-kubernetes
/// Object) reports `Ready=True`; only its conditions are read.
pub fn ready(observed: &Observed<'_>, name: &str) -> bool {
    observed
        .resources
        .get(name)
        .is_some_and(ObservedComposed::is_ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compositions::organisation::Organisation;
    use crate::compositions::virtual_machine::VirtualMachine;
    use crate::sdk::request::ObservedComposed;
    use crate::sdk::resource::Name;
    use serde_json::json;

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: namespace.map(str::to_owned),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn identity_and_scope() {
        let vm = XrIdentity::of::<VirtualMachine>(&meta("web", Some("ws-shop-vms")));
        assert_eq!(vm.scope, Scope::Namespaced("ws-shop-vms".into()));
        assert_eq!((vm.kind, vm.name.as_str()), ("VirtualMachine", "web"));
        let org = XrIdentity::of::<Organisation>(&meta("acme", None));
        assert_eq!(org.scope, Scope::Cluster);
        assert_eq!(org.scope.namespace(), None);
    }

    #[test]
    fn labels_name_the_xr_org_and_project() {
        let vm = XrIdentity::of::<VirtualMachine>(&meta("web", Some("ws-shop-vms")));
        let labels = vm.labels(Some("acme"), Some("shop"));
        assert_eq!(labels.get(LABEL_XR_KIND), Some("virtualmachine"));
        assert_eq!(labels.get(LABEL_XR_NAME), Some("web"));
        assert_eq!(labels.get(LABEL_XR_NAMESPACE), Some("ws-shop-vms"));
        assert_eq!(labels.get(LABEL_ORG), Some("acme"));
        assert_eq!(labels.get(LABEL_PROJECT), Some("shop"));
        assert_eq!(labels.get(LABEL_MANAGED_BY), Some("function-sco"));
    }

    #[test]
    fn projects_come_from_workspace_namespaces() {
        assert_eq!(
            project_of_namespace("ws-proj-frontend-vms"),
            Some("proj-frontend")
        );
        assert_eq!(project_of_namespace("ws-shop-vms"), Some("shop"));
        assert_eq!(project_of_namespace("ws-vms"), None);
        assert_eq!(project_of_namespace("ws--vms"), None);
        assert_eq!(project_of_namespace("default"), None);
    }

    #[test]
    fn label_values_are_valid() {
        assert_eq!(label_value("admin@acme.example"), "admin-acme.example");
        let long = label_value(&"a".repeat(100));
        assert_eq!(long.len(), 63);
        assert_eq!(label_value("-x-"), "x");
        for unchanged in ["web", "ws-proj-frontend-vms", "a.b_c-1", &"a".repeat(63)] {
            assert!(is_label_value(unchanged), "{unchanged}");
            assert_eq!(label_value(unchanged), unchanged);
        }
        for changed in ["", "-x", "x-", "a b", "ü", &"a".repeat(64)] {
            assert!(!is_label_value(changed), "{changed}");
        }
    }

    #[test]
    fn readiness_comes_from_the_ready_condition() {
        let resources: BTreeMap<Name, ObservedComposed> = [
            (
                "ready",
                json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            ),
            ("empty", json!({"status": {}})),
            ("odd", json!({"status": {"conditions": "none"}})),
        ]
        .into_iter()
        .map(|(n, v)| (Name::from(n), ObservedComposed::new(&v, BTreeMap::new())))
        .collect();
        let required = BTreeMap::new();
        let observed = Observed {
            resources: &resources,
            required: &required,
            credentials: crate::compositions::secrets::Credentials::none(),
        };
        assert!(ready(&observed, "ready"));
        assert!(!ready(&observed, "empty"));
        assert!(!ready(&observed, "odd"));
        assert!(!ready(&observed, "missing"));
    }
}
