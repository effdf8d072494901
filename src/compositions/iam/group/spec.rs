//! The IAM Group XR (`iam.cloud.stakater.com/v1` `Group`, namespaced): the source of its XRD
//! schema, and its status.
//!
//! The parameters are plain strings with the schema's lengths and patterns, so that the API
//! server refuses most bad values, and [`super::Group`]'s validation names every remaining
//! bad field at once.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::types::USERNAME_REF_PATTERN;

/// Schema pattern of a group path: `/` and names (see [`NAME_PATTERN`]).
const PATH_PATTERN: &str = r"^(/[^/#?%:\s]([^/#?%:]*[^/#?%:\s])?)+$";
/// Schema pattern of a group name: no `/`, `#`, `?`, `%` or `:` (see `check_group_name`).
const NAME_PATTERN: &str = r"^[^/#?%:\s]([^/#?%:]*[^/#?%:\s])?$";

/// Spec of a Group: a group of the organisation's Keycloak realm and its members.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "iam.cloud.stakater.com",
    version = "v1",
    kind = "Group",
    namespaced,
    status = "GroupStatus",
    category = "sco",
    doc = "A group of the organisation's Keycloak realm, with its members and attributes. Projects grant access to groups by name; tokens carry the group names in their groups claim.",
    printcolumn = r#"{"name": "PATH", "type": "string", "jsonPath": ".status.group.path"}"#,
    printcolumn = r#"{"name": "MEMBERS", "type": "string", "jsonPath": ".status.memberships.members", "priority": 1}"#
)]
pub struct GroupSpec {
    /// The group, where it sits and who is in it.
    pub parameters: Parameters,
}

/// The group's parameters (SCO's API reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "(has(self.path) ? self.path : '/' + self.name) == (has(oldSelf.path) ? oldSelf.path : '/' + oldSelf.name)", "message": "the group path is immutable (unset means /<name>): Keycloak cannot move a group through the provider; create a new Group"},
    {"rule": "!has(self.path) || self.path.endsWith('/' + self.name)", "message": "path must end with the group's name: /<name> for a top-level group, /<parent>/<name> for a subgroup"},
    {"rule": "!has(self.path) || !self.path.matches('(^|/)([.]|[.][.]|~)(/|$)')", "message": "OpenShift refuses the group names '.', '..' and '~' anywhere on the path (every name on it is in a member's groups claim)"},
]))]
pub struct Parameters {
    /// The group's name (1 to 255 characters, no '/', '#', '?', '%' or ':', not '.', '..'
    /// or '~': OpenShift refuses those). Names the platform owns are
    /// refused: the realm's administrators' group (`keycloak.adminGroup`, by default
    /// `org-admins`) and the Project
    /// composition's `<project>-admin`, `-edit` and `-view`. It cannot change.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self == oldSelf", "message": "the group name is immutable: create a new Group"},
        {"rule": "!(self in ['.', '..', '~'])", "message": "OpenShift refuses the group names '.', '..' and '~', and its OAuth server then refuses the login of every member: choose another name"},
    ]))]
    pub name: String,
    /// The group's full path in the realm, ending with its name: `/engineering` (the
    /// default, a top-level group) or `/teams/engineering` (a subgroup of `/teams`). The
    /// parent must exist already, as another Group in this namespace: the group waits for it.
    /// It cannot change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1024), pattern(PATH_PATTERN))]
    pub path: Option<String>,
    /// Usernames of the members: exactly these users are in the group, anyone added another
    /// way is removed. Lower-cased, as Keycloak stores usernames. A user the realm does not
    /// know is named in the status and the `ResourcesReady` condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 1000),
        inner(length(min = 3, max = 255), pattern(USERNAME_REF_PATTERN))
    )]
    pub members: Vec<String>,
    /// Attributes of the group: names (1 to 255 characters) to lists of values (each value at
    /// most 255 characters, without `##`, which Keycloak's provider uses to join them, and not
    /// ending in `#` unless it is the last).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend(
        "additionalProperties" = {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 255}},
        // Structural schemas cannot bound a map's keys; a rule over each key is within the
        // API server's cost budget (tests/transitions.rs asks it).
        "x-kubernetes-validations" = [{
            "rule": "self.all(k, size(k) >= 1 && size(k) <= 255)",
            "message": "attribute names are 1 to 255 characters: Keycloak keeps no longer ones"
        }]
    ))]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Observed state of a Group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    /// The organisation whose realm holds the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The group in Keycloak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupState>,
    /// Its members in Keycloak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships: Option<MembershipsState>,
    /// Whether every composed resource is ready.
    #[serde(default)]
    pub all_resources_ready: bool,
}

/// The group as Keycloak reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    /// Keycloak's ID of the group, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The group's name.
    pub name: String,
    /// Its full path in the realm.
    pub path: String,
    /// Whether Keycloak has the group (it reported an ID).
    #[serde(default)]
    pub created: bool,
    /// Whether the group is ready (the managed resource is `Ready`).
    #[serde(default)]
    pub ready: bool,
}

/// The group's members as Keycloak reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipsState {
    /// The usernames Keycloak has in the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Usernames of `members` not in the group yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    /// The member Keycloak refused because the realm has no such user (Keycloak's provider
    /// stops at the first, so the next one shows once this one is fixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_member: Option<String>,
    /// Whether the memberships are ready.
    #[serde(default)]
    pub ready: bool,
}
