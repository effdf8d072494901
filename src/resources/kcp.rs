//! KCP tenancy (`tenancy.kcp.io/v1alpha1`): the `Workspace`, the `WorkspaceType` that presets
//! workspaces, and the `WorkspaceAuthenticationConfiguration` a type uses to admit tokens from
//! an extra OIDC issuer; and the `APIBinding` (`apis.kcp.io/v1alpha2`) that binds an exported
//! API into a workspace. All are cluster-scoped inside their logical cluster and reach KCP
//! wrapped in provider-kubernetes `Object`s.
//!
//! APIBinding, from `kcp-dev/kcp@dac74f59` `config/crds/apis.kcp.io_apibindings.yaml` (v1alpha2,
//! the storage version):
//! - `spec.reference.export.{path,name}`: only `name` is required; `path` (absolute, `root:acme`)
//!   names the workspace holding the APIExport, omitted for one in the binding's own workspace.
//!   The reference is immutable (CEL `self == oldSelf`).
//! - `spec.permissionClaims[]` is a list-map keyed by `(group, resource, identityHash)`, both
//!   key fields defaulting to `""`; each entry requires `resource`, `verbs` (a set, at least
//!   one), `selector` and `state` (`Accepted` | `Rejected`). The selector has `matchAll` or a
//!   label selector (`matchLabels`, `matchExpressions`); the CRD at this commit has no
//!   `references` selector. The selector is immutable (CEL `self == oldSelf`), so the one chosen
//!   for a claim must never change: [`ObservedApiBinding::accepted_claims`] derives it only from
//!   the export's claim.
//! - `status.exportPermissionClaims[]` copies the export's claims (`group`, `resource`,
//!   `identityHash`, `verbs`, optional `defaultSelector`); `status.phase` is `Binding` then
//!   `Bound`. A claim the export adds later is not accepted by itself: the composition re-renders
//!   the accepted list from the observed export claims.
//! - api-syncagent writes its APIExport's claims itself, through the v1alpha1 API, as
//!   `{group, resource, all: true}` (`kcp-dev/api-syncagent@47c3c483`
//!   `internal/controller/apiexport/reconciler.go`); kcp's conversion to v1alpha2 keeps `all`
//!   only in the annotation `apis.v1alpha2.kcp.io/v1alpha1-permission-claims` (so the v1alpha2
//!   claim has no `defaultSelector`, and the composition's `matchAll` fallback applies) and
//!   turns an empty verb list into `["*"]` (`kcp-dev/kcp` `sdk/apis/apis/v1alpha2`
//!   `types_apiexport_conversion.go`).
//!   The agent claims `events` and `namespaces` always, `core.kcp.io/logicalclusters` when a
//!   PublishedResource sets `enableWorkspacePaths`, and every related resource's kind
//!   (api-syncagent `docs/content/faq.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Meta;
use super::condition::{self, Condition};

/// apiVersion of the tenancy kinds.
pub const API_VERSION: &str = "tenancy.kcp.io/v1alpha1";
/// The `status.phase` of a workspace that serves requests.
pub const PHASE_READY: &str = "Ready";
/// provider-kubernetes CEL readiness query for a wrapped `Workspace`. The `has()` guards, as in
/// every query here: before kcp writes a status, selecting a missing field is a CEL error,
/// which provider-kubernetes reports as a failed evaluation in the Object's condition.
pub const WORKSPACE_READY_QUERY: &str =
    "has(object.status) && has(object.status.phase) && object.status.phase == 'Ready'";

/// The absolute path of workspace `name` inside the workspace at `parent` (`root:acme`).
pub fn child_path(parent: &str, name: &str) -> String {
    format!("{parent}:{name}")
}

/// A reference to a `WorkspaceType`: its name and the path of the workspace that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceTypeReference {
    /// The type's name (lower case).
    pub name: String,
    /// The absolute path of the workspace holding the type (`root`).
    pub path: String,
}

