//! OpenShiftNodePool: a node pool added to an OpenShiftCluster. A namespaced
//! `kubernetes.cloud.stakater.com/v1` `OpenShiftNodePool` names its parent OpenShiftCluster in
//! the same namespace (`spec.parameters.clusterRef.name`) and becomes a HyperShift `NodePool`
//! of the parent's HostedCluster.
//!
//! | XR field (`spec.parameters.`) | resources (composition resource name) |
//! |---|---|
//! | `clusterRef.name` | the parent, fetched as required resource `parent`; its HostedCluster `<clusterName>` as `hosted-cluster` |
//! | `size`, `replicas` | `node-pool` (NodePool `<clusterName>-<xr name>`, at most 63 characters): replicas, the size table's compute and root volume (KubeVirt) or Agent labels |
//! | (deletion order) | `usage-hosted-cluster-by-node-pool`: the parent's HostedCluster outlives the pool |
//!
//! **The parent.** Read as required resources (no Object with `managementPolicies: [Observe]`
//! is needed: both live in the XR's namespace): the OpenShiftCluster gives the HostedCluster's
//! name (`spec.parameters.clusterName`), and the HostedCluster the release image
//! (`spec.release.image`, so a pool follows the cluster's version once its control plane has
//! rolled it out: [`crate::resources::hypershift::node_release`]), the platform
//! (`spec.platform.type`) and availability (`Available=True`). While the parent or its
//! HostedCluster is missing or not available no pool is created and the XR waits
//! (`WaitingForCluster`, phase `WaitingForCluster`). A NodePool that exists is kept as it
//! runs (its observed release image) while HyperShift reports the HostedCluster unavailable,
//! as during a control plane restart or upgrade: Crossplane deletes every composed resource a
//! function leaves out. Its `management.upgradeType` is immutable (the NodePool CRD's CEL
//! rule), so an existing pool keeps its own whatever the settings say now. Deleting the
//! parent deletes the pool too: once the OpenShiftCluster is gone or being deleted (in the
//! foreground it stays until its HostedCluster is gone, which the Usage below holds for the
//! pool) nothing names the pool's shape, so this XR composes nothing and waits
//! (`WaitingForCluster`), Crossplane deletes the NodePool, and the Usage holds the
//! HostedCluster until the pool is gone (the garbage collector retries the blocked deletion:
//! [`crate::resources::usage::Usage::new`]).
//!
//! **Sizes** come from this composition's settings (`openshiftNodePool.sizes`,
//! `agentLabels`), which follow the OpenShiftCluster's (`SETTINGS_FROM`: a pool of a size is
//! the same machine as a cluster's default pool of that size unless the platform patches the
//! pools' table): on KubeVirt a size missing from the table is refused, on Agent a size
//! without labels is refused, on None sizes select nothing (a Warning says so).
//! `management.upgradeType` is Replace on KubeVirt and InPlace otherwise unless `upgradeType`
//! says.
//!
//! **Status**: `phase` (`WaitingForCluster`; `Creating` while the NodePool's nodes join;
//! `Ready` once it reports `Ready=True` with all replicas, or on platform None, where
//! HyperShift manages no machines and reports neither, once nodes can join: its ignition
//! payload is served, see `ObservedNodePool::serves`; `Updating` while it is ready and
//! HyperShift moves its nodes to a new release, configuration or shape), `replicas`, `ready`, and
//! `clusterRef.{name, kind, apiVersion, namespace, uid, available, message}`.

pub mod names;
pub mod settings;
pub mod spec;
#[cfg(test)]
mod tests;

use serde::Deserialize;

use super::build::Build;
use super::conventions::{self, XrIdentity};
use super::openshift_cluster::{self, Nodes};
use super::types::{check_dns_label, quoted};
use super::{Composition, Context, FieldError, Invalid};
use crate::resources::hypershift::{
    ObservedHostedCluster, ObservedNodePool, PlatformType, UpgradeType,
};
use crate::resources::usage::Usage;
use crate::resources::{self, Labels, Meta};
use crate::sdk::resource::DNS_LABEL_MAX;
use crate::sdk::response::{Match, Requirement};
pub use settings::Settings;
use spec::{ClusterRefStatus, OpenShiftNodePoolStatus, Parameters, Phase};

/// The parent's kind.
const PARENT_KIND: &str = "OpenShiftCluster";

