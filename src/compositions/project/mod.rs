//! Project: where an organisation's teams work. One `Project` claim (backed by the
//! cluster-scoped `tenant.cloud.stakater.com/v1` `XProject`) becomes a KCP workspace inside the
//! organisation's workspace with every published API bound and RBAC for its members, Keycloak
//! groups `<project>-<role>` in the organisation's realm, an MTO Quota and Tenant with one
//! service namespace `ws-<project>-<suffix>` per published API, an optional primary
//! ClusterUserDefinedNetwork, and the Usages that order their deletion.
//!
//! | XR field (`spec.parameters.`) | Resources (composition resource name) |
//! |---|---|
//! | `name`, `organisation` | `workspace` (Object → KCP `Workspace` `<name>` in `root:<org>`, through the organisation's ProviderConfig `kcp-<org>`); `kubeconfig` (Secret) and `provider-config` (ProviderConfig `kcp-<org>-<name>`) for it, by the shared [`crate::compositions::kcp`] code; `apibinding-<suffix>` (Object → `APIBinding` per published API); `role-{admin,edit,view}` (Objects → ClusterRoles `sco-project-<role>`) |
//! | `access[]` | `binding-<role>` (Objects → ClusterRoleBindings), `binding-access` (→ `system:kcp:workspace:access`), `group-<role>` (Keycloak Group `<name>-<role>`), `members-<role>` (Keycloak Memberships, for a role with users), the Tenant's access control |
//! | `tenantQuota` | `quota` (Object → MTO `Quota` `<org>-<name>` from the platform profile) |
//! | `network` | `network` (Object → `ClusterUserDefinedNetwork` `<org>-<name>`), the namespaces' primary-network label |
//! | (always) | `tenant` (Object → MTO `Tenant` `<org>-<name>`, namespaces `ws-<name>-<suffix>`) |
//! | (deletion order) | `usage-*` (ClusterUsages, below), `usage-organisation-by-workspace` (the Organisation composite outlives the workspace) |
//!
//! **The XRD.** Crossplane v2 XRDs (`apiextensions.crossplane.io/v2`) refuse `claimNames`
//! (CEL: "Claims aren't supported in apiextensions.crossplane.io/v2"), and only `LegacyCluster`
//! XRs can be claimed, so the Project XRD is an `apiextensions.crossplane.io/v1` XRD with
//! `scope: LegacyCluster` and `claimNames {kind: Project, plural: projects}` (in the `sco` category)
//! ([`xrd::definition_with_claim`]). Crossplane copies the claim's annotations to the XR.
//!
//! **The organisation** is `spec.parameters.organisation`, else the api-syncagent annotation
//! `syncagent.kcp.io/remote-object-workspace-path` (`root:<org>`, present only when the
//! PublishedResource sets `enableWorkspacePaths: true`), else a Fatal. A path deeper than
//! `<root>:<org>` (a Project created inside a project workspace) is refused, and so is a
//! parameter that names another organisation than the annotation: a Project synced from one
//! organisation's workspace must not create a project in another.
//!
//! **Names are platform-wide.** The namespaces `ws-<project>-<suffix>` are fetched as required
//! resources on every call; one that exists without `stakater.com/org: <org>`, or with
//! another project's `sco.stakater.com/project` (MTO gives a namespace to one Tenant: projects
//! `a` and `a-b` meet where suffixes `b-vms` and `vms` do), belongs to someone else, and the
//! XR is refused (Fatal, naming `spec.parameters.name`); one this project's Tenant reports
//! deployed is its own, whatever its labels. Until
//! Crossplane has fetched them, nothing is composed on the service cluster
//! (`WaitingForNamespaceCheck`). The Tenant, Quota, network and managed resources are named
//! `<org>-<project>[-...]`, which cannot clash.
//!
//! **Order** (each step waits with a reason and the platform's short TTL):
//! 1. the workspace waits for the organisation's ProviderConfig `kcp-<org>` (fetched as a
//!    required resource: `WaitingForOrganisation`); its type is the organisation's project
//!    workspace type (`{name: tokenValidation.projectWorkspaceType, path: root:<org>}`) when
//!    token validation is on, else `project.workspaceType`; the observed type is kept, as
//!    `spec.type` is immutable;
//! 2. the kubeconfig Secret and ProviderConfig once the workspace is `Ready` with a URL;
//! 3. APIBindings and RBAC through that ProviderConfig once it exists
//!    (`WaitingForProviderConfig`). A new binding waits for MTO to report its API's namespace
//!    deployed (`WaitingForNamespaces`): once bound, consumers create objects api-syncagent
//!    syncs into it, and it creates a missing namespace bare (`kcp-dev/api-syncagent`
//!    `internal/sync/object_syncer.go` `ensureNamespace`), without the project's labels and
//!    so off its network for good. A binding is first created without claims; KCP copies the
//!    export's claims into `status.exportPermissionClaims`, and the next render accepts those
//!    on `project.acceptedClaims` (and claims on another published API's group) with
//!    `apis.kcp.io/v1alpha2`'s shape (group, resource, identityHash, verbs, selector from the
//!    export's `defaultSelector` else `matchAll`, then kept as the binding holds it, since
//!    kcp makes it immutable; `state: Accepted`) and rejects the rest;
//!    the binding is ready when `Bound`; an existing binding keeps the export it references
//!    (kcp: "APIExport reference must not be changed"), so a moved export reaches new
//!    projects only;
//! 4. Keycloak groups and memberships, and on the service cluster the Quota, the network and
//!    the Tenant, independently of the workspace.
//!
//! **Workspace RBAC.** A new kcp workspace binds only its creator: the logicalcluster
//! reconciler creates one ClusterRoleBinding `workspace-admin` → `cluster-admin` for the user
//! in `experimental.tenancy.kcp.io/owner` (kcp `pkg/reconciler/tenancy/logicalcluster/
//! logicalcluster_controller.go`), here the org provider config's identity (none when that
//! identity is in `system:masters`, for which kcp sets no owner). kcp's workspace
//! content authorizer lets a subject in only with verb `access` on `/`, which the bootstrap
//! ClusterRole `system:kcp:workspace:access` grants (kcp `pkg/authorization/bootstrap/
//! policy.go`; docs `concepts/authorization`). Kubernetes' `admin`/`edit`/`view` come from the
//! bootstrap policy, whose aggregation never sees bound APIs (an APIBinding installs no
//! ClusterRoles). So the composition writes `sco-project-{admin,edit,view}` with explicit rules
//! for the built-in kinds and every bound API group ([`rbac::ProjectRole`]), binds them to
//! `access[]` (KCP's OIDC prefixes `tokenValidation.usernamePrefix`/`groupsPrefix`) and the
//! Keycloak project groups, binds the realm's admin group (`keycloak.adminGroup`) as admin
//! only where token validation is on (otherwise the group name means no particular realm),
//! and binds every subject to `system:kcp:workspace:access`. The identity behind the project's
//! provider config (the KCP admin kubeconfig's) needs `bind` on each APIExport.
//!
//! **Keycloak groups** `<project>-<role>` are created in the organisation's realm; a group
//! of that name made there by hand before the project exists is adopted (provider-keycloak
//! finds a `Group` by realm and name: `config/group/config.go`): its members are then the
//! role's `users` and it is deleted with the project. IAM Groups cannot take those names.
//!
//! **Service cluster.** The Quota is the profile's `spec.resourcequota.hard` (and LimitRange
//! where the profile has one). The Tenant (`v1beta3`) references it, lists the namespaces in
//! `spec.namespaces.withoutTenantPrefix` with common labels `stakater.com/tenant: <Tenant>`
//! (MTO's own label, whose value MTO reads as the Tenant's name: `<org>-<project>`, not the
//! project, which issue 14 and seed 004 put there; see [`conventions::LABEL_TENANT`]),
//! `sco.stakater.com/project: <project>`, `stakater.com/org: <org>` and, with a network,
//! `k8s.ovn.org/primary-user-defined-network`,
//! purges them on deletion, and grants owners/editors/viewers to `access[]` and the project
//! groups (prefixes `project.serviceClusterPrefixes`; the per-realm admin group is left out:
//! its name is the same in every realm). Every role and list of the access control is
//! written, empty ones too, and so are an APIBinding's claims: provider-kubernetes applies
//! Objects as JSON merge patches unless it runs with server-side apply, and a merge patch
//! keeps what it does not name, so a user removed from `access[]` would otherwise keep their
//! access ([`mto::AccessControl`]). The network (Layer2, Primary, persistent IPAM)
//! selects exactly the project's namespaces by name and is ready once its `NetworkCreated`
//! condition lists every one of them ([`ovn`]: OVN reports it `True` over none before MTO
//! creates them). Adding, removing or changing `network` later is refused (the XRD's CEL and
//! the function: OVN reads the label at namespace creation only, and `layer2` is immutable).
//! So MTO must put the common labels into the namespace's CREATE (v1.5.1 and later, by its
//! release notes): OpenShift's `user-defined-networks-namespace-label` admission policy
//! refuses adding the label afterwards (cluster-network-operator `udn-admission-policy.yaml`).
//! A project namespace that exists without it (as Crossplane returns the required
//! namespaces) keeps the network unready, with a Warning naming it and the way out.
//! Where the profile constrains `limits.cpu` or `limits.memory`, each namespace that exists
//! also gets the ResourceQuota `sco-kubevirt-limits` with those two entries: on OpenShift MTO
//! enforces the Quota through a ClusterResourceQuota, which refuses every pod without limits,
//! and KubeVirt gives virt-launcher pods limits only when a namespaced quota asks for them,
//! while a VM of an instance type may not carry its own ([`ResourceQuota`]).
//!
//! **Deletion** (ClusterUsages, none replaying the deletion it blocked:
//! [`crate::resources::usage::Usage::new`]): the Tenant outlives every APIBinding
//! (deleting a binding makes kcp delete the bound objects, and api-syncagent's finalizer holds
//! them until the service-side copies are gone); the Quota and the network outlive the
//! Tenant; the workspace outlives the Tenant and every object inside it; the project
//! ProviderConfig outlives the workspace, and so every object reached through it (one Usage
//! rather than one per object: Crossplane holds each deletion until its user is gone, so the
//! order is transitive); its Secret outlives it; the organisation's ProviderConfig, its
//! workspace Object and its realm outlive the workspace (so an organisation is not torn down
//! under its projects: kcp deletes a workspace's child workspaces with it, and the realm holds
//! every account and group);
//! so does the Organisation composite itself, so that `kubectl delete` of it is refused while
//! the project exists and none of its clients, identity provider or groups go either. The
//! composite is found by the controller reference Crossplane sets on every resource it
//! composes (here the organisation's ProviderConfig, already required; crossplane
//! `RenderComposedResourceMetadata`), so an Organisation XR need not be named after its
//! organisation; once composed, the Usage keeps the name it holds. Without that controller
//! (an organisation onboarded another way) only the ProviderConfig is kept: the workspace
//! Object and realm would not exist, and a Usage of a missing object is never Ready. Each
//! Keycloak group outlives its memberships. The project's Secret is ordered by a namespaced
//! `Usage` in the platform's secret namespace.
//!
//! **Status**: `workspaceReady`, `tenantReady` (Quota, Tenant, the KubeVirt quotas and every
//! binding), `networksReady`, `namespacesReady` (MTO's `deployedNamespaces`),
//! `allResourcesReady`, `message`, and `workspace.{name, url, kubeconfigBase64}`: a consumer
//! kubeconfig (server, the CA `kcp.consumerCa` names, a `kubectl oidc-login` exec user
//! against `<keycloak>/realms/<org>` and the kubectl client) with no credential in it.

