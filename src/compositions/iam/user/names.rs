//! Names of the User's composed resources and objects.
//!
//! Composition resource names are stable: Crossplane matches desired to observed resources
//! by them, so renaming one deletes and recreates the resource.

use crate::compositions::iam;

/// The Keycloak User.
pub const USER: &str = "user";
/// The Secret with the user's initial password.
pub const INITIAL_PASSWORD: &str = "initial-password";

/// The User managed resource's name: `<org>-user-<username>-<hash>`.
pub fn user(org: &str, username: &str) -> String {
    iam::object_name(org, "user", username)
}

/// The initial password Secret's name: `<user object>-initial-password`.
pub fn initial_password(org: &str, username: &str) -> String {
    format!("{}-initial-password", user(org, username))
}