/// A KCP `Workspace`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `Workspace`.
    pub kind: &'static str,
    /// Metadata (the name is the workspace's name in its parent).
    pub metadata: Meta,
    /// Spec.
    pub spec: WorkspaceSpec,
}

/// `spec` of a Workspace: only the (immutable) type is ours; KCP sets `URL` and `cluster`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkspaceSpec {
    /// The workspace's type.
    #[serde(rename = "type")]
    pub type_: WorkspaceTypeReference,
}

impl Workspace {
    /// A workspace of type `type_`.
    pub fn new(metadata: Meta, type_: WorkspaceTypeReference) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "Workspace",
            metadata,
            spec: WorkspaceSpec { type_ },
        }
    }
}

/// What KCP reports about a workspace, read from the observed object: `spec.URL` and
/// `status.phase`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedWorkspace {
    spec: Option<ObservedWorkspaceSpec>,
    status: Option<ObservedWorkspaceStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedWorkspaceSpec {
    #[serde(rename = "URL")]
    url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedWorkspaceStatus {
    phase: Option<String>,
}

impl ObservedWorkspace {
    /// `status.phase` (`Scheduling`, `Initializing`, `Ready`, ...), if reported.
    pub fn phase(&self) -> Option<&str> {
        let phase = self.status.as_ref()?.phase.as_deref();
        phase.filter(|p| !p.is_empty())
    }

    /// `spec.URL`, once KCP has set it.
    pub fn url(&self) -> Option<&str> {
        let url = self.spec.as_ref()?.url.as_deref();
        url.filter(|u| !u.is_empty())
    }

    /// Whether the workspace is `Ready`.
    pub fn is_ready(&self) -> bool {
        self.phase() == Some(PHASE_READY)
    }
}

/// A KCP `WorkspaceType`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceType {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `WorkspaceType`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: WorkspaceTypeSpec,
}

/// `spec` of a WorkspaceType (the fields the compositions set).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceTypeSpec {
    /// `WorkspaceAuthenticationConfiguration`s (in the same workspace) whose JWT issuers every
    /// workspace of this type also trusts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authentication_configurations: Vec<AuthenticationConfigurationReference>,
    /// Types this one extends (inherits initializers and parent/child limits from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend: Option<WorkspaceTypeExtension>,
}

/// A reference to a `WorkspaceAuthenticationConfiguration` by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthenticationConfigurationReference {
    /// Its name.
    pub name: String,
}

/// `spec.extend` of a WorkspaceType.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceTypeExtension {
    /// The extended types.
    pub with: Vec<WorkspaceTypeReference>,
}

impl WorkspaceType {
    /// A workspace type.
    pub fn new(metadata: Meta, spec: WorkspaceTypeSpec) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "WorkspaceType",
            metadata,
            spec,
        }
    }
}

/// A KCP `WorkspaceAuthenticationConfiguration`: JWT authenticators for the workspaces of the
/// types that reference it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceAuthenticationConfiguration {
    /// `tenancy.kcp.io/v1alpha1`.
    pub api_version: &'static str,
    /// `WorkspaceAuthenticationConfiguration`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: AuthenticationConfigurationSpec,
}

/// `spec` of a WorkspaceAuthenticationConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticationConfigurationSpec {
    /// The JWT authenticators.
    pub jwt: Vec<JwtAuthenticator>,
}

/// One JWT authenticator (the shape of Kubernetes' structured authentication configuration).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuthenticator {
    /// The issuer and the audiences it must have issued the token for.
    pub issuer: Issuer,
    /// How claims become the Kubernetes user.
    pub claim_mappings: ClaimMappings,
}

/// `issuer` of a JWT authenticator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    /// The issuer URL; must equal the tokens' `iss` claim. Discovery is fetched from
    /// `<url>/.well-known/openid-configuration`.
    pub url: String,
    /// Accepted audiences.
    pub audiences: Vec<String>,
    /// `MatchAny` (required with more than one audience).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience_match_policy: Option<&'static str>,
    /// PEM CA bundle for fetching discovery, when the issuer's certificate is not publicly trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
}