pub mod names;
pub mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::build::Build;
use super::conventions::{self, XrIdentity};
use super::kcp::{self as kcp_access, Access};
use super::platform::{ConsumerCaSource, Platform};
use super::types::{check_dns_label, check_username};
use super::{Composition, Context, FieldError, Invalid, organisation, setting_path, xrd};
use crate::resources::kcp::{
    self, AcceptablePermissionClaim, ClaimState, ExportReference, ObservedApiBinding,
    ObservedWorkspace, WorkspaceTypeReference,
};
use crate::resources::keycloak::{self, Managed, RealmId};
use crate::resources::kubeconfig::{
    Context as KubeContext, Kubeconfig, NamedCluster, NamedContext, NamedUser,
};
use crate::resources::mto;
use crate::resources::net::Cidr;
use crate::resources::ovn;
use crate::resources::provider_kubernetes::{self as pk, Object, Readiness};
use crate::resources::rbac::{self, ClusterRole, ClusterRoleBinding, Subject};
use crate::resources::resource_quota::ResourceQuota;
use crate::resources::usage::{ObservedUsage, Usage};
use crate::resources::{Known, Labels, Meta, ProviderConfig, Referable, Reference, meta};
use crate::sdk::response::{Match, Requirement};
use settings::{PublishedApi, QuotaProfile};
use spec::{ProjectStatus, WORKSPACE_PATH_ANNOTATION, WorkspaceStatus};

pub use settings::Settings;

/// Label recording the network's name on the ClusterUserDefinedNetwork.
pub const LABEL_NETWORK_NAME: &str = "sco.stakater.com/network-name";

/// The Project composition.
pub struct Project;

/// Which status flag a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// `workspaceReady`: the workspace and its provider config.
    Workspace,
    /// The APIBindings (part of `tenantReady`).
    Bindings,
    /// Workspace RBAC.
    Rbac,
    /// Keycloak groups and memberships.
    Identity,
    /// `tenantReady`: Quota and Tenant.
    Tenant,
    /// `networksReady`.
    Network,
    /// Usages.
    DeletionOrder,
}

/// A project role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Full control (`admin`, `cluster-admin`).
    Admin,
    /// Everything but RBAC.
    Edit,
    /// Read-only.
    View,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Edit, Role::View];

    /// The role's name in resource names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Edit => "edit",
            Self::View => "view",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" | "cluster-admin" => Some(Self::Admin),
            "edit" => Some(Self::Edit),
            "view" => Some(Self::View),
            _ => None,
        }
    }

    fn rbac(self) -> rbac::ProjectRole {
        match self {
            Self::Admin => rbac::ProjectRole::Admin,
            Self::Edit => rbac::ProjectRole::Edit,
            Self::View => rbac::ProjectRole::View,
        }
    }
}

/// Who has a role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// Usernames (sorted, unique).
    pub users: BTreeSet<String>,
    /// Group names (sorted, unique).
    pub groups: BTreeSet<String>,
}

impl Composition for Project {
    const NAME: &'static str = "Project";
    const API_VERSION: &'static str = "tenant.cloud.stakater.com/v1";
    const KIND: &'static str = "XProject";
    const SETTINGS_KEY: &'static str = "project";
    type Xr = spec::XProject;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = Proj<'a>;
    type Status = ProjectStatus;

    fn validate<'a>(
        xr: &'a spec::XProject,
        cx: Context<'a, Settings>,
    ) -> Result<Proj<'a>, Invalid> {
        validate(xr, cx)
    }

    fn compose(p: &Proj<'_>, build: &mut Build<'_, Part>) {
        p.compose(build);
    }

    fn status(p: &Proj<'_>, build: &Build<'_, Part>) -> ProjectStatus {
        p.status(build)
    }

    fn definition() -> Value {
        xrd::definition_with_claim::<spec::XProject>("Project", "projects")
    }
}

