//! Group: a group of an organisation's Keycloak realm, its members and attributes. One
//! namespaced `iam.cloud.stakater.com/v1` `Group` XR (synced from the organisation's KCP
//! workspace by api-syncagent) becomes a provider-keycloak `Group` in the realm `<org>`,
//! nested under its parent, and an authoritative `Memberships` for its members.
//!
//! | XR field (`spec.parameters.`) | Resources (composition resource name) |
//! |---|---|
//! | `name`, `path`, `attributes` | `group` (`group.keycloak.m.crossplane.io` `Group` `<org>-group-<path>-<hash>`, with `parentIdRef` to the parent's `Group` for a subgroup) |
//! | `members` | `memberships` (`Memberships` `<group object>-members`, by username) |
//! | (deletion order) | `usage-group-by-memberships`, and for a subgroup `usage-parent-by-group` (namespaced `Usage`s) |
//!
//! The organisation is resolved as [`crate::compositions::iam`] describes (until Crossplane
//! has fetched the namespace, without the annotation: `WaitingForNamespace`), and nothing is
//! composed until its realm exists (`WaitingForOrganisation`).
//!
//! Choices, and what they rest on:
//! - **`path` is the group's own full path**, as Keycloak's group representation has it
//!   (`/teams/engineering` for the group `engineering` under `teams`), so it must end with
//!   `/<name>`; it defaults to `/<name>`, a top-level group. The Terraform provider creates a
//!   subgroup under its parent's ID (`POST /realms/<realm>/groups/<parent>/children`,
//!   `keycloak/group.go` `NewGroup`) and `parent_id` is `ForceNew`
//!   (`provider/resource_keycloak_group.go`), so the path is immutable.
//! - **Parents must exist; they are not composed.** The parent is another IAM Group in the
//!   same namespace: its `Group` managed resource is named from its path
//!   ([`names::group`]), so a subgroup fetches it by name as a required resource and
//!   refers to it with `parentIdRef` (provider-keycloak resolves `parent_id` from a
//!   `keycloak_group`, `config/group/config.go`). Until it exists the subgroup waits
//!   (`WaitingForParentGroup`, naming the path to create). Composing the parents instead
//!   would have two Groups (`/teams/a`, `/teams/b`) each own `/teams`: deleting either would
//!   delete the other's parent, and Keycloak deletes subgroups with their parent. A Usage
//!   keeps the parent until its subgroups are gone.
//! - **Names OpenShift refuses are refused**: with `:`, or `.`, `..` and `~`. The OAuth server
//!   of each of the organisation's OpenShift clusters makes a Group for every name in a
//!   member's `groups` claim and refuses the login when it cannot
//!   (`openshift/oauth-server` `pkg/groupmapper/groupmapper.go`; `ValidateGroupName` in
//!   `openshift/oauth-apiserver`), so one such group would lock its members out of them all.
//!   Groups made in Keycloak by hand are not checked.
//! - **Names the platform owns are refused** (Fatal naming `spec.parameters.name` and the
//!   owning composition): the realm's administrators' group (`keycloak.adminGroup`,
//!   `org-admins`, the Organisation composition's) and every name of the Project
//!   composition's form `<project>-admin|edit|view` (a DNS label and a role; refused whether
//!   or not such a project exists yet, so that a later Project never finds its group taken,
//!   and compared case-insensitively). At the top level provider-keycloak would adopt the
//!   platform's group by realm, name and parent (`config/group/config.go`,
//!   `groupIdentifyingPropertiesLookup`), and a second
//!   authoritative `Memberships` would empty it; at any depth, because the realm's `groups`
//!   claim carries group names, not paths (the Organisation's mappers set `fullPath:
//!   false`), so a subgroup `/teams/shop-admin` would be granted what KCP and the service
//!   cluster bind to `shop-admin`.
//! - **Memberships are authoritative**: the Terraform provider's update removes every member
//!   not listed and adds the rest (`provider/resource_keycloak_group_memberships.go`), and
//!   refuses usernames that are not lower case (`keycloak/group.go`
//!   `ValidateGroupMembers`), so members are lower-cased and de-duplicated. A member may be
//!   a user made elsewhere, so any username Keycloak's default user profile holds is taken
//!   ([`check_username`]); the realm decides whether it exists. With no members
//!   no `Memberships` is composed: emptying `members` deletes it, which removes the members
//!   its last read found (the provider's delete removes `members` as read back, so anyone
//!   added by hand since is removed too); members added by hand to a group that never listed
//!   any are left alone.
//! - **Unknown members**: on an unknown username the provider stops with `user with
//!   username <name> does not exist` (`keycloak/user.go` `AddUsersToGroup`), reported as
//!   `Synced=False`; [`keycloak::ObservedMemberships`] reads it back, and the status
//!   (`memberships.unknownMember`) and the `ResourcesReady` condition (`UnknownMembers`)
//!   name the user instead of a silent failure.
//! - **Attributes** are a map of string lists; provider-keycloak's `attributes` is a map of
//!   strings, several values joined by `##` (`MULTIVALUE_ATTRIBUTE_SEPARATOR` in
//!   `provider/resource_keycloak_user.go`, split in `mapFromDataToGroup`), each value at
//!   most 255 characters (the CRD's description). So a value containing `##`, longer than
//!   255 characters, or an empty list is refused.
//!
//! Status: `status.organisation`, `status.group.{id, name, path, created, ready}` (from the
//! observed `status.atProvider`), `status.memberships.{members, pending, unknownMember,
//! ready}`, `status.allResourcesReady`.