/// The OpenShiftNodePool composition.
pub struct OpenShiftNodePool;

/// What a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The NodePool.
    Nodes,
    /// Usages.
    DeletionOrder,
}

impl Composition for OpenShiftNodePool {
    const NAME: &'static str = "OpenShiftNodePool";
    const API_VERSION: &'static str = "kubernetes.cloud.stakater.com/v1";
    const KIND: &'static str = "OpenShiftNodePool";
    const SETTINGS_KEY: &'static str = "openshiftNodePool";
    const SETTINGS_FROM: Option<(&'static str, &'static [&'static str])> = Some((
        "openshiftCluster",
        &[
            "sizes",
            "agentLabels",
            "rootVolumeStorageClass",
            "upgradeType",
        ],
    ));
    type Xr = spec::OpenShiftNodePool;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = Pool<'a>;
    type Status = OpenShiftNodePoolStatus;

    fn validate<'a>(
        xr: &'a spec::OpenShiftNodePool,
        cx: Context<'a, Settings>,
    ) -> Result<Pool<'a>, Invalid> {
        validate(xr, cx)
    }

    fn compose(p: &Pool<'_>, build: &mut Build<'_, Part>) {
        p.compose(build);
    }

    fn status(p: &Pool<'_>, build: &Build<'_, Part>) -> OpenShiftNodePoolStatus {
        p.status(build)
    }
}

/// The parent OpenShiftCluster as fetched.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct Parent {
    #[serde(default)]
    metadata: ParentMeta,
    #[serde(default)]
    spec: ParentSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ParentMeta {
    uid: Option<String>,
    deletion_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ParentSpec {
    #[serde(default)]
    parameters: ParentParameters,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ParentParameters {
    cluster_name: Option<String>,
}

/// The parent's HostedCluster as fetched: what the reader reads, and its platform.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct HostedShape {
    #[serde(default)]
    spec: HostedShapeSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct HostedShapeSpec {
    platform: Option<HostedShapePlatform>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct HostedShapePlatform {
    /// Read as text: a platform not ours is refused by name, not taken for the default.
    #[serde(rename = "type")]
    type_: Option<String>,
}

/// What was found of the parent.
#[derive(Debug, Clone)]
enum Found {
    /// Crossplane has not fetched it yet, or it does not exist.
    Missing(String),
    /// The parent exists; its HostedCluster is not fetched or not available (with the pool's
    /// shape when the HostedCluster is fetched).
    NotAvailable {
        uid: Option<String>,
        message: String,
        shape: Option<Shape>,
    },
    /// The parent's control plane is available.
    Available {
        uid: Option<String>,
        shape: Shape,
        /// The HostedCluster's `spec.release.image`.
        release_image: String,
        /// The newest release its control plane has rolled out.
        rolled_out: Option<String>,
    },
}

/// The pool as the parent's HostedCluster and the settings make it.
#[derive(Debug, Clone)]
struct Shape {
    cluster: String,
    nodes: Nodes,
    /// For a new pool: an existing one keeps its own (immutable).
    upgrade_type: UpgradeType,
    platform: PlatformType,
}

/// A valid OpenShiftNodePool.
pub struct Pool<'a> {
    params: &'a Parameters,
    settings: &'a Settings,
    namespace: String,
    name: String,
    labels: Labels,
    found: Found,
}

fn validate<'a>(
    xr: &'a spec::OpenShiftNodePool,
    cx: Context<'a, Settings>,
) -> Result<Pool<'a>, Invalid> {
    let params = &xr.spec.parameters;
    let settings = cx.settings;
    let identity = XrIdentity::of::<OpenShiftNodePool>(&xr.metadata);
    let Some(namespace) = identity.scope.namespace().map(str::to_owned) else {
        return Err(Invalid::field(
            "metadata.namespace",
            "an OpenShiftNodePool is namespaced; create it in its cluster's namespace",
        ));
    };
    let mut errors = Vec::new();
    let mut fail = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        });
    };
    if let Err(e) = check_dns_label(&params.cluster_ref.name) {
        fail("spec.parameters.clusterRef.name", e);
    }
    if identity.name == "default" {
        fail(
            "metadata.name",
            "\"default\" names the cluster's own node pool (NodePool <clusterName>-default, composed by the OpenShiftCluster); choose another name".to_owned(),
        );
    }
    if !(1..=10).contains(&params.replicas) {
        fail(
            "spec.parameters.replicas",
            format!("{} is out of range: use 1 to 10 nodes", params.replicas),
        );
    }
    let found = found(cx, params, settings, &identity.name, &mut fail);
    if !errors.is_empty() {
        return Err(Invalid(errors));
    }
    Ok(Pool {
        params,
        settings,
        labels: identity.labels(None, conventions::project_of_namespace(&namespace)),
        name: identity.name,
        namespace,
        found,
    })
}