/// A valid Project: what it asks for, resolved against the settings.
pub struct Proj<'a> {
    platform: &'a Platform,
    settings: &'a Settings,
    project: &'a str,
    org: String,
    labels: Labels,
    /// `root:<org>`.
    org_path: String,
    /// `root:<org>:<project>`.
    path: String,
    /// `(published API, namespace, what Crossplane returned for it)`.
    namespaces: Vec<(&'a PublishedApi, String, Found)>,
    network: Option<(&'a str, Cidr)>,
    quota: &'a QuotaProfile,
    access: BTreeMap<Role, Members>,
    issuer: String,
    /// The observed Workspace and Tenant inside their Objects, read once: compose and status
    /// both need them.
    seen_workspace: ObservedWorkspace,
    seen_tenant: mto::ObservedTenant,
}

/// A project namespace as Crossplane returned it (the required resource the ownership check
/// asks for), read once for every use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Not fetched yet.
    NotFetched,
    /// Fetched, and there is none: MTO has not created it yet.
    Absent,
    /// It exists; `primary_udn`: it carries OVN's primary-network label.
    Present { primary_udn: bool },
}

/// Checks every rule, collecting every bad field.
fn validate<'a>(xr: &'a spec::XProject, cx: Context<'a, Settings>) -> Result<Proj<'a>, Invalid> {
    let (platform, settings) = (cx.platform, cx.settings);
    let params = &xr.spec.parameters;
    let mut errors = Vec::new();
    let mut fail = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        });
    };

    let project = params.name.as_str();
    let longest = settings.longest_suffix();
    if let Err(e) = check_dns_label(project) {
        fail("spec.parameters.name", e);
    } else if 3 + project.len() + 1 + longest > 63 {
        fail(
            "spec.parameters.name",
            format!(
                "{project:?} is too long: the namespaces ws-<name>-<suffix> must stay within 63 characters, so with the longest namespace suffix ({longest} characters) the name may have at most {} characters",
                63 - 4 - longest
            ),
        );
    }

    let root = platform.kcp.root_workspace.as_str();
    let annotation = xr
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(WORKSPACE_PATH_ANNOTATION));
    let from_annotation = annotation.map(|path| {
        path.strip_prefix(root)
            .and_then(|rest| rest.strip_prefix(':'))
            .filter(|org| check_dns_label(org).is_ok())
            .ok_or_else(|| {
                format!(
                    "{path:?} is not an organisation workspace ({root}:<organisation>): create Projects in an organisation's workspace"
                )
            })
    });
    let annotation_path = format!("metadata.annotations[{WORKSPACE_PATH_ANNOTATION}]");
    let org = match (&params.organisation, from_annotation) {
        (Some(org), Some(Ok(synced))) if org != synced => {
            fail(
                "spec.parameters.organisation",
                format!(
                    "{org:?} is not the organisation the Project was created in ({synced:?}, from the annotation {WORKSPACE_PATH_ANNOTATION}): remove it or set it to {synced:?}"
                ),
            );
            String::new()
        }
        (Some(org), _) => {
            if let Err(e) = check_dns_label(org) {
                fail("spec.parameters.organisation", e);
            }
            org.clone()
        }
        (None, Some(Ok(synced))) => synced.to_owned(),
        (None, Some(Err(e))) => {
            fail(&annotation_path, e);
            String::new()
        }
        (None, None) => {
            fail(
                "spec.parameters.organisation",
                format!(
                    "is not set and the XR has no annotation {WORKSPACE_PATH_ANNOTATION}: set spec.parameters.organisation to the organisation's name, or publish Projects with enableWorkspacePaths: true so that api-syncagent sets the annotation"
                ),
            );
            String::new()
        }
    };

    let network = params.network.as_ref().and_then(|n| {
        let path = "spec.parameters.network.cidr";
        if let Err(e) = check_dns_label(&n.name) {
            fail("spec.parameters.network.name", e);
        }
        match n.cidr.parse::<Cidr>() {
            Err(e) => {
                fail(path, format!("{e}; write a network address such as 10.100.0.0/16"));
                None
            }
            Ok(cidr) => {
                let overlapping = |networks: &[Cidr]| -> Vec<String> {
                    networks
                        .iter()
                        .filter(|c| c.overlaps(&cidr))
                        .map(ToString::to_string)
                        .collect()
                };
                let cluster = overlapping(&settings.cluster_networks);
                let internal = overlapping(&settings.ovn_internal_networks);
                if !cluster.is_empty() {
                    fail(
                        path,
                        format!(
                            "{cidr} overlaps the cluster's network {}: choose a range outside the pod and service networks",
                            cluster.join(", ")
                        ),
                    );
                    None
                } else if !internal.is_empty() {
                    fail(
                        path,
                        format!(
                            "{cidr} overlaps OVN-Kubernetes' internal network {}, which it refuses for a project network: choose another range, such as 10.100.0.0/16",
                            internal.join(", ")
                        ),
                    );
                    None
                } else {
                    Some((n.name.as_str(), cidr))
                }
            }
        }
    });
    check_network_unchanged(cx, params.network.as_ref(), &mut fail);

    let quota = settings.quota_profiles.get(&params.tenant_quota);
    if quota.is_none() {
        let known: Vec<&str> = settings.quota_profiles.keys().map(String::as_str).collect();
        fail(
            "spec.parameters.tenantQuota",
            format!(
                "{:?} is not a quota profile of this platform; use one of {}",
                params.tenant_quota,
                known.join(", ")
            ),
        );
    }

    let mut access: BTreeMap<Role, Members> = BTreeMap::new();
    for (i, entry) in params.access.iter().enumerate() {
        let at = format!("spec.parameters.access[{i}]");
        let Some(role) = Role::parse(&entry.role) else {
            fail(
                &format!("{at}.role"),
                format!(
                    "{:?} is not a project role; use admin (or cluster-admin), edit or view",
                    entry.role
                ),
            );
            continue;
        };
        let members = access.entry(role).or_default();
        for (j, user) in entry.users.iter().enumerate() {
            // Keycloak stores usernames lower-cased, and its tokens carry them so.
            let user = user.to_string().to_lowercase();
            match check_username(&user) {
                Ok(()) => {
                    members.users.insert(user);
                }
                Err(e) => fail(&format!("{at}.users[{j}]"), e),
            }
        }
        for (j, group) in entry.groups.iter().enumerate() {
            match check_group(group) {
                Ok(()) => {
                    members.groups.insert(group.to_string());
                }
                Err(e) => fail(&format!("{at}.groups[{j}]"), e),
            }
        }
    }

    let issuer = match &platform.keycloak.url {
        Some(url) => format!("{}/realms/{org}", url.as_str().trim_end_matches('/')),
        None => {
            fail(
                &setting_path("keycloak.url"),
                "is not set: set it to Keycloak's public URL (https://sso.example.com) in the sco-platform EnvironmentConfig".into(),
            );
            String::new()
        }
    };

    let seen_tenant: mto::ObservedTenant = observed_manifest(cx, names::TENANT);
    let mut namespaces: Vec<(&PublishedApi, String, Found)> = Vec::new();
    for api in &settings.published_apis.0 {
        let namespace = names::namespace(project, &api.namespace_suffix);
        let required = cx
            .observed
            .required
            .get(&names::namespace_requirement(&api.namespace_suffix));
        let found = match required.map(Vec::as_slice) {
            None => Found::NotFetched,
            Some([]) => Found::Absent,
            Some([found, ..]) => Found::Present {
                primary_udn: ovn::has_primary_udn_label(found),
            },
        };
        // A namespace this project's Tenant reports deployed is its own, whatever its labels.
        let ours = seen_tenant.deployed_namespaces().contains(&namespace);
        if let Some(found) = required
            .and_then(|r| r.first())
            .filter(|_| !org.is_empty() && !ours)
        {
            let label = |key: &str| {
                found
                    .pointer(&format!("/metadata/labels/{}", key.replace('/', "~1")))
                    .and_then(Value::as_str)
            };
            let whose = match (
                label(conventions::LABEL_ORG),
                label(conventions::LABEL_PROJECT),
            ) {
                (Some(owner), Some(holder)) if owner == org && holder != project => Some(format!(
                    "belongs to project {holder:?} of this organisation (MTO gives a namespace to one Tenant only)"
                )),
                (Some(owner), _) if owner == org => None,
                (Some(owner), _) => Some(format!("belongs to organisation {owner:?}")),
                (None, _) => Some("is not a project namespace of any organisation".to_owned()),
            };
            if let Some(whose) = whose {
                fail(
                    "spec.parameters.name",
                    format!(
                        "project name {project:?} is taken: namespace {namespace} {whose}; choose another project name"
                    ),
                );
            }
        }
        namespaces.push((api, namespace, found));
    }

    if !errors.is_empty() {
        return Err(Invalid(errors));
    }
    let identity = XrIdentity::of::<Project>(&xr.metadata);
    let org_path = kcp::child_path(root, &org);
    Ok(Proj {
        platform,
        settings,
        project,
        labels: identity.labels(Some(&org), Some(project)),
        path: kcp::child_path(&org_path, project),
        org_path,
        org,
        namespaces,
        network,
        quota: quota.expect("checked above"),
        access,
        issuer,
        seen_workspace: observed_manifest(cx, names::WORKSPACE),
        seen_tenant,
    })
}

