//! IAM: the people of an organisation's Keycloak realm, managed through KCP. An organisation
//! admin applies `iam.cloud.stakater.com/v1` [`user::User`]s and [`group::Group`]s in the
//! organisation's workspace; api-syncagent brings them to the service cluster as namespaced
//! XRs; these two compositions turn them into the realm's users, groups and memberships.
//! Projects grant access to realm groups by name (`access[].groups`), so this is how an
//! organisation grows past its first administrator.
//!
//! What both share, here:
//! - **The organisation** ([`resolve_organisation`]): the api-syncagent annotation
//!   `syncagent.kcp.io/remote-object-workspace-path` (`<root>:<org>`, written when the
//!   PublishedResource has `enableWorkspacePaths: true`), else the label `stakater.com/org`
//!   of the XR's namespace, fetched as a required resource, else a Fatal. A path deeper than
//!   `<root>:<org>` (a project workspace) is refused: users and groups belong to the
//!   organisation, not to a project.
//! - **The realm** is the organisation's name, as the Organisation composition names it; the
//!   managed resources name it by `realmId` (a realm managed elsewhere). The Organisation's
//!   `Realm` managed resource (`<org>-realm`) is fetched as a required resource, and nothing
//!   is composed until it exists (`WaitingForOrganisation`): a user or group of an
//!   organisation that is not onboarded would only fail in the provider.
//! - **The managed resources** are provider-keycloak's namespaced kinds
//!   (`*.keycloak.m.crossplane.io`) in the XR's namespace, through the platform's
//!   `ClusterProviderConfig` `providerConfigs.keycloak`: a namespaced XR composes only into
//!   its own namespace.
//! - **Object names** are `<org>-<kind>-<readable part>-<hash>`: the hash is of the exact
//!   username or group path, so two distinct Keycloak names never map to one object (`ada.l`
//!   and `ada-l` read alike once made a DNS label), and two XRs asking for the same Keycloak
//!   user or group compose the same object, which Crossplane lets only the first one control.

pub mod group;
pub mod user;

use serde_json::Value;

use super::build::Build;
use super::conventions::{self, LABEL_ORG};
use super::types::quoted;
use super::{FieldError, Observed, organisation};
use crate::resources::{kcp, keycloak};
use crate::sdk::resource::{DNS_LABEL_MAX, is_dns_label};
use crate::sdk::response::{Match, Requirement};

pub use super::project::spec::WORKSPACE_PATH_ANNOTATION;

/// The requirement under which the XR's namespace is fetched (only without the annotation).
pub const NAMESPACE_REQUIREMENT: &str = "namespace";
/// The requirement under which the organisation's Keycloak `Realm` is fetched.
pub const REALM_REQUIREMENT: &str = "organisation-realm";

/// Where the organisation of an IAM XR came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Organisation {
    /// From the workspace path annotation.
    Annotated(String),
    /// From the `stakater.com/org` label of the XR's namespace (fetched on every call).
    Labelled(String),
    /// Waiting for Crossplane to fetch the namespace, whose label decides.
    Pending,
}

impl Organisation {
    /// The organisation's name, once known.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Annotated(org) | Self::Labelled(org) => Some(org),
            Self::Pending => None,
        }
    }

    /// Declares the namespace requirement when the label decides (on every such call, as
    /// Crossplane's requirements loop wants), and waits while it is not fetched yet. Returns
    /// the organisation once known.
    pub fn require<'o, P: Copy + Ord>(
        &'o self,
        build: &mut Build<'_, P>,
        namespace: &str,
    ) -> Option<&'o str> {
        if !matches!(self, Self::Annotated(_)) {
            build.require(NAMESPACE_REQUIREMENT, Requirement::namespace(namespace));
        }
        if matches!(self, Self::Pending) {
            build.wait(
                "WaitingForNamespace",
                format!(
                    "Crossplane has not fetched namespace {namespace} yet, whose label {LABEL_ORG} names the organisation"
                ),
            );
        }
        self.name()
    }
}