/// `claimMappings` of a JWT authenticator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimMappings {
    /// The claim holding the username.
    pub username: PrefixedClaim,
    /// The claim holding the groups.
    pub groups: PrefixedClaim,
}

/// A claim and the prefix put in front of its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefixedClaim {
    /// The claim name.
    pub claim: String,
    /// The prefix (may be empty, then values are used as they are).
    pub prefix: String,
}

impl WorkspaceAuthenticationConfiguration {
    /// An authentication configuration with these authenticators.
    pub fn new(metadata: Meta, jwt: Vec<JwtAuthenticator>) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "WorkspaceAuthenticationConfiguration",
            metadata,
            spec: AuthenticationConfigurationSpec { jwt },
        }
    }
}

/// apiVersion of the `APIBinding` builder (the storage version).
pub const APIS_API_VERSION: &str = "apis.kcp.io/v1alpha2";
/// The `status.phase` of a binding whose resources are served.
pub const PHASE_BOUND: &str = "Bound";
/// provider-kubernetes CEL readiness query for a wrapped `APIBinding`.
pub const API_BINDING_READY_QUERY: &str =
    "has(object.status) && has(object.status.phase) && object.status.phase == 'Bound'";

/// A KCP `APIBinding` (`apis.kcp.io/v1alpha2`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiBinding {
    /// `apis.kcp.io/v1alpha2`.
    pub api_version: &'static str,
    /// `APIBinding`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped inside the workspace: no namespace).
    pub metadata: Meta,
    /// Spec.
    pub spec: ApiBindingSpec,
}

/// `spec` of an APIBinding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiBindingSpec {
    /// The APIExport bound (immutable).
    pub reference: BindingReference,
    /// The export's permission claims, each accepted or rejected; written when empty too, so
    /// that claims the export dropped leave the live binding under a merge patch (see
    /// [`crate::resources::mto::AccessControl`]).
    pub permission_claims: Vec<AcceptablePermissionClaim>,
}

/// `spec.reference` of an APIBinding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingReference {
    /// The APIExport.
    pub export: ExportReference,
}

/// `spec.reference.export` of an APIBinding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReference {
    /// The absolute path of the workspace holding the export; `None`: the binding's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The APIExport's name.
    pub name: String,
}

/// Which objects of a claimed resource a claim covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PermissionClaimSelector {
    /// All objects.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub match_all: bool,
    /// Objects with these labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Objects matching these requirements (ANDed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl PermissionClaim {
    /// `resource.group` (`resource` alone in the core group), as RBAC and the settings name it.
    pub fn key(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

impl PermissionClaimSelector {
    /// Every object of the resource.
    pub fn all() -> Self {
        Self {
            match_all: true,
            ..Self::default()
        }
    }

    /// Whether it selects nothing at all (no field set).
    pub fn is_empty(&self) -> bool {
        !self.match_all && self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

/// A label selector requirement (`key`, `operator`, `values`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values (empty for `Exists` and `DoesNotExist`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// What a permission claim is about: a resource of a group (of an export, by identity hash).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PermissionClaim {
    /// The API group (`""` for the core group).
    #[serde(default)]
    pub group: String,
    /// The resource (plural).
    pub resource: String,
    /// The identity hash of the export providing the resource (`""` for built-in kinds).
    #[serde(default)]
    pub identity_hash: String,
    /// The verbs claimed (`*` for all).
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// Whether a claim is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum ClaimState {
    /// Accepted: the export's owner may act on the selected objects.
    Accepted,
    /// Rejected.
    Rejected,
}

/// `spec.permissionClaims[]` of an APIBinding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptablePermissionClaim {
    /// The claim, as the export states it.
    #[serde(flatten)]
    pub claim: PermissionClaim,
    /// The objects covered (immutable once set).
    pub selector: PermissionClaimSelector,
    /// Accepted or rejected.
    pub state: ClaimState,
}

impl ApiBinding {
    /// A binding to APIExport `export` in the workspace at `path`, with these claims.
    pub fn new(
        metadata: Meta,
        export: ExportReference,
        permission_claims: Vec<AcceptablePermissionClaim>,
    ) -> Self {
        Self {
            api_version: APIS_API_VERSION,
            kind: "APIBinding",
            metadata,
            spec: ApiBindingSpec {
                reference: BindingReference { export },
                permission_claims,
            },
        }
    }
}

referable! {
    impl for ApiBinding;
}

/// What KCP reports about an APIBinding: `status.phase`, `status.conditions` and the export's
/// permission claims (`status.exportPermissionClaims`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedApiBinding {
    spec: Option<ObservedApiBindingSpec>,
    status: Option<ObservedApiBindingStatus>,
}