/// `network` may be neither added, removed nor changed once the project exists.
fn check_network_unchanged(
    cx: Context<'_, Settings>,
    network: Option<&spec::Network>,
    fail: &mut impl FnMut(&str, String),
) {
    let observed = cx
        .observed
        .read::<pk::Observed<ObservedCudn>>(names::NETWORK)
        .and_then(Result::ok)
        .and_then(pk::Observed::manifest);
    let network_exists = cx.observed.exists(names::NETWORK);
    let tenant_exists = cx.observed.exists(names::TENANT);
    match (network, network_exists) {
        (Some(n), true) => {
            let subnets = observed.map(|o| o.spec.network.layer2.subnets).unwrap_or_default();
            let given = n.cidr.parse::<Cidr>().map(|c| c.to_string()).unwrap_or_else(|_| n.cidr.clone());
            if !subnets.is_empty() && !subnets.contains(&given) {
                fail(
                    "spec.parameters.network.cidr",
                    format!(
                        "cannot change from {} to {given}: a project network's subnets are immutable",
                        subnets.join(", ")
                    ),
                );
            }
        }
        (Some(_), false) if tenant_exists => fail(
            "spec.parameters.network",
            "cannot be added to an existing project: OVN-Kubernetes gives a namespace its primary network only when the namespace is created".into(),
        ),
        (None, true) => fail(
            "spec.parameters.network",
            "cannot be removed from an existing project: its namespaces keep their primary network for their lifetime".into(),
        ),
        _ => {}
    }
}