pub mod names;
pub mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{Organisation, require_realm, resolve_organisation};
use crate::compositions::build::Build;
use crate::compositions::conventions::XrIdentity;
use crate::compositions::platform::Platform;
use crate::compositions::types::{check_username, quoted};
use crate::compositions::{Composition, Context, FieldError, Invalid};
use crate::resources::keycloak::{self, Managed, ObservedMemberships, RealmId};
use crate::resources::usage::Usage;
use crate::resources::{Known, Labels, ProviderConfig, Reference, meta};
use crate::sdk::response::{Match, Requirement};
use spec::{GroupState, GroupStatus, MembershipsState};

pub use settings::Settings;

/// The separator of several values of one attribute in provider-keycloak's `attributes`.
const MULTIVALUE_SEPARATOR: &str = "##";
/// The longest attribute value Keycloak keeps.
const VALUE_MAX: usize = 255;
/// The Project composition's role suffixes of its `<project>-<role>` groups.
const PROJECT_ROLES: [&str; 3] = ["admin", "edit", "view"];

/// The Group composition.
pub struct Group;

/// Which status flag a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// `group.ready`.
    Group,
    /// `memberships.ready`.
    Memberships,
    /// Usages, which count towards `allResourcesReady` only.
    DeletionOrder,
}

impl Composition for Group {
    const NAME: &'static str = "Group";
    const API_VERSION: &'static str = "iam.cloud.stakater.com/v1";
    const KIND: &'static str = "Group";
    const SETTINGS_KEY: &'static str = "group";
    type Xr = spec::Group;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = ValidGroup<'a>;
    type Status = GroupStatus;

    fn validate<'a>(
        xr: &'a spec::Group,
        cx: Context<'a, Settings>,
    ) -> Result<ValidGroup<'a>, Invalid> {
        validate(xr, cx)
    }

    fn compose(group: &ValidGroup<'_>, build: &mut Build<'_, Part>) {
        group.compose(build);
    }

    fn status(group: &ValidGroup<'_>, build: &Build<'_, Part>) -> GroupStatus {
        group.status(build)
    }
}

/// A valid Group: its path, normalised members and attributes.
pub struct ValidGroup<'a> {
    params: &'a spec::Parameters,
    platform: &'a Platform,
    namespace: String,
    org: Organisation,
    identity: XrIdentity,
    /// The full path (`/teams/engineering`).
    path: String,
    /// The parent's path, for a subgroup (`/teams`).
    parent: Option<String>,
    /// Lower-cased usernames, sorted, unique.
    members: Vec<String>,
    /// Attributes as provider-keycloak takes them.
    attributes: BTreeMap<String, String>,
}