/// The organisation of an XR in `namespace` with `annotations`: the workspace path
/// annotation `<root>:<org>`, else the `stakater.com/org` label of the namespace Crossplane
/// fetched under [`NAMESPACE_REQUIREMENT`] (pending until it has), else an error naming both.
pub fn resolve_organisation(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    namespace: &str,
    root: &str,
    observed: &Observed<'_>,
) -> Result<Organisation, FieldError> {
    if let Some(path) = annotations.and_then(|a| a.get(WORKSPACE_PATH_ANNOTATION)) {
        return path
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix(':'))
            .filter(|org| is_dns_label(org))
            .map(|org| Organisation::Annotated(org.to_owned()))
            .ok_or_else(|| FieldError {
                path: format!("metadata.annotations[{WORKSPACE_PATH_ANNOTATION}]"),
                message: format!(
                    "{} is not an organisation workspace ({root}:<organisation>): create users and groups in the organisation's own workspace, not in a project's",
                    quoted(path)
                ),
            });
    }
    let Some(found) = observed.required.get(NAMESPACE_REQUIREMENT) else {
        return Ok(Organisation::Pending);
    };
    let label = found
        .first()
        .and_then(|ns| {
            ns.pointer(&format!(
                "/metadata/labels/{}",
                LABEL_ORG.replace('/', "~1")
            ))
        })
        .and_then(Value::as_str);
    match label {
        Some(org) if is_dns_label(org) => Ok(Organisation::Labelled(org.to_owned())),
        Some(org) => Err(FieldError {
            path: "metadata.namespace".into(),
            message: format!(
                "namespace {namespace}'s label {LABEL_ORG}={} is not an organisation name (a DNS label): correct the label",
                quoted(org)
            ),
        }),
        None => Err(FieldError {
            path: "metadata.namespace".into(),
            message: format!(
                "the XR has no annotation {WORKSPACE_PATH_ANNOTATION} and namespace {namespace} has no label {LABEL_ORG}: publish the IAM APIs with enableWorkspacePaths: true so that api-syncagent sets the annotation, or label the namespace with its organisation ({LABEL_ORG}=<organisation>)"
            ),
        }),
    }
}

/// Declares the requirement of the organisation's Keycloak `Realm` (the Organisation
/// composition's cluster-scoped `<org>-realm`) and says whether to go on: once Crossplane found
/// it, or once `composed` already exists (a realm briefly unseen must not delete users and
/// groups). Otherwise waits with `WaitingForOrganisation`.
pub fn require_realm<P: Copy + Ord>(build: &mut Build<'_, P>, org: &str, composed: &str) -> bool {
    let realm = organisation::names::object(org, organisation::names::REALM);
    build.require(
        REALM_REQUIREMENT,
        Requirement {
            api_version: format!(
                "realm.keycloak.crossplane.io/{}",
                <keycloak::RealmParameters as keycloak::Parameters>::VERSION
            ),
            kind: <keycloak::RealmParameters as keycloak::Parameters>::KIND.into(),
            matching: Match::Name(realm.clone()),
            namespace: None,
        },
    );
    let found = build.required(REALM_REQUIREMENT);
    if build.exists(composed) || found.is_some_and(|f| !f.is_empty()) {
        return true;
    }
    let message = if found.is_none() {
        format!("Crossplane has not fetched organisation {org}'s Keycloak Realm {realm} yet")
    } else {
        format!(
            "organisation {org} has no Keycloak realm (Realm {realm}) yet: onboard the organisation first"
        )
    };
    build.wait("WaitingForOrganisation", message);
    false
}

/// The workspace path of an organisation (`root:acme`), for messages.
pub fn organisation_path(root: &str, org: &str) -> String {
    kcp::child_path(root, org)
}