/// The parent and its HostedCluster, as far as Crossplane fetched them; a size the parent's
/// platform cannot give, or a pool name too long, is a field error.
fn found(
    cx: Context<'_, Settings>,
    params: &Parameters,
    settings: &Settings,
    xr: &str,
    fail: &mut impl FnMut(&str, String),
) -> Found {
    let parent_name = &params.cluster_ref.name;
    let Some(parent) = cx
        .observed
        .required
        .get(names::PARENT_REQUIREMENT)
        .and_then(|p| p.first())
        .and_then(|p| serde_json::from_value::<Parent>(p.clone()).ok())
    else {
        return Found::Missing(format!(
            "OpenShiftCluster {parent_name} is not found in this namespace (yet)"
        ));
    };
    // A parent being deleted is gone for its pools: deleted in the foreground it stays until
    // its HostedCluster is gone, which the Usage of this pool keeps until the pool is gone,
    // so a pool kept while the parent is still seen would hold both for ever.
    if parent.metadata.deletion_timestamp.is_some() {
        return Found::Missing(format!(
            "OpenShiftCluster {parent_name} is being deleted, and its node pools with it"
        ));
    }
    let uid = parent.metadata.uid.clone();
    let Some(cluster) = parent.spec.parameters.cluster_name.clone() else {
        return Found::NotAvailable {
            uid,
            message: format!("OpenShiftCluster {parent_name} names no clusterName"),
            shape: None,
        };
    };
    let pool_name = format!("{cluster}-{xr}");
    if pool_name.len() > DNS_LABEL_MAX {
        fail(
            "metadata.name",
            format!(
                "{} is too long: the NodePool {} would have {} characters, and at most 63 fit; use a name of at most {} characters",
                quoted(xr),
                quoted(&pool_name),
                pool_name.len(),
                DNS_LABEL_MAX.saturating_sub(cluster.len() + 1)
            ),
        );
    }
    // Names are `<cluster>-<xr>` in a namespace several clusters share, so another cluster's
    // pool can have this one's name (`dev` + `prod-batch`, `dev-prod` + `batch`, or the
    // cluster's own `-default`): HyperShift keys a NodePool by namespace and name only.
    if !cx.observed.exists(names::NODE_POOL)
        && let Some(other) = cx
            .observed
            .required
            .get(names::SAME_NAME_REQUIREMENT)
            .and_then(|found| found.first())
    {
        let of = other
            .pointer("/spec/clusterName")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("another cluster");
        fail(
            "metadata.name",
            format!(
                "the NodePool {pool_name} exists already, for HostedCluster {of}, and this pool would take it; choose another name"
            ),
        );
    }
    let hosted = cx
        .observed
        .required
        .get(names::HOSTED_CLUSTER_REQUIREMENT)
        .and_then(|h| h.first());
    let Some(hosted) = hosted else {
        return Found::NotAvailable {
            uid,
            message: format!(
                "the HostedCluster {cluster} of OpenShiftCluster {parent_name} is not found (yet)"
            ),
            shape: None,
        };
    };
    let observed: ObservedHostedCluster =
        serde_json::from_value(hosted.clone()).unwrap_or_default();
    let observed_type = serde_json::from_value::<HostedShape>(hosted.clone())
        .ok()
        .and_then(|h| h.spec.platform?.type_);
    let platform = match observed_type.as_deref() {
        None => PlatformType::KubeVirt,
        Some(type_) => {
            let Some(platform) = PlatformType::observed(type_) else {
                fail(
                    "spec.parameters.clusterRef.name",
                    format!(
                        "the HostedCluster {cluster} of OpenShiftCluster {parent_name} has platform {}, which node pools are not made for ({}); reference another cluster",
                        quoted(type_),
                        PlatformType::MANAGED
                    ),
                );
                return Found::NotAvailable {
                    uid,
                    message: String::new(),
                    shape: None,
                };
            };
            platform
        }
    };
    let nodes = match platform {
        PlatformType::KubeVirt => settings.sizes.get(params.size).map(|s| Nodes::KubeVirt {
            cores: s.cores,
            memory: s.memory.clone(),
            root_volume: s.root_volume.clone(),
        }),
        PlatformType::Agent => settings
            .agent_labels
            .get(params.size)
            .map(|labels| Nodes::Agent(labels.clone())),
        PlatformType::None => Some(Nodes::None),
    };
    let Some(nodes) = nodes else {
        let (listed, key) = match platform {
            PlatformType::Agent => (settings.agent_labels.listed(), "agentLabels"),
            _ => (settings.sizes.listed(), "sizes"),
        };
        fail(
            "spec.parameters.size",
            format!(
                "{} is not offered for the cluster's {platform:?} nodes on this platform (sizes: {}); choose a listed size, or ask the platform team to add it to openshiftCluster.{key}, which node pools follow (openshiftNodePool.{key} for pools alone)",
                params.size,
                if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed.join(", ")
                },
            ),
        );
        return Found::NotAvailable {
            uid,
            message: String::new(),
            shape: None,
        };
    };
    let shape = Shape {
        upgrade_type: settings
            .upgrade_type
            .unwrap_or(UpgradeType::default_on(platform)),
        cluster,
        nodes,
        platform,
    };
    match observed.release_image().filter(|_| observed.is_available()) {
        Some(image) => Found::Available {
            uid,
            release_image: image.to_owned(),
            rolled_out: observed.rolled_out_release(image).map(str::to_owned),
            shape,
        },
        None => Found::NotAvailable {
            uid,
            message: format!(
                "the HostedCluster {} of OpenShiftCluster {parent_name} is not available",
                shape.cluster
            ),
            shape: Some(shape),
        },
    }
}

