//! The OpenShiftNodePool XR (`kubernetes.cloud.stakater.com/v1`, namespaced): a node pool
//! added to an OpenShiftCluster in the same namespace (`clusterRef.name`), and its status.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::openshift_cluster::spec::{Size, lenient};
use crate::compositions::types::DNS_LABEL_PATTERN;

/// The desired node pool.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kubernetes.cloud.stakater.com",
    version = "v1",
    kind = "OpenShiftNodePool",
    namespaced,
    status = "OpenShiftNodePoolStatus",
    derive = "PartialEq",
    category = "sco",
    doc = "A node pool of an OpenShiftCluster in the same namespace (one created with defaultNodepool.enabled: false, or beside its default pool): a HyperShift NodePool of the cluster's release, sized by T-shirt size. It waits while the cluster is not available. Deleting the cluster deletes this pool's NodePool and nodes with it; the XR stays, waiting for a cluster of its clusterRef.",
    printcolumn = r#"{"name": "CLUSTER", "type": "string", "jsonPath": ".spec.parameters.clusterRef.name"}"#,
    printcolumn = r#"{"name": "VERIFIED", "type": "boolean", "jsonPath": ".status.clusterRef.available"}"#,
    printcolumn = r#"{"name": "PHASE", "type": "string", "jsonPath": ".status.phase"}"#
)]
pub struct OpenShiftNodePoolSpec {
    /// The cluster, the size and the number of nodes.
    pub parameters: Parameters,
}

/// The parameters of a node pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// The OpenShiftCluster (in this namespace) the pool belongs to; what was found of it is
    /// in `status.clusterRef`. Immutable.
    pub cluster_ref: ClusterRef,
    /// The T-shirt size of each node (the platform's size table).
    #[serde(default)]
    pub size: Size,
    /// The number of nodes.
    #[serde(default = "three")]
    #[schemars(default = "three", range(min = 1, max = 10))]
    pub replicas: u32,
}

fn three() -> u32 {
    3
}

/// A reference to the parent cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterRef {
    /// The OpenShiftCluster's name.
    #[schemars(length(min = 1, max = 63), pattern(DNS_LABEL_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "clusterRef.name is immutable: a NodePool's clusterName cannot change"}]))]
    pub name: String,
}

/// The phase of a node pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    /// The cluster does not exist or is not available.
    WaitingForCluster,
    /// The NodePool exists; its nodes are joining.
    Creating,
    /// Every node joined (on platform None, where HyperShift manages no machines: nodes can
    /// join, its ignition is served).
    Ready,
    /// Ready, and HyperShift is moving the nodes to a new release, configuration or node
    /// shape (a Replace pool replaces them one by one, keeping its size; an InPlace pool
    /// updates them in place).
    Updating,
}

/// Status of the OpenShiftNodePool XR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenShiftNodePoolStatus {
    /// WaitingForCluster, Creating, Ready or Updating.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<Phase>,
    /// The parent cluster as observed.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_ref: Option<ClusterRefStatus>,
    /// Nodes that joined (HyperShift counts none on platform None).
    #[serde(default, deserialize_with = "lenient")]
    pub replicas: u32,
    /// Whether every node joined (on platform None: whether nodes can join).
    #[serde(default, deserialize_with = "lenient")]
    pub ready: bool,
}

/// The parent cluster as observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRefStatus {
    /// Its name.
    pub name: String,
    /// `OpenShiftCluster`.
    pub kind: String,
    /// `kubernetes.cloud.stakater.com/v1`.
    pub api_version: String,
    /// Its namespace.
    pub namespace: String,
    /// Its uid, once found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Whether its control plane is available.
    pub available: bool,
    /// What was found.
    pub message: String,
}
