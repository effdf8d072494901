//! Unit tests of the Group render: one per rule of validation, the parent requirement, the
//! memberships and their unknown members. The stages are in `tests/fixtures/group/`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::compositions::{Desired, Observed};
use crate::config::Config;
use crate::sdk::request::ObservedComposed;
use crate::sdk::resource::Name;

fn xr(parameters: Value) -> Value {
    json!({
        "apiVersion": "iam.cloud.stakater.com/v1", "kind": "Group",
        "metadata": {"name": "eng", "namespace": "acme-iam",
                     "annotations": {"syncagent.kcp.io/remote-object-workspace-path": "root:acme"}},
        "spec": {"parameters": parameters},
    })
}

struct Run<'a> {
    resources: BTreeMap<Name, ObservedComposed<'a>>,
    required: BTreeMap<String, Vec<Value>>,
    platform: Option<Platform>,
}

impl Default for Run<'_> {
    fn default() -> Self {
        Self {
            resources: BTreeMap::new(),
            required: realm(),
            platform: None,
        }
    }
}

impl Run<'_> {
    fn observe(mut self, name: &str, resource: Value) -> Self {
        self.resources.insert(
            Name::from(name),
            ObservedComposed::new(&resource, BTreeMap::new()),
        );
        self
    }

    fn require(mut self, name: &str, found: Vec<Value>) -> Self {
        self.required.insert(name.to_owned(), found);
        self
    }

    fn render(&self, composite: &Value) -> Result<Desired, Invalid> {
        let typed: spec::Group = pbstruct::from_value(composite.clone()).expect("a valid XR");
        let observed = Observed {
            resources: &self.resources,
            required: &self.required,
            credentials: crate::compositions::secrets::Credentials::none(),
        };
        let default = Config::resolve(None, None).unwrap().platform.clone();
        Group::render(
            &typed,
            Context {
                observed: &observed,
                platform: self.platform.as_ref().unwrap_or(&default),
                settings: &Settings::default(),
            },
        )
    }
}

/// The organisation's realm, found.
fn realm() -> BTreeMap<String, Vec<Value>> {
    BTreeMap::from([(
        crate::compositions::iam::REALM_REQUIREMENT.to_owned(),
        vec![json!({"metadata": {"name": "acme-realm"}})],
    )])
}

fn manifest(desired: &Desired, name: &str) -> Value {
    desired.resources[&Name::from(name)].manifest.to_json()
}

/// Asserts `result` is an Invalid with an error at `path` whose message contains `fragment`.
fn assert_refused(result: Result<Desired, Invalid>, path: &str, fragment: &str) {
    let err = result.expect_err("refused");
    let found = err.0.iter().find(|e| e.path == path);
    let found = found.unwrap_or_else(|| panic!("no error at {path}: {err}"));
    assert!(
        found.message.contains(fragment),
        "{path}: {}",
        found.message
    );
}

fn parent() -> Vec<Value> {
    vec![json!({"metadata": {"name": names::group("acme", "/teams"), "namespace": "acme-iam"}})]
}

#[test]
fn a_top_level_group_with_members_and_attributes() {
    let desired = Run::default()
        .render(&xr(json!({
            "name": "engineering",
            "members": ["Grace", "ada", "grace"],
            "attributes": {"slack": ["#eng", "#oncall"], "costCentre": ["4711"]},
        })))
        .unwrap();
    assert!(
        !desired.requirements.contains_key(names::PARENT_REQUIREMENT),
        "a top-level group has no parent"
    );
    let group = manifest(&desired, names::GROUP);
    assert_eq!(
        group["apiVersion"],
        "group.keycloak.m.crossplane.io/v1alpha1"
    );
    assert_eq!(
        group["metadata"]["name"],
        names::group("acme", "/engineering")
    );
    assert_eq!(
        group["spec"]["forProvider"],
        json!({"realmId": "acme", "name": "engineering",
               "attributes": {"costCentre": "4711", "slack": "#eng###oncall"}}),
        "several values are joined by ##, as the provider splits them"
    );
    let memberships = manifest(&desired, names::MEMBERSHIPS);
    assert_eq!(
        memberships["spec"]["forProvider"],
        json!({"realmId": "acme", "groupIdRef": {"name": names::group("acme", "/engineering"), "policy": {"resolve": "Always"}},
               "members": ["ada", "grace"]}),
        "lower-cased, sorted and unique, as the provider requires"
    );
    let usage = manifest(&desired, names::USAGE_GROUP_BY_MEMBERSHIPS);
    assert_eq!(usage["kind"], "Usage");
    assert_eq!(usage["metadata"]["namespace"], "acme-iam");
    assert_eq!(desired.status["group"]["path"], "/engineering");
    assert_eq!(
        desired.status["memberships"]["pending"],
        json!(["ada", "grace"])
    );
}

