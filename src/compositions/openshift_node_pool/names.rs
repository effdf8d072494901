//! Names of the OpenShiftNodePool's composed resources and requirements.

/// The NodePool.
pub const NODE_POOL: &str = "node-pool";
/// Usage: the parent's HostedCluster outlives the NodePool.
pub const USAGE_HOSTED_CLUSTER_BY_NODE_POOL: &str = "usage-hosted-cluster-by-node-pool";
/// The requirement fetching the parent OpenShiftCluster.
pub const PARENT_REQUIREMENT: &str = "parent";
/// The requirement fetching the parent's HostedCluster.
pub const HOSTED_CLUSTER_REQUIREMENT: &str = "hosted-cluster";
/// The requirement fetching a NodePool of this pool's name, before this pool exists.
pub const SAME_NAME_REQUIREMENT: &str = "node-pool-of-the-same-name";