/// What of `spec` was applied: the claims already decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedApiBindingSpec {
    #[serde(default)]
    permission_claims: Vec<DecidedClaim>,
    reference: Option<ObservedReference>,
}

/// `spec.reference` as applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedReference {
    export: Option<ObservedExport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedExport {
    path: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct DecidedClaim {
    #[serde(default)]
    group: String,
    resource: String,
    #[serde(default)]
    identity_hash: String,
    state: Option<ClaimState>,
    selector: Option<PermissionClaimSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedApiBindingStatus {
    phase: Option<String>,
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    export_permission_claims: Vec<ExportPermissionClaim>,
    #[serde(default)]
    bound_resources: Vec<BoundResource>,
}

/// One of `status.boundResources[]`: an API the binding serves in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct BoundResource {
    #[serde(default)]
    group: String,
}

/// One of `status.exportPermissionClaims[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ExportPermissionClaim {
    #[serde(flatten)]
    claim: PermissionClaim,
    default_selector: Option<PermissionClaimSelector>,
}

impl ObservedApiBinding {
    /// `status.phase` (`Binding`, `Bound`), if reported.
    pub fn phase(&self) -> Option<&str> {
        let phase = self.status.as_ref()?.phase.as_deref();
        phase.filter(|p| !p.is_empty())
    }

    /// Whether the applied binding already holds `claim` in `state`: a decision made on an
    /// earlier render, which the user has been told about.
    pub fn decided(&self, claim: &PermissionClaim, state: ClaimState) -> bool {
        self.held(claim).is_some_and(|d| d.state == Some(state))
    }

    /// The applied binding's entry for `claim`, by the list-map key
    /// `(group, resource, identityHash)`.
    fn held(&self, claim: &PermissionClaim) -> Option<&DecidedClaim> {
        self.spec
            .iter()
            .flat_map(|s| &s.permission_claims)
            .find(|d| {
                d.group == claim.group
                    && d.resource == claim.resource
                    && d.identity_hash == claim.identity_hash
            })
    }

    /// The export the applied binding references, which kcp never lets change
    /// (`APIBindingSpec.reference`, CEL `self == oldSelf`: "APIExport reference must not be
    /// changed", `apis/v1alpha2/types_apibinding.go`).
    pub fn export(&self) -> Option<ExportReference> {
        let export = self.spec.as_ref()?.reference.as_ref()?.export.as_ref()?;
        Some(ExportReference {
            path: export.path.clone(),
            name: export.name.clone().filter(|n| !n.is_empty())?,
        })
    }

