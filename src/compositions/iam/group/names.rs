//! Names of the Group's composed resources, objects and requirements.
//!
//! Composition resource names are stable: Crossplane matches desired to observed resources
//! by them, so renaming one deletes and recreates the resource.

use crate::compositions::iam;

/// The Keycloak Group.
pub const GROUP: &str = "group";
/// The group's Keycloak Memberships.
pub const MEMBERSHIPS: &str = "memberships";
/// Usage: the group outlives its memberships.
pub const USAGE_GROUP_BY_MEMBERSHIPS: &str = "usage-group-by-memberships";
/// Usage: the parent group outlives this subgroup.
pub const USAGE_PARENT_BY_GROUP: &str = "usage-parent-by-group";
/// Requirement: the parent's Keycloak Group managed resource.
pub const PARENT_REQUIREMENT: &str = "parent-group";

/// The Group managed resource's name for the group at `path`: `<org>-group-<path>-<hash>`.
/// A subgroup finds its parent's by the parent's path.
pub fn group(org: &str, path: &str) -> String {
    iam::object_name(org, "group", path)
}

/// The Memberships managed resource's name.
pub fn memberships(org: &str, path: &str) -> String {
    format!("{}-members", group(org, path))
}

/// The name of a Usage of this group's, `<group object>-<what>`.
pub fn usage(org: &str, path: &str, what: &str) -> String {
    format!("{}-{what}", group(org, path))
}