/// The parts of an observed ClusterUserDefinedNetwork the immutability check reads.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedCudn {
    #[serde(default)]
    spec: CudnSpec,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct CudnSpec {
    #[serde(default)]
    network: CudnNetwork,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct CudnNetwork {
    #[serde(default)]
    layer2: CudnLayer2,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct CudnLayer2 {
    #[serde(default)]
    subnets: Vec<String>,
}

/// A group name Keycloak and RBAC accept: 1 to 255 characters, no `/` (Keycloak's path
/// separator), no control characters or surrounding whitespace, no `system:` prefix.
fn check_group(group: &str) -> Result<(), String> {
    if group.is_empty()
        || group.chars().count() > 255
        || group.contains('/')
        || group.chars().any(char::is_control)
        || group.trim() != group
    {
        return Err(format!(
            "{group:?} is not a Keycloak group name: use 1 to 255 characters without '/' or surrounding whitespace"
        ));
    }
    reserved(group)
}

fn reserved(name: &str) -> Result<(), String> {
    if name.starts_with("system:") {
        Err(format!(
            "{name:?} starts with system:, which Kubernetes reserves"
        ))
    } else {
        Ok(())
    }
}

/// How provider-kubernetes tells the Tenant ready: once MTO reports every namespace deployed.
/// A Tenant without namespaces (a platform publishing no API) has nothing to deploy and is
/// ready once created: MTO need not report an empty `deployedNamespaces`, which the query
/// would wait for forever.
fn tenant_readiness(namespaces: &[String]) -> Readiness {
    if namespaces.is_empty() {
        Readiness::SuccessfulCreate
    } else {
        Readiness::DeriveFromCelQuery(mto::deployed_namespaces_query(namespaces))
    }
}

/// An owner reference as the API server returns it in `metadata.ownerReferences`.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct OwnerReference {
    api_version: String,
    kind: String,
    name: String,
    controller: Option<bool>,
}

/// The parts of an observed Workspace the type check reads.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedWorkspaceType {
    spec: Option<WorkspaceTypeSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct WorkspaceTypeSpec {
    #[serde(rename = "type")]
    type_: Option<ObservedTypeRef>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedTypeRef {
    name: Option<String>,
    path: Option<String>,
}

impl Proj<'_> {
    fn name(&self, suffix: &str) -> String {
        names::object(&self.org, self.project, suffix)
    }

    fn meta(&self, name: &str) -> Meta {
        meta(name, None, &self.labels)
    }

    fn service_cluster(&self) -> ProviderConfig {
        ProviderConfig::Platform(self.platform.provider_configs.kubernetes.clone())
    }

    fn org_provider_config(&self) -> String {
        organisation::names::provider_config(&self.org)
    }

    fn project_provider_config(&self) -> String {
        names::provider_config(&self.org, self.project)
    }

    fn usage(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        used: &impl Referable,
        user: &impl Referable,
    ) {
        build.usage(
            composed,
            Part::DeletionOrder,
            self.usage_meta(composed),
            used,
            user,
        );
    }

    /// The metadata of composed Usage `composed` (`usage-<x>`): `<project object>-<x>`.
    fn usage_meta(&self, composed: &str) -> Meta {
        self.meta(&self.name(composed.trim_start_matches("usage-")))
    }

    /// The Usage that keeps the project workspace until `object`, which lives inside it, is
    /// gone. The project ProviderConfig that `object` is reached through outlives the
    /// workspace (`usage-provider-config-by-workspace`), so it outlives `object` too: a
    /// Usage of the ProviderConfig by each object would only repeat that.
    fn kept_by_workspace(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        workspace: &Object<kcp::Workspace>,
        object: &impl Referable,
    ) {
        let by_workspace = names::usage(names::WORKSPACE, composed);
        self.usage(build, &by_workspace, workspace, object);
    }

    fn compose(&self, build: &mut Build<'_, Part>) {
        kcp_access::require_admin_kubeconfig(build, self.platform);
        build.require(
            names::ORG_PROVIDER_CONFIG,
            Requirement {
                api_version: pk::CLUSTER_PROVIDER_CONFIG_API_VERSION.into(),
                kind: "ProviderConfig".into(),
                matching: Match::Name(self.org_provider_config()),
                namespace: None,
            },
        );
        for (api, namespace, _) in &self.namespaces {
            build.require(
                &names::namespace_requirement(&api.namespace_suffix),
                Requirement::namespace(namespace),
            );
        }
        let workspace = self.workspace(build);
        let provider_config = workspace
            .as_ref()
            .and_then(|w| self.provider_config(build, w));
        let in_workspace = self.in_workspace(build, provider_config.as_ref(), workspace.as_ref());
        self.keycloak(build);
        self.service_side(build, workspace.as_ref(), &in_workspace);
    }

    /// The project workspace, once the organisation's provider config exists.
    fn workspace(&self, build: &mut Build<'_, Part>) -> Option<Object<kcp::Workspace>> {
        let org_ready = build
            .required(names::ORG_PROVIDER_CONFIG)
            .is_some_and(|found| !found.is_empty());
        if !org_ready && !build.exists(names::WORKSPACE) {
            build.wait(
                "WaitingForOrganisation",
                format!(
                    "the provider config {} of organisation {} does not exist yet: onboard the organisation first",
                    self.org_provider_config(),
                    self.org
                ),
            );
            return None;
        }
        let observed_type = build
            .read::<pk::Observed<ObservedWorkspaceType>>(names::WORKSPACE)
            .and_then(pk::Observed::manifest)
            .and_then(|w| w.spec?.type_)
            .and_then(|t| {
                Some(WorkspaceTypeReference {
                    name: t.name?,
                    path: t.path?,
                })
            });
        let tv = &self.platform.token_validation;
        let desired_type = if tv.enabled {
            WorkspaceTypeReference {
                name: tv.project_workspace_type.clone(),
                path: self.org_path.clone(),
            }
        } else {
            WorkspaceTypeReference::from(&self.settings.workspace_type)
        };
        let workspace = kcp::Workspace::new(
            meta(self.project, None, &self.labels),
            observed_type.unwrap_or(desired_type),
        );
        let object = Object::new(
            self.meta(&self.name("workspace")),
            workspace,
            &ProviderConfig::Composed(self.org_provider_config()),
            Readiness::DeriveFromCelQuery(kcp::WORKSPACE_READY_QUERY.to_owned()),
        );
        let ready = build.ready(names::WORKSPACE) && self.seen_workspace.is_ready();
        build.add(names::WORKSPACE, Part::Workspace, &object, ready);
        // The organisation's objects are the Organisation composite's. Its
        // ProviderConfig, its workspace (deleting it makes kcp delete the project workspaces
        // inside), its realm (the project's groups and its members' accounts) and the
        // composite itself outlive the project workspace. The workspace Object and the realm
        // exist only where an Organisation composed the ProviderConfig: a Usage of an object
        // that does not exist is never Ready, and would keep the project unready for good.
        let mut org_objects = vec![(
            names::USAGE_ORG_PROVIDER_CONFIG_BY_WORKSPACE,
            pk::CLUSTER_PROVIDER_CONFIG_API_VERSION,
            pk::PROVIDER_CONFIG_KIND,
            self.org_provider_config(),
        )];
        if let Some(composite) = self.organisation_composite(build) {
            org_objects.extend([
                (
                    names::USAGE_ORG_WORKSPACE_BY_WORKSPACE,
                    pk::CLUSTER_API_VERSION,
                    pk::OBJECT_KIND,
                    organisation::names::workspace_object(&self.org),
                ),
                (
                    names::USAGE_ORG_REALM_BY_WORKSPACE,
                    keycloak::REALM_API_VERSION,
                    <keycloak::RealmParameters as keycloak::Parameters>::KIND,
                    organisation::names::realm_object(&self.org),
                ),
                (
                    names::USAGE_ORGANISATION_BY_WORKSPACE,
                    <organisation::Organisation as Composition>::API_VERSION,
                    <organisation::Organisation as Composition>::KIND,
                    composite,
                ),
            ]);
        }
        for (composed, api_version, kind, name) in org_objects {
            let used = Known {
                api_version,
                kind,
                metadata: self.meta(&name),
            };
            let usage = Usage::new(self.usage_meta(composed), &used, &object);
            build.add_managed(composed, Part::DeletionOrder, &usage);
        }
        Some(object)
    }

    /// The name of the Organisation composite behind the organisation: the controller of its
    /// ProviderConfig (Crossplane sets a controller reference to the composite on every
    /// resource it composes), else the one the observed Usage already names, so that a call
    /// on which the ProviderConfig could not be read does not drop the protection. `None` for
    /// an organisation whose ProviderConfig no Organisation composed.
    fn organisation_composite(&self, build: &Build<'_, Part>) -> Option<String> {
        let api_version = <organisation::Organisation as Composition>::API_VERSION;
        let kind = <organisation::Organisation as Composition>::KIND;
        let controller = build
            .required(names::ORG_PROVIDER_CONFIG)
            .and_then(|found| found.first())
            .and_then(|pc| pc.pointer("/metadata/ownerReferences"))
            .and_then(|refs| Vec::<OwnerReference>::deserialize(refs).ok())
            .and_then(|refs| {
                refs.into_iter().find(|r| {
                    r.controller == Some(true) && r.api_version == api_version && r.kind == kind
                })
            })
            .map(|r| r.name);
        controller.or_else(|| {
            build
                .read::<ObservedUsage>(names::USAGE_ORGANISATION_BY_WORKSPACE)
                .and_then(ObservedUsage::into_used_name)
        })
    }

    /// The project workspace's kubeconfig Secret and ProviderConfig (the shared KCP access).
    fn provider_config(
        &self,
        build: &mut Build<'_, Part>,
        workspace: &Object<kcp::Workspace>,
    ) -> Option<pk::ProviderConfig> {
        let secret_namespace = self.platform.secret_namespace.clone();
        let access = Access {
            path: &self.path,
            workspace: &self.seen_workspace,
            secret_resource: names::KUBECONFIG,
            secret: meta(
                &self.project_provider_config(),
                Some(&secret_namespace),
                &self.labels,
            ),
            provider_config_resource: names::PROVIDER_CONFIG,
            provider_config: self.meta(&self.project_provider_config()),
        };
        let (secret, provider_config) =
            kcp_access::provider_config(build, self.platform, access, Part::Workspace)?;
        self.usage(
            build,
            names::USAGE_PROVIDER_CONFIG_BY_WORKSPACE,
            &provider_config,
            workspace,
        );
        let name = self.name("kubeconfig-by-provider-config");
        build.usage(
            names::USAGE_KUBECONFIG_BY_PROVIDER_CONFIG,
            Part::DeletionOrder,
            meta(&name, Some(&secret_namespace), &self.labels),
            &secret,
            &provider_config,
        );
        Some(provider_config)
    }

    /// APIBindings and RBAC inside the project workspace; returns the composed APIBinding
    /// Objects (composition resource name, Object).
    fn in_workspace(
        &self,
        build: &mut Build<'_, Part>,
        provider_config: Option<&pk::ProviderConfig>,
        workspace: Option<&Object<kcp::Workspace>>,
    ) -> Vec<(String, Object<kcp::ApiBinding>)> {
        let (Some(provider_config), Some(workspace)) = (
            provider_config.filter(|_| build.exists(names::PROVIDER_CONFIG)),
            workspace,
        ) else {
            if build.composed(names::WORKSPACE) {
                build.wait(
                    "WaitingForProviderConfig",
                    format!(
                        "the provider config for KCP workspace {} does not exist yet",
                        self.path
                    ),
                );
            }
            return Vec::new();
        };
        let pc = ProviderConfig::Composed(provider_config.name().to_owned());
        let mut bindings = Vec::new();
        let observed: Vec<ObservedApiBinding> = self
            .namespaces
            .iter()
            .map(|(api, ..)| {
                build
                    .read::<pk::Observed<ObservedApiBinding>>(&names::api_binding(
                        &api.namespace_suffix,
                    ))
                    .and_then(pk::Observed::manifest)
                    .unwrap_or_default()
            })
            .collect();
        // The groups the published APIs serve: what kcp reports a binding bound, else the
        // export's name (api-syncagent's exports are usually named after their group).
        let export_groups: BTreeSet<&str> = self
            .namespaces
            .iter()
            .zip(&observed)
            .flat_map(|((api, ..), observed)| {
                let bound = observed.bound_groups();
                if bound.is_empty() {
                    vec![api.export.name.as_str()]
                } else {
                    bound
                }
            })
            .collect();
        for ((api, namespace, _), observed) in self.namespaces.iter().zip(&observed) {
            let composed = names::api_binding(&api.namespace_suffix);
            // api-syncagent creates a synced object's namespace if it is missing, bare
            // (`internal/sync/object_syncer.go` `ensureNamespace`): without the project's
            // labels, and so for good off the project's network, which OVN-Kubernetes reads
            // only at creation. So a new binding, which lets consumers create such objects,
            // waits for MTO to have created the namespace; an existing one stays.
            if !build.exists(&composed)
                && !self
                    .seen_tenant
                    .missing_namespaces(std::slice::from_ref(namespace))
                    .is_empty()
            {
                build.wait(
                    "WaitingForNamespaces",
                    format!(
                        "APIBinding {} waits for MTO to create namespace {namespace}: api-syncagent would otherwise create it without the project's labels",
                        api.export.name
                    ),
                );
                continue;
            }
            let claims: Vec<AcceptablePermissionClaim> = observed
                .accepted_claims()
                .into_iter()
                .map(|claim| self.decide(claim, &export_groups))
                .collect();
            // Said once, on the render that decides: Crossplane turns every Warning into an
            // event, and a function must not emit one on every call.
            let newly_rejected = claims.iter().filter(|c| {
                c.state == ClaimState::Rejected && !observed.decided(&c.claim, ClaimState::Rejected)
            });
            for rejected in newly_rejected {
                let key = rejected.claim.key();
                build.warn(format!(
                    "APIBinding {}: the export's permission claim on {key} is rejected: it is neither in project.acceptedClaims nor a published API's group; add {key:?} to project.acceptedClaims to accept it",
                    api.export.name
                ));
            }
            // An existing binding keeps the export it was created with: kcp refuses any
            // change of the reference, so a moved export reaches new projects only.
            let export = observed.export().unwrap_or_else(|| ExportReference {
                path: Some(api.export.path.clone()),
                name: api.export.name.clone(),
            });
            let binding =
                kcp::ApiBinding::new(meta(&export.name, None, &self.labels), export, claims);
            let object = Object::new(
                self.meta(&self.name(&composed)),
                binding,
                &pc,
                Readiness::DeriveFromCelQuery(kcp::API_BINDING_READY_QUERY.to_owned()),
            );
            let unsettled = observed.is_bound().then(|| observed.unsettled()).flatten();
            let ready = build.ready(&composed) && observed.is_bound() && unsettled.is_none();
            build.add(&composed, Part::Bindings, &object, ready);
            if let Some(why) = unsettled {
                build.wait(
                    "WaitingForPermissionClaims",
                    format!("APIBinding {} is bound, but {why}", api.export.name),
                );
            }
            self.kept_by_workspace(build, &composed, workspace, &object);
            bindings.push((composed, object));
        }

        let groups: Vec<&str> = export_groups.iter().copied().collect();
        let tv = &self.platform.token_validation;
        let mut everyone: Vec<Subject> = Vec::new();
        for role in Role::ALL {
            let composed = names::role(role.as_str());
            let cluster_role = ClusterRole::new(
                meta(&names::workspace_role(role.as_str()), None, &self.labels),
                role.rbac().rules(&groups),
            );
            let object = Object::new(
                self.meta(&self.name(&composed)),
                cluster_role,
                &pc,
                Readiness::SuccessfulCreate,
            );
            build.add_managed(&composed, Part::Rbac, &object);
            self.kept_by_workspace(build, &composed, workspace, &object);

            let mut subjects = self.subjects(role, &tv.username_prefix, &tv.groups_prefix);
            if role == Role::Admin && tv.enabled {
                subjects.push(Subject::group(format!(
                    "{}{}",
                    tv.groups_prefix, self.platform.keycloak.admin_group
                )));
            }
            if subjects.is_empty() {
                continue;
            }
            everyone.extend(subjects.iter().cloned());
            let composed = names::binding(role.as_str());
            let binding = ClusterRoleBinding::new(
                meta(&names::workspace_role(role.as_str()), None, &self.labels),
                &names::workspace_role(role.as_str()),
                subjects,
            );
            self.add_in_workspace(build, &composed, binding, &pc, workspace);
        }
        if !everyone.is_empty() {
            let mut seen = BTreeSet::new();
            everyone.retain(|s| seen.insert((s.kind == rbac::SubjectKind::Group, s.name.clone())));
            let binding = ClusterRoleBinding::workspace_access(
                meta(names::WORKSPACE_ACCESS_BINDING, None, &self.labels),
                everyone,
            );
            self.add_in_workspace(build, names::ACCESS_BINDING, binding, &pc, workspace);
        }
        bindings
    }

    fn add_in_workspace(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        binding: ClusterRoleBinding,
        pc: &ProviderConfig,
        workspace: &Object<kcp::Workspace>,
    ) {
        let object = Object::new(
            self.meta(&self.name(composed)),
            binding,
            pc,
            Readiness::SuccessfulCreate,
        );
        build.add_managed(composed, Part::Rbac, &object);
        self.kept_by_workspace(build, composed, workspace, &object);
    }

    /// Accepts a claim on the allow-list or on another published API's group; rejects others.
    fn decide(
        &self,
        mut claim: AcceptablePermissionClaim,
        export_groups: &BTreeSet<&str>,
    ) -> AcceptablePermissionClaim {
        let accepted = self.settings.accepted_claims.contains(&claim.claim.key())
            || export_groups.contains(claim.claim.group.as_str());
        claim.state = if accepted {
            ClaimState::Accepted
        } else {
            ClaimState::Rejected
        };
        claim
    }

    /// The RBAC subjects of `role`: its users and groups and its Keycloak project group.
    fn subjects(&self, role: Role, user_prefix: &str, group_prefix: &str) -> Vec<Subject> {
        let Some(members) = self.access.get(&role) else {
            return Vec::new();
        };
        let mut subjects: Vec<Subject> = members
            .users
            .iter()
            .map(|u| Subject::user(format!("{user_prefix}{u}")))
            .collect();
        let mut groups: BTreeSet<String> = members.groups.clone();
        groups.insert(names::keycloak_group(self.project, role.as_str()));
        subjects.extend(
            groups
                .iter()
                .map(|g| Subject::group(format!("{group_prefix}{g}"))),
        );
        subjects
    }

    /// Keycloak project groups and their members, for each role used.
    fn keycloak(&self, build: &mut Build<'_, Part>) {
        if !build.composed(names::WORKSPACE) {
            return;
        }
        let config = ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone());
        for (role, members) in &self.access {
            let role = role.as_str();
            let group_resource = names::group(role);
            let group = Managed::new(
                self.meta(&self.name(&group_resource)),
                keycloak::GroupParameters {
                    realm: RealmId::existing(&self.org),
                    name: names::keycloak_group(self.project, role),
                    parent_id_ref: None,
                    attributes: BTreeMap::new(),
                },
                &config,
            );
            build.add_keycloak(&group_resource, Part::Identity, &group);
            // A Memberships is authoritative: the Terraform provider's update removes every
            // member it does not list (`resource_keycloak_group_memberships.go`). A role
            // granted to groups only lists no users, and an empty Memberships would remove
            // whoever an organisation admin adds to `<project>-<role>` in Keycloak; without
            // one the group's membership is Keycloak's to manage, as for an IAM Group without
            // members.
            if members.users.is_empty() {
                continue;
            }
            let members_resource = names::members(role);
            let memberships = Managed::new(
                self.meta(&self.name(&members_resource)),
                keycloak::MembershipsParameters {
                    realm: RealmId::existing(&self.org),
                    group_id_ref: Reference::to(group.name()),
                    members: members.users.iter().cloned().collect(),
                },
                &config,
            );
            build.add_keycloak(&members_resource, Part::Identity, &memberships);
            self.usage(
                build,
                &names::usage(&group_resource, &members_resource),
                &group,
                &memberships,
            );
            let observed = build.read::<keycloak::ObservedMemberships>(&members_resource);
            if let Some(unknown) = observed.as_ref().and_then(|o| o.unknown_member()) {
                build.wait(
                    "UnknownMembers",
                    format!(
                        "Keycloak has no user {unknown:?} in realm {}: create the user or remove them from access[] (role {role})",
                        self.org
                    ),
                );
            }
        }
    }

    /// The Quota, network and Tenant on the service cluster, once the namespaces are checked.
    fn service_side(
        &self,
        build: &mut Build<'_, Part>,
        workspace: Option<&Object<kcp::Workspace>>,
        bindings: &[(String, Object<kcp::ApiBinding>)],
    ) {
        if !build.composed(names::WORKSPACE) {
            return;
        }
        let checked = self
            .namespaces
            .iter()
            .all(|(.., found)| *found != Found::NotFetched);
        if !checked && !build.exists(names::TENANT) {
            build.wait(
                "WaitingForNamespaceCheck",
                "Crossplane has not fetched the project's namespaces yet, to check that no other organisation holds them".into(),
            );
            return;
        }
        let object_name = self.name("");
        let quota = mto::Quota::new(
            meta(&object_name, None, &self.labels),
            mto::QuotaSpec {
                resourcequota: mto::ResourceQuota {
                    hard: self.quota.hard.clone(),
                },
                limitrange: self
                    .quota
                    .limit_range
                    .as_ref()
                    .map(|items| mto::LimitRange {
                        limits: items
                            .iter()
                            .map(|i| mto::LimitRangeItem {
                                type_: i.type_.clone(),
                                default: i.default.clone(),
                                default_request: i.default_request.clone(),
                                max: i.max.clone(),
                                min: i.min.clone(),
                            })
                            .collect(),
                    }),
            },
        );
        let quota = Object::new(
            self.meta(&self.name("quota")),
            quota,
            &self.service_cluster(),
            Readiness::SuccessfulCreate,
        );
        build.add_managed(names::QUOTA, Part::Tenant, &quota);

        let namespaces: Vec<String> = self
            .namespaces
            .iter()
            .map(|(_, ns, _)| ns.clone())
            .collect();
        // MTO's tenant label holds the Tenant's name (MTO finds a namespace's Tenant by it and
        // stamps it itself): writing the project there would have MTO and the common labels
        // disagree on one key. The project has a label of its own.
        let mut labels = BTreeMap::from([
            (conventions::LABEL_TENANT.to_owned(), object_name.clone()),
            (
                conventions::LABEL_PROJECT.to_owned(),
                self.project.to_owned(),
            ),
            (conventions::LABEL_ORG.to_owned(), self.org.clone()),
        ]);
        let network = self.network.as_ref().map(|(name, cidr)| {
            labels.insert(ovn::PRIMARY_UDN_LABEL.to_owned(), String::new());
            let cudn = ovn::ClusterUserDefinedNetwork::primary_layer2(
                meta(
                    &object_name,
                    None,
                    &self.labels.with(LABEL_NETWORK_NAME, name),
                ),
                ovn::NamespaceSelector::names(&namespaces),
                vec![*cidr],
            );
            let object = Object::new(
                self.meta(&self.name("network")),
                cudn,
                &self.service_cluster(),
                Readiness::DeriveFromCelQuery(ovn::network_created_query(&namespaces)),
            );
            let unlabelled = self.namespaces_without_network_label();
            for namespace in &unlabelled {
                build.warn(format!(
                    "namespace {namespace} exists without the label {}, so its pods are not on network {name}: OVN-Kubernetes reads it at creation only and refuses adding it later (MTO before v1.5.1 labels a namespace after creating it); upgrade MTO, then delete the namespace (and what runs in it) so that MTO creates it again",
                    ovn::PRIMARY_UDN_LABEL
                ));
            }
            let ready = build.ready(names::NETWORK)
                && unlabelled.is_empty()
                && build
                    .read::<pk::Observed<ovn::ObservedClusterUserDefinedNetwork>>(names::NETWORK)
                    .and_then(pk::Observed::manifest)
                    .is_some_and(|n| n.is_ready(&namespaces));
            build.add(names::NETWORK, Part::Network, &object, ready);
            object
        });

        let prefixes = &self.settings.service_cluster_prefixes;
        let members = |role: Role| {
            let subjects = self.subjects(role, &prefixes.username, &prefixes.groups);
            mto::Members {
                users: subjects
                    .iter()
                    .filter(|s| s.kind == rbac::SubjectKind::User)
                    .map(|s| s.name.clone())
                    .collect(),
                groups: subjects
                    .iter()
                    .filter(|s| s.kind == rbac::SubjectKind::Group)
                    .map(|s| s.name.clone())
                    .collect(),
            }
        };
        let tenant = mto::Tenant::new(
            meta(&object_name, None, &self.labels),
            mto::TenantSpec {
                quota: object_name.clone(),
                access_control: mto::AccessControl {
                    owners: members(Role::Admin),
                    editors: members(Role::Edit),
                    viewers: members(Role::View),
                },
                namespaces: mto::TenantNamespaces {
                    without_tenant_prefix: namespaces.clone(),
                    metadata: mto::NamespacesMetadata {
                        common: mto::NamespaceMetadata {
                            labels,
                            annotations: BTreeMap::new(),
                        },
                    },
                    on_delete_purge_namespaces: true,
                },
            },
        );
        let tenant = Object::new(
            self.meta(&self.name("tenant")),
            tenant,
            &self.service_cluster(),
            tenant_readiness(&namespaces),
        );
        let ready = build.ready(names::TENANT) && self.seen_tenant.is_ready(&namespaces);
        build.add(names::TENANT, Part::Tenant, &tenant, ready);
        self.kubevirt_limits(build);

        self.usage(build, names::USAGE_QUOTA_BY_TENANT, &quota, &tenant);
        if let Some(network) = &network {
            self.usage(build, names::USAGE_NETWORK_BY_TENANT, network, &tenant);
        }
        if let Some(workspace) = workspace {
            self.usage(build, names::USAGE_WORKSPACE_BY_TENANT, workspace, &tenant);
        }
        for (composed, binding) in bindings {
            self.usage(
                build,
                &names::usage(names::TENANT, composed),
                &tenant,
                binding,
            );
        }
    }

    /// The project namespaces that exist (as Crossplane returned them) without OVN's
    /// primary-network label: created before MTO put the Tenant's labels on, they can never
    /// join the network (OpenShift's `user-defined-networks-namespace-label` policy refuses
    /// adding the label to an existing namespace).
    fn namespaces_without_network_label(&self) -> Vec<&str> {
        self.namespaces
            .iter()
            .filter(|(.., found)| *found == Found::Present { primary_udn: false })
            .map(|(_, namespace, _)| namespace.as_str())
            .collect()
    }

    /// In each project namespace that exists, the ResourceQuota that has KubeVirt set the limits
    /// the tenant's quota demands on virt-launcher pods (see [`ResourceQuota`]): only when the
    /// profile constrains `limits.cpu` or `limits.memory`. MTO creates the namespaces after the
    /// Tenant, so each marker follows its namespace (the required resource that the ownership
    /// check fetches) and is kept once composed; MTO purges it with the namespace.
    fn kubevirt_limits(&self, build: &mut Build<'_, Part>) {
        for (api, namespace, found) in &self.namespaces {
            let composed = names::kubevirt_limits(&api.namespace_suffix);
            let exists = matches!(found, Found::Present { .. });
            if !exists && !build.exists(&composed) {
                continue;
            }
            let Some(quota) = ResourceQuota::kubevirt_limits(
                meta(names::KUBEVIRT_LIMITS_QUOTA, Some(namespace), &self.labels),
                &self.quota.hard,
            ) else {
                return;
            };
            let object = Object::new(
                self.meta(&self.name(&composed)),
                quota,
                &self.service_cluster(),
                Readiness::SuccessfulCreate,
            );
            build.add_managed(&composed, Part::Tenant, &object);
        }
    }

    fn status(&self, build: &Build<'_, Part>) -> ProjectStatus {
        let (observed, tenant) = (&self.seen_workspace, &self.seen_tenant);
        let namespaces: Vec<String> = self
            .namespaces
            .iter()
            .map(|(_, ns, _)| ns.clone())
            .collect();
        let bindings_ready = self.namespaces.is_empty() || build.part_ready(Part::Bindings);
        let all = build.all_ready();
        let message = match build.waiting() {
            Some(w) => w.message.clone(),
            None if all => format!(
                "project {} of organisation {} is ready",
                self.project, self.org
            ),
            None => {
                let parts = [
                    (Part::Workspace, "the workspace"),
                    (Part::Bindings, "the API bindings"),
                    (Part::Rbac, "the workspace RBAC"),
                    (Part::Identity, "the Keycloak groups"),
                    (Part::Tenant, "the tenant and its namespaces"),
                    (Part::Network, "the network"),
                    (Part::DeletionOrder, "the deletion-order Usages"),
                ];
                let pending: Vec<&str> = parts
                    .iter()
                    .filter(|(part, _)| {
                        !build.part_ready(*part)
                            && (*part != Part::Network || self.network.is_some())
                    })
                    .map(|(_, what)| *what)
                    .collect();
                format!("waiting for {} to become ready", pending.join(", "))
            }
        };
        ProjectStatus {
            organisation: Some(self.org.clone()),
            workspace: observed.url().map(|url| WorkspaceStatus {
                name: self.path.clone(),
                url: url.to_owned(),
                kubeconfig_base64: self.consumer_kubeconfig(build, url),
            }),
            namespaces: namespaces.clone(),
            workspace_ready: build.part_ready(Part::Workspace),
            tenant_ready: build.part_ready(Part::Tenant) && bindings_ready,
            networks_ready: self.network.is_none() || build.part_ready(Part::Network),
            namespaces_ready: build.exists(names::TENANT)
                && tenant.missing_namespaces(&namespaces).is_empty(),
            all_resources_ready: all,
            message,
        }
    }

    /// The consumer kubeconfig of the workspace at `url`, base64-encoded: no credential, an
    /// `oidc-login` exec user against the organisation's realm.
    fn consumer_kubeconfig(&self, build: &Build<'_, Part>, url: &str) -> Option<String> {
        use base64::Engine as _;
        let name = format!("{}-{}", self.org, self.project);
        let mut cluster = Map::new();
        cluster.insert("server".into(), Value::String(url.to_owned()));
        let ca = &self.platform.kcp.consumer_ca;
        match (ca.source, &ca.bundle) {
            (ConsumerCaSource::AdminKubeconfig, _) => {
                // The CA (and TLS server name) of the admin kubeconfig's current context, as
                // the project provider config has it.
                let admin = kcp_access::admin_kubeconfig(build, self.platform).ok();
                let admin_cluster = admin.as_ref().and_then(|a| a.current_cluster().ok());
                for key in ["certificate-authority-data", "tls-server-name"] {
                    if let Some(value) = admin_cluster.and_then(|c| c.get(key)) {
                        cluster.insert(key.into(), value.clone());
                    }
                }
            }
            (ConsumerCaSource::Bundle, Some(pem)) => {
                cluster.insert(
                    "certificate-authority-data".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(pem)),
                );
            }
            (ConsumerCaSource::Bundle | ConsumerCaSource::SystemRoots, _) => {}
        }
        // No extra scope: the `groups` claim comes from the client's own mapper, and Keycloak
        // refuses any requested scope that is not one of the client's client scopes
        // (`invalid_scope`, `TokenManager.isValidScope`, since Keycloak 10).
        let mut args = vec![
            "oidc-login".to_owned(),
            "get-token".to_owned(),
            format!("--oidc-issuer-url={}", self.issuer),
            format!(
                "--oidc-client-id={}",
                self.platform.keycloak.kubectl.client_id
            ),
        ];
        args.extend(listen_addresses(
            &self.platform.keycloak.kubectl.redirect_uris,
        ));
        let user = json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubectl",
            "args": args,
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": false,
        }});
        let Value::Object(user) = user else {
            unreachable!("an object")
        };
        let kubeconfig = Kubeconfig {
            api_version: "v1".into(),
            kind: "Config".into(),
            clusters: vec![NamedCluster {
                name: name.clone(),
                cluster,
            }],
            contexts: vec![NamedContext {
                name: name.clone(),
                context: KubeContext {
                    cluster: name.clone(),
                    user: "oidc".into(),
                    namespace: None,
                },
            }],
            current_context: name,
            users: vec![NamedUser {
                name: "oidc".into(),
                user,
            }],
        };
        Some(base64::engine::general_purpose::STANDARD.encode(kubeconfig.to_yaml()))
    }
}