/// Checks every rule, collecting every bad field.
fn validate<'a>(xr: &'a spec::Group, cx: Context<'a, Settings>) -> Result<ValidGroup<'a>, Invalid> {
    let params = &xr.spec.parameters;
    let mut errors = Vec::new();
    let mut fail = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        });
    };
    let name = params.name.as_str();
    let name_ok = match check_group_name(name) {
        Ok(()) => true,
        Err(e) => {
            fail("spec.parameters.name", e);
            false
        }
    };
    let path = params.path.clone().unwrap_or_else(|| format!("/{name}"));
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
    let mut parent = None;
    if params.path.is_none() && !name_ok {
        // The default path is made of the name, which is already refused.
    } else if !path.starts_with('/') {
        fail(
            "spec.parameters.path",
            format!(
                "{} is not a group path: write '/' and group names, each 1 to 255 characters without '/' or surrounding whitespace (/teams/{name})",
                quoted(&path)
            ),
        );
    } else if let Some(e) = segments.iter().find_map(|s| check_group_name(s).err()) {
        fail(
            "spec.parameters.path",
            format!("{} is not a group path: {e}", quoted(&path)),
        );
    } else if segments.last() != Some(&name) {
        fail(
            "spec.parameters.path",
            format!(
                "{} does not end with the group's name: the path is the group's own full path, /{name} for a top-level group or /<parent>/{name} for a subgroup",
                quoted(&path)
            ),
        );
    } else if segments.len() > 1 {
        parent = Some(format!("/{}", segments[..segments.len() - 1].join("/")));
    }
    // At any depth: the realm's `groups` claim carries names, not paths
    // (`fullPath: false` on the Organisation's mappers), so a subgroup `shop-admin` would get
    // the shop project's admin bindings.
    if name_ok && let Some(owner) = platform_owner(name, cx.platform) {
        fail("spec.parameters.name", owner);
    }

    let mut members = BTreeSet::new();
    for (i, member) in params.members.iter().enumerate() {
        let member = member.to_lowercase();
        match check_username(&member) {
            Ok(()) => {
                members.insert(member);
            }
            Err(e) => fail(&format!("spec.parameters.members[{i}]"), e),
        }
    }

    let mut attributes = BTreeMap::new();
    for (key, values) in &params.attributes {
        if key.chars().count() > VALUE_MAX {
            // Its path would quote the whole name: name the map and quote the start instead.
            fail(
                "spec.parameters.attributes",
                format!(
                    "the attribute name {} is too long: use 1 to 255 characters without control characters",
                    quoted(key)
                ),
            );
            continue;
        }
        let at = format!("spec.parameters.attributes[{key}]");
        if key.is_empty() || key.chars().any(char::is_control) {
            fail(
                &at,
                format!(
                    "{} is not an attribute name: use 1 to 255 characters without control characters",
                    quoted(key)
                ),
            );
            continue;
        }
        if values.is_empty() {
            fail(
                &at,
                "has no values: give at least one, or remove the attribute".into(),
            );
            continue;
        }
        let mut ok = true;
        for (j, value) in values.iter().enumerate() {
            // The Terraform provider splits the joined string at each `##` from the left
            // (`strings.Split`): a value ending in `#` that another follows would lose that
            // `#` to the next one (["a#", "b"] reads back as ["a", "#b"]).
            if j + 1 < values.len() && value.ends_with('#') {
                fail(
                    &format!("{at}[{j}]"),
                    format!(
                        "{} ends in '#' and another value follows: the provider joins values with {MULTIVALUE_SEPARATOR:?} and would split this one a character early; move it last or drop the trailing '#'",
                        quoted(value)
                    ),
                );
                ok = false;
            } else if value.contains(MULTIVALUE_SEPARATOR)
                || value.chars().count() > VALUE_MAX
                || value.chars().any(char::is_control)
            {
                fail(
                    &format!("{at}[{j}]"),
                    format!(
                        "{} is not an attribute value Keycloak keeps: use at most {VALUE_MAX} characters, no control characters and no {MULTIVALUE_SEPARATOR:?} (the provider's separator of values)",
                        quoted(value)
                    ),
                );
                ok = false;
            }
        }
        if ok {
            attributes.insert(key.clone(), values.join(MULTIVALUE_SEPARATOR));
        }
    }

    let identity = XrIdentity::of::<Group>(&xr.metadata);
    let namespace = identity.scope.namespace().unwrap_or_default().to_owned();
    let org = resolve_organisation(
        xr.metadata.annotations.as_ref(),
        &namespace,
        &cx.platform.kcp.root_workspace,
        cx.observed,
    );
    let org = match org {
        Ok(org) => Some(org),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match org {
        Some(org) if errors.is_empty() => Ok(ValidGroup {
            params,
            platform: cx.platform,
            namespace,
            org,
            identity,
            path,
            parent,
            members: members.into_iter().collect(),
            attributes,
        }),
        _ => Err(Invalid(errors)),
    }
}