/// `<org>-<kind>-<readable>-<hash>`: a DNS label naming the object of Keycloak name `exact`
/// (a username, a group path without its leading `/`), unique per exact name.
pub fn object_name(org: &str, kind: &str, exact: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(exact.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let head = conventions::name(&[org, kind, exact.trim_matches('/')]);
    let keep = DNS_LABEL_MAX - hash.len() - 1;
    let head = head.get(..keep.min(head.len())).unwrap_or(&head);
    format!("{}-{hash}", head.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::compositions::secrets::Credentials;

    fn observed_with<'a>(
        required: &'a BTreeMap<String, Vec<Value>>,
        resources: &'a BTreeMap<
            crate::sdk::resource::Name,
            crate::sdk::request::ObservedComposed<'a>,
        >,
    ) -> Observed<'a> {
        Observed {
            resources,
            required,
            credentials: Credentials::none(),
        }
    }

    #[test]
    fn the_annotation_names_the_organisation() {
        let (required, resources) = (BTreeMap::new(), BTreeMap::new());
        let observed = observed_with(&required, &resources);
        let annotations =
            BTreeMap::from([(WORKSPACE_PATH_ANNOTATION.to_owned(), "root:acme".to_owned())]);
        assert_eq!(
            resolve_organisation(Some(&annotations), "ns", "root", &observed),
            Ok(Organisation::Annotated("acme".into()))
        );
        let deeper = BTreeMap::from([(
            WORKSPACE_PATH_ANNOTATION.to_owned(),
            "root:acme:shop".to_owned(),
        )]);
        let err = resolve_organisation(Some(&deeper), "ns", "root", &observed).unwrap_err();
        assert_eq!(
            err.path,
            "metadata.annotations[syncagent.kcp.io/remote-object-workspace-path]"
        );
        assert!(
            err.message.contains("not in a project's"),
            "{}",
            err.message
        );
    }

    #[test]
    fn without_the_annotation_the_namespace_label_decides() {
        let resources = BTreeMap::new();
        let none = BTreeMap::new();
        assert_eq!(
            resolve_organisation(None, "team", "root", &observed_with(&none, &resources)),
            Ok(Organisation::Pending)
        );
        let labelled = BTreeMap::from([(
            NAMESPACE_REQUIREMENT.to_owned(),
            vec![json!({"metadata": {"name": "team", "labels": {"stakater.com/org": "acme"}}})],
        )]);
        assert_eq!(
            resolve_organisation(None, "team", "root", &observed_with(&labelled, &resources)),
            Ok(Organisation::Labelled("acme".into()))
        );
        let unlabelled = BTreeMap::from([(
            NAMESPACE_REQUIREMENT.to_owned(),
            vec![json!({"metadata": {"name": "team"}})],
        )]);
        let err = resolve_organisation(
            None,
            "team",
            "root",
            &observed_with(&unlabelled, &resources),
        )
        .unwrap_err();
        assert_eq!(err.path, "metadata.namespace");
        assert!(
            err.message.contains("enableWorkspacePaths"),
            "{}",
            err.message
        );
        let bad = BTreeMap::from([(
            NAMESPACE_REQUIREMENT.to_owned(),
            vec![json!({"metadata": {"labels": {"stakater.com/org": "Acme Corp"}}})],
        )]);
        let err = resolve_organisation(None, "team", "root", &observed_with(&bad, &resources))
            .unwrap_err();
        assert!(
            err.message.contains("not an organisation name"),
            "{}",
            err.message
        );
    }

    #[test]
    fn object_names_are_dns_labels_unique_per_exact_name() {
        let a = object_name("acme", "user", "ada.l");
        let b = object_name("acme", "user", "ada-l");
        assert_ne!(a, b);
        assert!(a.starts_with("acme-user-ada-l-"), "{a}");
        assert_eq!(a, object_name("acme", "user", "ada.l"));
        let long = object_name("acme", "group", &format!("/{}", "x".repeat(300)));
        assert!(is_dns_label(&long) && long.len() <= DNS_LABEL_MAX, "{long}");
        assert!(is_dns_label(&object_name(
            "acme",
            "group",
            "/teams/engineering"
        )));
    }
}