impl Pool<'_> {
    fn meta(&self, name: &str) -> Meta {
        resources::meta(name, Some(&self.namespace), &self.labels)
    }

    fn compose(&self, build: &mut Build<'_, Part>) {
        build.require(
            names::PARENT_REQUIREMENT,
            Requirement {
                api_version: OpenShiftNodePool::API_VERSION.into(),
                kind: PARENT_KIND.into(),
                matching: Match::Name(self.params.cluster_ref.name.clone()),
                namespace: Some(self.namespace.clone()),
            },
        );
        let cluster = match &self.found {
            Found::Missing(_) => None,
            Found::NotAvailable { .. } => build
                .required(names::PARENT_REQUIREMENT)
                .and_then(<[serde_json::Value]>::first)
                .and_then(|p| serde_json::from_value::<Parent>(p.clone()).ok())
                .and_then(|p| p.spec.parameters.cluster_name),
            Found::Available { shape, .. } => Some(shape.cluster.clone()),
        };
        if let Some(cluster) = &cluster {
            build.require(
                names::HOSTED_CLUSTER_REQUIREMENT,
                Requirement {
                    api_version: crate::resources::hypershift::API_VERSION.into(),
                    kind: "HostedCluster".into(),
                    matching: Match::Name(cluster.clone()),
                    namespace: Some(self.namespace.clone()),
                },
            );
            if !build.exists(names::NODE_POOL) {
                build.require(
                    names::SAME_NAME_REQUIREMENT,
                    Requirement {
                        api_version: crate::resources::hypershift::API_VERSION.into(),
                        kind: "NodePool".into(),
                        matching: Match::Name(conventions::name(&[cluster, &self.name])),
                        namespace: Some(self.namespace.clone()),
                    },
                );
            }
        }
        let observed = build
            .read::<ObservedNodePool>(names::NODE_POOL)
            .unwrap_or_default();
        if let Some(why) = observed.paused() {
            build.warn(format!(
                "NodePool {} is paused ({why}): HyperShift neither scales nor updates its nodes until its spec.pausedUntil is removed; HyperShift's OADP plugin pauses node pools while a backup of their namespace runs",
                cluster.as_deref().map_or_else(
                    || self.name.to_string(),
                    |cluster| conventions::name(&[cluster, &self.name])
                )
            ));
        }
        let (shape, release_image) = match (&self.found, observed.release_image()) {
            (
                Found::Available {
                    shape,
                    release_image,
                    rolled_out,
                    ..
                },
                running,
            ) => (
                shape,
                crate::resources::hypershift::node_release(
                    release_image,
                    rolled_out.as_deref(),
                    running,
                ),
            ),
            // Created once the cluster is available; kept as it runs while HyperShift reports
            // the cluster unavailable (a control plane restart, an upgrade): Crossplane
            // deletes every composed resource a function leaves out.
            (
                Found::NotAvailable {
                    shape: Some(shape),
                    message,
                    ..
                },
                Some(running),
            ) => {
                build.wait("WaitingForCluster", message.clone());
                (shape, running)
            }
            (Found::Missing(message) | Found::NotAvailable { message, .. }, _) => {
                build.wait("WaitingForCluster", message.clone());
                return;
            }
        };
        let Shape {
            cluster,
            nodes,
            upgrade_type,
            platform,
        } = shape;
        let pool = openshift_cluster::node_pool(
            self.meta(&conventions::name(&[cluster, &self.name])),
            cluster,
            self.params.replicas,
            release_image,
            nodes,
            self.settings.root_volume_storage_class.as_deref(),
            observed.upgrade_type().unwrap_or(*upgrade_type),
        );
        build.add(names::NODE_POOL, Part::Nodes, &pool, observed.serves(&pool));
        let hosted_cluster = resources::Known {
            api_version: crate::resources::hypershift::API_VERSION,
            kind: "HostedCluster",
            metadata: self.meta(cluster),
        };
        let usage = Usage::new(
            self.meta(&conventions::name(&[cluster, "by", &pool.metadata.name])),
            &hosted_cluster,
            &pool,
        );
        build.add_managed(
            names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL,
            Part::DeletionOrder,
            &usage,
        );
        if *platform == PlatformType::None {
            build.warn(format!(
                "size {} and replicas {} select nothing on platform None: HyperShift manages no machines there, nodes join the pool by booting its ignition",
                self.params.size, self.params.replicas
            ));
        }
        // An InPlace pool applies a new platform shape to nodes added later only
        // (HyperShift's nodepool-lifecycle: "Platform specific changes will only affect
        // upcoming new Nodes"), so a new size leaves the existing Agents selected as they were.
        if let (Nodes::Agent(wanted), Some(selected), UpgradeType::InPlace) = (
            nodes,
            observed.agent_labels(),
            pool.spec.management.upgrade_type,
        ) && wanted != selected
        {
            build.warn(format!(
                "size {} selects other Agents than the pool's nodes were taken by: on an InPlace pool only nodes added from now on follow it; to move every node, scale the pool down and up, or create a new OpenShiftNodePool",
                self.params.size
            ));
        }
    }

    fn status(&self, build: &Build<'_, Part>) -> OpenShiftNodePoolStatus {
        let observed = build
            .read::<ObservedNodePool>(names::NODE_POOL)
            .unwrap_or_default();
        let ready = build.all_ready();
        let (uid, available, message) = match &self.found {
            Found::Missing(m) => (None, false, m.clone()),
            Found::NotAvailable { uid, message, .. } => (uid.clone(), false, message.clone()),
            Found::Available { uid, shape, .. } => (
                uid.clone(),
                true,
                format!("HostedCluster {} is available", shape.cluster),
            ),
        };
        let phase = if !(available && build.composed(names::NODE_POOL)) {
            Phase::WaitingForCluster
        } else if ready && observed.updating().is_some() {
            Phase::Updating
        } else if ready {
            Phase::Ready
        } else {
            Phase::Creating
        };
        OpenShiftNodePoolStatus {
            phase: Some(phase),
            cluster_ref: Some(ClusterRefStatus {
                name: self.params.cluster_ref.name.clone(),
                kind: PARENT_KIND.into(),
                api_version: OpenShiftNodePool::API_VERSION.into(),
                namespace: self.namespace.clone(),
                uid,
                available,
                message,
            }),
            replicas: observed.replicas(),
            ready,
        }
    }
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::hypershift;
    use crate::resources::readers::{Upstream, pointer, reader, typed};
    vec![
        typed::<Parent>(Upstream::Xrd("openshiftcluster")),
        reader::<HostedShape>(hypershift::API_VERSION, "HostedCluster"),
        pointer(
            Upstream::Kind(hypershift::API_VERSION.into(), "NodePool"),
            "/spec/clusterName",
        ),
    ]
}