    /// Why a `Bound` binding does not serve its export fully yet, if it does not: kcp keeps
    /// the phase `Bound` while the export is missing (`APIExportValid=False`, "APIExport ...
    /// not found", `pkg/reconciler/apis/apibinding/apibinding_reconcile.go`), and grants
    /// the export only the claims both exported and accepted, saying whether it could
    /// (`PermissionClaimsValid`, `PermissionClaimsApplied`,
    /// `pkg/reconciler/apis/permissionclaimlabel/permissionclaimlabel_reconcile.go`, kcp
    /// v0.30.0). A claim the export makes that the applied binding has not decided yet
    /// (a new binding, or a claim the export added) is not granted either: api-syncagent
    /// cannot see those objects until it is.
    pub fn unsettled(&self) -> Option<String> {
        let failed = |type_: &str| self.condition(type_).filter(|c| c.status == "False");
        if let Some(c) = failed("APIExportValid") {
            return Some(format!("its APIExport is not valid: {}", c.message));
        }
        let mut undecided: Vec<String> = Vec::new();
        for claim in self
            .status
            .iter()
            .flat_map(|s| &s.export_permission_claims)
            .filter(|c| {
                !c.claim.verbs.is_empty() && self.held(&c.claim).is_none_or(|d| d.state.is_none())
            })
        {
            let key = claim.claim.key();
            if !undecided.contains(&key) {
                undecided.push(key);
            }
        }
        if !undecided.is_empty() {
            return Some(format!(
                "the export's permission claims on {} are not decided in the binding yet",
                undecided.join(", ")
            ));
        }
        if let Some(c) =
            failed("PermissionClaimsValid").or_else(|| failed("PermissionClaimsApplied"))
        {
            return Some(format!(
                "kcp has not applied its permission claims: {}",
                c.message
            ));
        }
        None
    }