/// A Keycloak group name: 1 to 255 characters, no `/` (Keycloak's path separator), no `#`,
/// `?` or `%` (the Terraform provider finds a subgroup's parent at
/// `/group-by-path/<path>` without escaping it, `keycloak/group.go` `groupParentId`: `?` and
/// `#` cut the URL short, `%` makes it invalid, so a subgroup of such a group would never be
/// created), no control characters or surrounding whitespace, no `system:` prefix (which
/// Kubernetes reserves for the RBAC subjects the name becomes).
fn check_group_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.chars().count() > VALUE_MAX
        || name.contains(['/', '#', '?', '%'])
        || name.chars().any(char::is_control)
        || name.trim() != name
    {
        return Err(format!(
            "{} is not a Keycloak group name: use 1 to 255 characters without '/', '#', '?', '%' or surrounding whitespace",
            quoted(name)
        ));
    }
    if name.starts_with("system:") {
        return Err(format!(
            "{} starts with system:, which Kubernetes reserves",
            quoted(name)
        ));
    }
    // The OAuth server of every OpenShift cluster of the organisation makes a Group for each
    // name in a member's `groups` claim, and refuses the login when it cannot
    // (`openshift/oauth-server` `pkg/groupmapper/groupmapper.go`); OpenShift's group names
    // are path segments without ':' and not '~' (`openshift/oauth-apiserver`
    // `pkg/user/apis/user/validation/validation.go` `ValidateGroupName`).
    if name.contains(':') || matches!(name, "." | ".." | "~") {
        return Err(format!(
            "{} is not a group name OpenShift accepts (no ':', not '.', '..' or '~'): its clusters would refuse the login of every member; choose another name",
            quoted(name)
        ));
    }
    Ok(())
}

/// Which composition owns the group name `name` (at any depth), as the refusal's message.
fn platform_owner(name: &str, platform: &Platform) -> Option<String> {
    let lower = name.to_lowercase();
    if lower == platform.keycloak.admin_group.to_lowercase() {
        return Some(format!(
            "{} is the realm's administrators' group, which the Organisation composition owns (keycloak.adminGroup; refused as a subgroup too, as tokens carry group names, not paths): choose another name; the first administrator is set in the Organisation, further administrators by the platform team",
            quoted(name)
        ));
    }
    for role in PROJECT_ROLES {
        let project = lower
            .strip_suffix(role)
            .and_then(|rest| rest.strip_suffix('-'))
            .filter(|p| crate::sdk::resource::is_dns_label(p));
        if let Some(project) = project {
            return Some(format!(
                "{} has the form <project>-{role}, which the Project composition owns (the Keycloak group of project {project:?}'s role {role}; refused as a subgroup too, as tokens carry group names, not paths): choose another name, and grant access to a project through its spec.parameters.access[]",
                quoted(name)
            ));
        }
    }
    None
}

