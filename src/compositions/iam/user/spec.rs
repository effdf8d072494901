//! The IAM User XR (`iam.cloud.stakater.com/v1` `User`, namespaced): the source of its XRD
//! schema, and its status.
//!
//! The parameters are plain strings with the schema's lengths and patterns, so that the API
//! server refuses most bad values, and [`super::User`]'s validation names every remaining bad
//! field at once.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::types::{EMAIL_PATTERN, PERSON_NAME_PATTERN};

/// Schema pattern of a username: the characters named below, in either case (the function
/// lower-cases it and checks Keycloak's rules).
const USERNAME_PATTERN: &str = r"^[A-Za-z0-9+._@-]+$";

/// Spec of a User: a person in the organisation's Keycloak realm.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "iam.cloud.stakater.com",
    version = "v1",
    kind = "User",
    namespaced,
    status = "UserStatus",
    category = "sco",
    doc = "A user of the organisation's Keycloak realm. They get a temporary initial password in a Secret beside this object, named in status.user.initialPasswordSecret; Keycloak asks for a new password at the first login.",
    printcolumn = r#"{"name": "USERNAME", "type": "string", "jsonPath": ".status.user.username"}"#,
    printcolumn = r#"{"name": "EMAIL", "type": "string", "jsonPath": ".status.user.email"}"#,
    printcolumn = r#"{"name": "ORGANISATION", "type": "string", "jsonPath": ".status.organisation", "priority": 1}"#
)]
pub struct UserSpec {
    /// Who the user is.
    pub parameters: Parameters,
}

/// The user's parameters (SCO's API reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// Username in the realm: 3 to 255 letters, digits, '.', '_', '-', '+' and '@' (a subset of
    /// what Keycloak's default user profile allows). Lower-cased, as Keycloak stores it (`Ada.Lovelace`
    /// becomes `ada.lovelace`); group members name the user this way. It cannot change.
    #[schemars(length(min = 3, max = 255), pattern(USERNAME_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self.lowerAscii() == oldSelf.lowerAscii()", "message": "the username is immutable (but for its case, which Keycloak ignores): the provider cannot rename a user; create a new User"}]))]
    pub username: String,
    /// Email address. Lower-cased, as Keycloak stores it.
    #[schemars(length(min = 3, max = 254), pattern(EMAIL_PATTERN))]
    pub email: String,
    /// First name (none of the characters Keycloak refuses in a name:
    /// `<>&"$%!#?§;*~/\|^=[]{}()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255), pattern(PERSON_NAME_PATTERN))]
    pub first_name: Option<String>,
    /// Last name (as the first name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255), pattern(PERSON_NAME_PATTERN))]
    pub last_name: Option<String>,
    /// Whether the email address counts as verified. True keeps it verified; false (the
    /// default) creates the user unverified and leaves verification to Keycloak afterwards
    /// (with mail, the user verifies at the first login).
    #[serde(default)]
    pub email_verified: bool,
    /// Whether the user may log in. Set to false to lock the user out without deleting them.
    #[serde(default = "enabled_by_default")]
    #[schemars(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Observed state of a User.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserStatus {
    /// The organisation whose realm holds the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The user in Keycloak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserState>,
    /// Whether every composed resource is ready.
    #[serde(default)]
    pub all_resources_ready: bool,
}

/// The user as Keycloak reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserState {
    /// Keycloak's ID of the user, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The username (lower case).
    pub username: String,
    /// The email address (lower case).
    pub email: String,
    /// Whether Keycloak has the user (it reported an ID).
    #[serde(default)]
    pub created: bool,
    /// Whether the user is ready (the managed resource is `Ready`).
    #[serde(default)]
    pub ready: bool,
    /// The Secret key, in this object's namespace, holding the initial (temporary) password,
    /// once the Secret exists. Never the password itself: the status is readable by everyone
    /// who may read Users, and is synced back to the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password_secret: Option<SecretKeyRef>,
}

/// A key of a Secret in the XR's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in its data.
    pub key: String,
}