    /// The API groups the binding serves (`status.boundResources[].group`), in order,
    /// once each; none before kcp has bound it.
    pub fn bound_groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for bound in self.status.iter().flat_map(|s| &s.bound_resources) {
            if !bound.group.is_empty() && !groups.contains(&bound.group.as_str()) {
                groups.push(&bound.group);
            }
        }
        groups
    }

    /// Whether the binding is `Bound`.
    pub fn is_bound(&self) -> bool {
        self.phase() == Some(PHASE_BOUND)
    }

    /// `status.conditions`.
    pub fn conditions(&self) -> &[Condition] {
        self.status.as_ref().map_or(&[], |s| &s.conditions)
    }

    /// The condition of `type_`.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        condition::find(self.conditions(), type_)
    }

    /// The export's claims as KCP copied them into the binding's status.
    pub fn export_claims(&self) -> impl Iterator<Item = &PermissionClaim> {
        let claims = self
            .status
            .as_ref()
            .map_or(&[][..], |s| &s.export_permission_claims);
        claims.iter().map(|c| &c.claim)
    }

    /// Every export claim, accepted. Its selector is the one the applied binding already
    /// holds for that claim: kcp makes a claim's selector immutable (`ScopedPermissionClaim`,
    /// CEL `self == oldSelf`, "Permission claim selector is immutable"), while the export's
    /// `defaultSelector` may change, so re-deriving it would have every later update of the
    /// binding refused. A claim the binding does not hold yet takes the export's
    /// `defaultSelector` when it has a non-empty one, else `matchAll`. Sorted by
    /// `(group, resource, identityHash)`, one entry per key (the list-map key; a repeated key
    /// keeps its first verbs).
    pub fn accepted_claims(&self) -> Vec<AcceptablePermissionClaim> {
        let claims = self
            .status
            .as_ref()
            .map_or(&[][..], |s| &s.export_permission_claims);
        let held = |claim: &PermissionClaim| {
            self.held(claim)
                .and_then(|d| d.selector.clone())
                .filter(|s| !s.is_empty())
        };
        let mut by_key = BTreeMap::new();
        for export in claims.iter().filter(|c| !c.claim.verbs.is_empty()) {
            let key = (
                export.claim.group.clone(),
                export.claim.resource.clone(),
                export.claim.identity_hash.clone(),
            );
            by_key
                .entry(key)
                .or_insert_with(|| AcceptablePermissionClaim {
                    claim: export.claim.clone(),
                    selector: held(&export.claim)
                        .or_else(|| export.default_selector.clone().filter(|s| !s.is_empty()))
                        .unwrap_or_else(PermissionClaimSelector::all),
                    state: ClaimState::Accepted,
                });
        }
        by_key.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::{Value, json};

    fn observed_binding() -> ObservedApiBinding {
        serde_json::from_value(json!({"status": {
            "phase": "Bound",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "PermissionClaimsApplied", "status": "False", "reason": "Pending"}],
            "exportPermissionClaims": [
                {"group": "", "resource": "namespaces", "verbs": ["*"]},
                {"resource": "events", "verbs": ["*"], "identityHash": ""},
                {"group": "", "resource": "secrets", "verbs": ["get", "list"], "defaultSelector": {"matchLabels": {"app": "vm"}}},
                {"group": "core.kcp.io", "resource": "logicalclusters", "verbs": ["get"], "defaultSelector": {}},
                {"group": "", "resource": "configmaps", "verbs": []},
                {"group": "", "resource": "namespaces", "verbs": ["get"]}
            ]
        }}))
        .unwrap()
    }

    #[test]
    fn api_binding_accepts_the_exports_claims() {
        let observed = observed_binding();
        assert!(observed.is_bound());
        assert_eq!(
            observed
                .condition("PermissionClaimsApplied")
                .unwrap()
                .reason,
            "Pending"
        );
        assert_eq!(observed.export_claims().count(), 6);
        let binding = ApiBinding::new(
            meta("compute.cloud.stakater.com", None, &Labels::default()),
            ExportReference {
                path: Some("root:platform".into()),
                name: "compute.cloud.stakater.com".into(),
            },
            observed.accepted_claims(),
        );
        assert_eq!(
            serde_json::to_value(&binding).unwrap(),
            json!({
                "apiVersion": "apis.kcp.io/v1alpha2",
                "kind": "APIBinding",
                "metadata": {"name": "compute.cloud.stakater.com"},
                "spec": {
                    "reference": {"export": {"path": "root:platform", "name": "compute.cloud.stakater.com"}},
                    "permissionClaims": [
                        {"group": "", "resource": "events", "identityHash": "", "verbs": ["*"], "selector": {"matchAll": true}, "state": "Accepted"},
                        {"group": "", "resource": "namespaces", "identityHash": "", "verbs": ["*"], "selector": {"matchAll": true}, "state": "Accepted"},
                        {"group": "", "resource": "secrets", "identityHash": "", "verbs": ["get", "list"], "selector": {"matchLabels": {"app": "vm"}}, "state": "Accepted"},
                        {"group": "core.kcp.io", "resource": "logicalclusters", "identityHash": "", "verbs": ["get"], "selector": {"matchAll": true}, "state": "Accepted"},
                    ],
                },
            })
        );
        assert_eq!(binding.kind(), "APIBinding");
    }

    #[test]
    fn a_bound_binding_serves_once_every_claim_is_decided_and_applied() {
        // Nothing decided yet: the claims are named, once each.
        let observed = observed_binding();
        assert_eq!(
            observed.unsettled().unwrap(),
            "the export's permission claims on namespaces, events, secrets, logicalclusters.core.kcp.io are not decided in the binding yet"
        );
        // Every claim decided (a rejected one counts), but kcp has not applied them.
        let mut value = json!({
            "spec": {"permissionClaims": [
                {"group": "", "resource": "namespaces", "identityHash": "", "state": "Accepted"},
                {"group": "", "resource": "events", "identityHash": "", "state": "Accepted"},
                {"group": "", "resource": "secrets", "identityHash": "", "state": "Rejected"},
                {"group": "core.kcp.io", "resource": "logicalclusters", "identityHash": "", "state": "Accepted"},
            ]},
            "status": {
                "phase": "Bound",
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "PermissionClaimsApplied", "status": "False", "message": "1 error applying claims"},
                ],
                "exportPermissionClaims": [
                    {"group": "", "resource": "namespaces", "verbs": ["*"]},
                    {"resource": "events", "verbs": ["*"], "identityHash": ""},
                    {"group": "", "resource": "secrets", "verbs": ["get", "list"]},
                    {"group": "core.kcp.io", "resource": "logicalclusters", "verbs": ["get"]},
                    {"group": "", "resource": "configmaps", "verbs": []},
                ],
            },
        });
        let unsettled = |value: &Value| {
            serde_json::from_value::<ObservedApiBinding>(value.clone())
                .unwrap()
                .unsettled()
        };
        assert_eq!(
            unsettled(&value).unwrap(),
            "kcp has not applied its permission claims: 1 error applying claims"
        );
        value["status"]["conditions"][1]["status"] = json!("True");
        assert_eq!(unsettled(&value), None);
        // The export gone: kcp keeps the phase Bound.
        value["status"]["conditions"].as_array_mut().unwrap().push(
            json!({"type": "APIExportValid", "status": "False", "message": "APIExport root|x not found"}),
        );
        assert_eq!(
            unsettled(&value).unwrap(),
            "its APIExport is not valid: APIExport root|x not found"
        );
    }

    #[test]
    fn a_claim_keeps_the_selector_the_binding_holds_when_the_export_changes_its_default() {
        // The export now selects app=db for secrets; the binding accepted app=vm before, and
        // kcp refuses any change of an accepted claim's selector.
        let mut value = json!({
            "spec": {"permissionClaims": [
                {"group": "", "resource": "secrets", "identityHash": "", "verbs": ["get", "list"],
                 "selector": {"matchLabels": {"app": "vm"}}, "state": "Accepted"},
            ]},
            "status": {"exportPermissionClaims": [
                {"group": "", "resource": "secrets", "verbs": ["get", "list"], "defaultSelector": {"matchLabels": {"app": "db"}}},
                {"group": "", "resource": "configmaps", "verbs": ["get"], "defaultSelector": {"matchLabels": {"app": "db"}}},
            ]},
        });
        let selectors = |value: &serde_json::Value| {
            let observed: ObservedApiBinding = serde_json::from_value(value.clone()).unwrap();
            observed
                .accepted_claims()
                .into_iter()
                .map(|c| (c.claim.resource, c.selector.match_labels["app"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            selectors(&value),
            [
                ("configmaps".into(), "db".into()),
                ("secrets".into(), "vm".into())
            ],
            "held: kept; new: the export's default"
        );
        value["spec"] = json!({});
        assert_eq!(selectors(&value)[1], ("secrets".into(), "db".into()));
    }

    #[test]
    fn api_binding_without_claims_or_status() {
        let observed = ObservedApiBinding::default();
        assert_eq!((observed.phase(), observed.is_bound()), (None, false));
        assert!(observed.conditions().is_empty());
        let binding = ApiBinding::new(
            meta("local", None, &Labels::default()),
            ExportReference {
                path: None,
                name: "local".into(),
            },
            observed.accepted_claims(),
        );
        assert_eq!(
            serde_json::to_value(&binding).unwrap()["spec"],
            // Written when empty: claims the export dropped must leave the live binding.
            json!({"reference": {"export": {"name": "local"}}, "permissionClaims": []})
        );
        let binding_phase: ObservedApiBinding =
            serde_json::from_value(json!({"status": {"phase": "Binding"}})).unwrap();
        assert_eq!(binding_phase.phase(), Some("Binding"));
        assert!(!binding_phase.is_bound());
    }

    fn root_type(name: &str) -> WorkspaceTypeReference {
        WorkspaceTypeReference {
            name: name.into(),
            path: "root".into(),
        }
    }

    #[test]
    fn workspace() {
        let ws = Workspace::new(
            meta("acme", None, &Labels::default()),
            root_type("universal"),
        );
        assert_eq!(
            serde_json::to_value(ws).unwrap(),
            json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "acme"},
                   "spec": {"type": {"name": "universal", "path": "root"}}})
        );
        assert_eq!(child_path("root", "acme"), "root:acme");
    }

    #[test]
    fn observed_workspace_phase_and_url() {
        let read = |v| serde_json::from_value::<ObservedWorkspace>(v).unwrap();
        let ready = json!({"spec": {"URL": "https://kcp/clusters/root:acme"}, "status": {"phase": "Ready"}});
        let observed = read(ready);
        assert!(observed.is_ready());
        assert_eq!(observed.url(), Some("https://kcp/clusters/root:acme"));
        let scheduling = json!({"spec": {"URL": ""}, "status": {"phase": "Scheduling"}});
        let observed = read(scheduling);
        assert!(!observed.is_ready());
        assert_eq!(
            (observed.phase(), observed.url()),
            (Some("Scheduling"), None)
        );
        assert_eq!(read(json!({})), ObservedWorkspace::default());
    }

    #[test]
    fn workspace_type_with_authentication() {
        let spec = WorkspaceTypeSpec {
            authentication_configurations: vec![AuthenticationConfigurationReference {
                name: "keycloak-acme".into(),
            }],
            extend: Some(WorkspaceTypeExtension {
                with: vec![root_type("universal")],
            }),
        };
        let value = serde_json::to_value(WorkspaceType::new(
            meta("project", None, &Labels::default()),
            spec,
        ))
        .unwrap();
        assert_eq!(
            value["spec"]["authenticationConfigurations"],
            json!([{"name": "keycloak-acme"}])
        );
        assert_eq!(
            value["spec"]["extend"]["with"][0],
            json!({"name": "universal", "path": "root"})
        );
        let bare = serde_json::to_value(WorkspaceType::new(
            meta("plain", None, &Labels::default()),
            WorkspaceTypeSpec::default(),
        ))
        .unwrap();
        assert_eq!(bare["spec"], json!({}));
    }

    #[test]
    fn authentication_configuration() {
        let jwt = JwtAuthenticator {
            issuer: Issuer {
                url: "https://sso.example.com/realms/acme".into(),
                audiences: vec!["kubectl".into(), "sco-console".into()],
                audience_match_policy: Some("MatchAny"),
                certificate_authority: None,
            },
            claim_mappings: ClaimMappings {
                username: PrefixedClaim {
                    claim: "preferred_username".into(),
                    prefix: "oidc:".into(),
                },
                groups: PrefixedClaim {
                    claim: "groups".into(),
                    prefix: "oidc:".into(),
                },
            },
        };
        let value = serde_json::to_value(WorkspaceAuthenticationConfiguration::new(
            meta("keycloak-acme", None, &Labels::default()),
            vec![jwt],
        ))
        .unwrap();
        assert_eq!(value["kind"], "WorkspaceAuthenticationConfiguration");
        assert_eq!(
            value["spec"]["jwt"][0],
            json!({
                "issuer": {"url": "https://sso.example.com/realms/acme", "audiences": ["kubectl", "sco-console"], "audienceMatchPolicy": "MatchAny"},
                "claimMappings": {"username": {"claim": "preferred_username", "prefix": "oidc:"}, "groups": {"claim": "groups", "prefix": "oidc:"}},
            })
        );
    }

    #[test]
    fn bound_groups_skip_the_core_group_and_repeats() {
        let b: ObservedApiBinding = serde_json::from_value(json!({"status": {"boundResources": [
            {"group": "a.io", "resource": "x"}, {"group": "", "resource": "secrets"},
            {"group": "a.io", "resource": "y"}, {"group": "b.io", "resource": "z"}]}}))
        .unwrap();
        assert_eq!(b.bound_groups(), ["a.io", "b.io"]);
    }
}