#[test]
fn without_members_no_memberships_is_composed() {
    let desired = Run::default()
        .render(&xr(json!({"name": "teams"})))
        .unwrap();
    assert_eq!(
        desired
            .resources
            .keys()
            .map(Name::as_str)
            .collect::<Vec<_>>(),
        [names::GROUP]
    );
    assert!(desired.status.get("memberships").is_none());
}

#[test]
fn a_subgroup_waits_for_its_parent_and_then_refers_to_it() {
    let composite = xr(json!({"name": "engineering", "path": "/teams/engineering"}));
    let desired = Run::default().render(&composite).unwrap();
    let requirement = &desired.requirements[names::PARENT_REQUIREMENT];
    assert_eq!(requirement.namespace.as_deref(), Some("acme-iam"));
    assert_eq!(requirement.kind, "Group");
    assert!(desired.resources.is_empty());
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForParentGroup"
    );

    let missing = Run::default()
        .require(names::PARENT_REQUIREMENT, Vec::new())
        .render(&composite)
        .unwrap();
    let waiting = missing.waiting.unwrap();
    assert!(
        waiting.message.contains("create a Group with path /teams"),
        "{}",
        waiting.message
    );

    let desired = Run::default()
        .require(names::PARENT_REQUIREMENT, parent())
        .render(&composite)
        .unwrap();
    assert_eq!(
        manifest(&desired, names::GROUP)["spec"]["forProvider"]["parentIdRef"],
        json!({"name": names::group("acme", "/teams"), "policy": {"resolve": "Always"}})
    );
    let usage = manifest(&desired, names::USAGE_PARENT_BY_GROUP);
    assert_eq!(
        usage["spec"]["of"]["resourceRef"]["name"],
        names::group("acme", "/teams")
    );
    assert!(desired.waiting.is_none());

    let kept = Run::default()
        .require(names::PARENT_REQUIREMENT, Vec::new())
        .observe(names::GROUP, json!({}))
        .render(&composite)
        .unwrap();
    assert!(
        kept.resources.contains_key(&Name::from(names::GROUP)),
        "an existing subgroup is kept while its parent is not seen"
    );
}

#[test]
fn an_unknown_member_is_named_in_the_status_and_the_condition() {
    let failed = json!({"status": {
        "conditions": [
            {"type": "Synced", "status": "False", "reason": "ReconcileError",
             "message": "update failed: [{0 user with username bob does not exist  []}]"},
            {"type": "Ready", "status": "False", "reason": "Creating"}],
        "atProvider": {"members": ["ada"]}}});
    let desired = Run::default()
        .observe(names::MEMBERSHIPS, failed)
        .render(&xr(
            json!({"name": "engineering", "members": ["ada", "bob", "carol"]}),
        ))
        .unwrap();
    let waiting = desired.waiting.as_ref().unwrap();
    assert_eq!(waiting.reason, "UnknownMembers");
    assert!(waiting.message.contains("\"bob\""), "{}", waiting.message);
    assert_eq!(desired.status["memberships"]["unknownMember"], "bob");
    assert_eq!(desired.status["memberships"]["members"], json!(["ada"]));
    assert_eq!(
        desired.status["memberships"]["pending"],
        json!(["bob", "carol"])
    );
    assert!(!desired.ready());
}

#[test]
fn the_realms_administrators_group_is_refused_naming_the_organisation_composition() {
    for name in ["org-admins", "Org-Admins"] {
        let result = Run::default().render(&xr(json!({"name": name})));
        assert_refused(
            result,
            "spec.parameters.name",
            "the Organisation composition owns",
        );
    }
    let nested = Run::default()
        .require(names::PARENT_REQUIREMENT, parent())
        .render(&xr(
            json!({"name": "org-admins", "path": "/teams/org-admins"}),
        ));
    assert_refused(
        nested,
        "spec.parameters.name",
        "tokens carry group names, not paths",
    );
}

#[test]
fn project_groups_are_refused_naming_the_project_composition() {
    for name in ["shop-admin", "shop-edit", "web-shop-view"] {
        let result = Run::default().render(&xr(json!({"name": name})));
        assert_refused(
            result,
            "spec.parameters.name",
            "the Project composition owns",
        );
    }
    for fine in ["shop-admins", "admin", "-view"] {
        assert!(
            platform_owner(fine, &Platform::default()).is_none(),
            "{fine}"
        );
    }
    let nested = Run::default()
        .require(names::PARENT_REQUIREMENT, parent())
        .render(&xr(
            json!({"name": "shop-admin", "path": "/teams/shop-admin"}),
        ));
    assert_refused(
        nested,
        "spec.parameters.name",
        "the Project composition owns",
    );
}

#[test]
fn a_bad_group_name_is_refused() {
    for (bad, why) in [
        (" eng", "surrounding whitespace"),
        (
            "system:eng",
            "starts with system:, which Kubernetes reserves",
        ),
    ] {
        let result = Run::default().render(&xr(json!({"name": bad})));
        assert_refused(result, "spec.parameters.name", why);
    }
}