/// kubelogin's flags for the kubectl client's redirect URIs: none when they are kubelogin's
/// defaults (`http://localhost:8000` and `:18000`: `--listen-address`
/// `127.0.0.1:8000,127.0.0.1:18000` with `--oidc-redirect-url-hostname localhost`,
/// `int128/kubelogin` `pkg/cmd/authentication.go`), else a `--listen-address` per loopback
/// URI's port, so the local callback listens where Keycloak may redirect. kubelogin names one
/// host in every redirect URL it sends, `localhost` unless told: with `http://127.0.0.1:<port>`
/// URIs only (RFC 8252's advice for native apps), it is told that host, as Keycloak compares
/// the URL with the client's URIs as text.
fn listen_addresses(redirect_uris: &[String]) -> Vec<String> {
    let loopback = |host: &'static str| {
        redirect_uris
            .iter()
            .filter_map(move |uri| uri.strip_prefix(host))
            .map(|port| port.trim_end_matches('/'))
            .filter(|port| port.parse::<u16>().is_ok())
            .collect::<Vec<&str>>()
    };
    let (ports, hostname) = match loopback("http://localhost:") {
        ports if !ports.is_empty() => (ports, None),
        _ => (loopback("http://127.0.0.1:"), Some("127.0.0.1")),
    };
    if ports.is_empty() || (hostname.is_none() && ports == ["8000", "18000"]) {
        return Vec::new();
    }
    let mut flags: Vec<String> = ports
        .iter()
        .map(|port| format!("--listen-address=127.0.0.1:{port}"))
        .collect();
    if let Some(hostname) = hostname {
        flags.push(format!("--oidc-redirect-url-hostname={hostname}"));
    }
    flags
}

/// The manifest observed inside the provider-kubernetes Object `name`, as `T` reads it.
fn observed_manifest<T: DeserializeOwned + Default>(cx: Context<'_, Settings>, name: &str) -> T {
    cx.observed
        .read::<pk::Observed<T>>(name)
        .and_then(Result::ok)
        .and_then(pk::Observed::manifest)
        .unwrap_or_default()
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::readers::{Upstream, reader, typed_at};
    vec![
        reader::<ObservedCudn>(ovn::API_VERSION, "ClusterUserDefinedNetwork"),
        reader::<ObservedWorkspaceType>(kcp::API_VERSION, "Workspace"),
        typed_at::<Vec<OwnerReference>>(
            Upstream::Kind(
                pk::CLUSTER_PROVIDER_CONFIG_API_VERSION.into(),
                "ProviderConfig",
            ),
            "/metadata/ownerReferences",
        ),
    ]
}