/// The parts of an observed provider-keycloak `Group` the status reads.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedGroup {
    status: Option<ObservedGroupStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedGroupStatus {
    at_provider: Option<GroupAtProvider>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct GroupAtProvider {
    id: Option<String>,
    path: Option<String>,
}

impl ValidGroup<'_> {
    fn keycloak_config(&self) -> ProviderConfig {
        ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone())
    }

    fn labels(&self, org: &str) -> Labels {
        self.identity.labels(Some(org), None)
    }

    fn compose(&self, build: &mut Build<'_, Part>) {
        let Some(org) = self.org.require(build, &self.namespace) else {
            return;
        };
        if !require_realm(build, org, names::GROUP) {
            return;
        }
        let labels = self.labels(org);
        let ns = Some(self.namespace.as_str());
        let parent = self.parent.as_deref().map(|parent| {
            let name = names::group(org, parent);
            build.require(
                names::PARENT_REQUIREMENT,
                Requirement {
                    api_version: keycloak::GROUP_NAMESPACED_API_VERSION.into(),
                    kind: <keycloak::GroupParameters as keycloak::Parameters>::KIND.into(),
                    matching: Match::Name(name.clone()),
                    namespace: Some(self.namespace.clone()),
                },
            );
            (parent, name)
        });
        if let Some((parent, parent_name)) = &parent {
            let found = build.required(names::PARENT_REQUIREMENT);
            if !build.exists(names::GROUP) && found.is_none_or(|f| f.is_empty()) {
                let message = if found.is_none() {
                    format!(
                        "Crossplane has not fetched the parent group {parent} ({parent_name}) yet"
                    )
                } else {
                    format!(
                        "the parent group {parent} does not exist in namespace {}: create a Group with path {parent} first (parents are not created for their subgroups)",
                        self.namespace
                    )
                };
                build.wait("WaitingForParentGroup", message);
                return;
            }
        }

        let group_name = names::group(org, &self.path);
        let group = Managed::new(
            meta(&group_name, ns, &labels),
            keycloak::GroupParameters {
                realm: RealmId::existing(org),
                name: self.params.name.clone(),
                parent_id_ref: parent.as_ref().map(|(_, name)| Reference::to(name.clone())),
                attributes: self.attributes.clone(),
            },
            &self.keycloak_config(),
        );
        build.add_keycloak(names::GROUP, Part::Group, &group);
        if let Some((_, parent_name)) = &parent {
            let parent = Known {
                api_version: keycloak::GROUP_NAMESPACED_API_VERSION,
                kind: <keycloak::GroupParameters as keycloak::Parameters>::KIND,
                metadata: meta(parent_name, ns, &labels),
            };
            let usage = Usage::new(
                meta(&names::usage(org, &self.path, "parent"), ns, &labels),
                &parent,
                &group,
            );
            build.add_managed(names::USAGE_PARENT_BY_GROUP, Part::DeletionOrder, &usage);
        }

        if self.members.is_empty() {
            return;
        }
        let memberships = Managed::new(
            meta(&names::memberships(org, &self.path), ns, &labels),
            keycloak::MembershipsParameters {
                realm: RealmId::existing(org),
                group_id_ref: Reference::to(group_name),
                members: self.members.clone(),
            },
            &self.keycloak_config(),
        );
        build.add_keycloak(names::MEMBERSHIPS, Part::Memberships, &memberships);
        build.usage(
            names::USAGE_GROUP_BY_MEMBERSHIPS,
            Part::DeletionOrder,
            meta(&names::usage(org, &self.path, "by-members"), ns, &labels),
            &group,
            &memberships,
        );
        let observed = build.read::<ObservedMemberships>(names::MEMBERSHIPS);
        if let Some(unknown) = observed
            .as_ref()
            .and_then(ObservedMemberships::unknown_member)
        {
            build.wait(
                "UnknownMembers",
                format!(
                    "Keycloak has no user {unknown:?} in realm {org}: create the User or remove {unknown:?} from spec.parameters.members"
                ),
            );
        }
    }

    fn status(&self, build: &Build<'_, Part>) -> GroupStatus {
        let Some(org) = self.org.name() else {
            return GroupStatus::default();
        };
        let observed = build
            .read::<ObservedGroup>(names::GROUP)
            .and_then(|g| g.status?.at_provider)
            .unwrap_or_default();
        let id = observed.id.filter(|id| !id.is_empty());
        let memberships = (!self.members.is_empty()).then(|| {
            let observed = build
                .read::<ObservedMemberships>(names::MEMBERSHIPS)
                .unwrap_or_default();
            MembershipsState {
                members: observed.members().to_vec(),
                pending: observed
                    .missing(&self.members)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                unknown_member: observed.unknown_member().map(str::to_owned),
                ready: build.part_ready(Part::Memberships),
            }
        });
        GroupStatus {
            organisation: Some(org.to_owned()),
            group: Some(GroupState {
                created: id.is_some(),
                id,
                name: self.params.name.clone(),
                path: observed
                    .path
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| self.path.clone()),
                ready: build.part_ready(Part::Group),
            }),
            memberships,
            all_resources_ready: build.all_ready(),
        }
    }
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::readers::reader;
    vec![reader::<ObservedGroup>(
        keycloak::GROUP_NAMESPACED_API_VERSION,
        "Group",
    )]
}