#[test]
fn a_path_not_ending_with_the_name_or_malformed_is_refused() {
    let result = Run::default().render(&xr(json!({"name": "engineering", "path": "/teams"})));
    assert_refused(
        result,
        "spec.parameters.path",
        "does not end with the group's name",
    );
    for bad in [
        "teams/engineering",
        "/teams//engineering",
        "/teams/ x/engineering",
    ] {
        let result = Run::default().render(&xr(json!({"name": "engineering", "path": bad})));
        assert_refused(result, "spec.parameters.path", "is not a group path");
    }
}

#[test]
fn a_bad_member_is_refused() {
    let result = Run::default().render(&xr(
        json!({"name": "eng", "members": ["ada", "b ob", "system:x"]}),
    ));
    let err = result.unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["spec.parameters.members[1]", "spec.parameters.members[2]"]
    );
}

#[test]
fn bad_attributes_are_refused() {
    let result = Run::default().render(&xr(json!({"name": "eng", "attributes": {
        "empty": [], "joined": ["a##b"], "long": ["x".repeat(256)], "": ["v"],
        "hashed": ["a#", "b#"]}})));
    let err = result.unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.parameters.attributes[]",
            "spec.parameters.attributes[empty]",
            "spec.parameters.attributes[hashed][0]",
            "spec.parameters.attributes[joined][0]",
            "spec.parameters.attributes[long][0]",
        ]
    );
}

#[test]
fn without_the_annotation_an_unlabelled_namespace_is_refused() {
    let mut composite = xr(json!({"name": "eng"}));
    composite["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let result = Run::default()
        .require(
            crate::compositions::iam::NAMESPACE_REQUIREMENT,
            vec![json!({"metadata": {"name": "acme-iam"}})],
        )
        .render(&composite);
    assert_refused(
        result,
        "metadata.namespace",
        "has no label stakater.com/org",
    );
}

#[test]
fn nothing_is_composed_until_the_organisations_realm_exists() {
    let mut run = Run::default();
    run.required.clear();
    let desired = run.render(&xr(json!({"name": "teams"}))).unwrap();
    assert!(desired.resources.is_empty());
    assert_eq!(
        desired.waiting.as_ref().unwrap().reason,
        "WaitingForOrganisation"
    );
    let requirement = &desired.requirements[crate::compositions::iam::REALM_REQUIREMENT];
    assert_eq!(
        (requirement.kind.as_str(), requirement.namespace.as_deref()),
        ("Realm", None)
    );
}

#[test]
fn a_bad_name_without_a_path_is_named_once() {
    let err = Run::default()
        .render(&xr(json!({"name": "a/b"})))
        .unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["spec.parameters.name"],
        "not also the default path /a/b"
    );
}

/// A path given with a bad name is a second bad field, checked on its own (only the default
/// path, made of the name, goes unchecked then).
#[test]
fn a_bad_name_does_not_hide_a_bad_path() {
    let result = Run::default().render(&xr(json!({"name": "eng?", "path": "teams/eng"})));
    let Invalid(errors) = result.expect_err("refused");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["spec.parameters.name", "spec.parameters.path"]);
    assert!(
        errors[1].message.contains("is not a group path"),
        "{}",
        errors[1].message
    );
}

#[test]
fn names_and_attributes_of_255_characters_are_the_longest_kept() {
    let longest = "g".repeat(255);
    let desired = Run::default()
        .render(&xr(
            json!({"name": longest, "attributes": {longest.clone(): [longest.clone()]}}),
        ))
        .expect("255 characters fit");
    let group = &manifest(&desired, names::GROUP)["spec"]["forProvider"];
    assert_eq!(group["name"], longest);
    assert_eq!(
        group["attributes"],
        json!({longest.clone(): longest.clone()})
    );

    let longer = "g".repeat(256);
    let result = Run::default().render(&xr(json!({"name": longer})));
    assert_refused(result, "spec.parameters.name", "1 to 255 characters");
    let result = Run::default().render(&xr(
        json!({"name": "engineering", "attributes": {longer.clone(): ["x"]}}),
    ));
    assert_refused(result, "spec.parameters.attributes", "is too long");
    let result = Run::default().render(&xr(
        json!({"name": "engineering", "attributes": {"costCentre": [longer]}}),
    ));
    assert_refused(
        result,
        "spec.parameters.attributes[costCentre][0]",
        "at most 255 characters",
    );
}

#[test]
fn the_status_path_is_keycloaks_once_it_has_one() {
    let observed = |path: &str| {
        json!({"status": {"atProvider": {"id": "7d1f0c2e", "path": path},
            "conditions": [{"type": "Ready", "status": "True"}]}})
    };
    let status_path = |path: &str| {
        Run::default()
            .observe(names::GROUP, observed(path))
            .render(&xr(json!({"name": "engineering"})))
            .unwrap()
            .status["group"]["path"]
            .clone()
    };
    // Before the provider has read it back: the group's own.
    assert_eq!(status_path(""), "/engineering");
    assert_eq!(status_path("/Engineering"), "/Engineering");
}
