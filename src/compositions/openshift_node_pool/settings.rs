//! The OpenShiftNodePool's own platform settings (`openshiftNodePool`): the size table of
//! added pools. The platform and release image come from the parent's HostedCluster. Every
//! key follows `openshiftCluster`'s (the composition's `SETTINGS_FROM`): it starts from what
//! the platform resolved there, and what a layer sets here patches that, so one table serves
//! clusters and pools. The defaults below are for the schema; they equal the cluster's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compositions::openshift_cluster::settings::{NodeSize, PerSize};
use crate::resources::hypershift::UpgradeType;

/// Platform settings of the OpenShiftNodePool composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// KubeVirt: the cores, memory and root volume of each node size (follows
    /// `openshiftCluster.sizes`; what is set here patches it for pools alone).
    pub sizes: PerSize<NodeSize>,
    /// Agent: the labels that select Agents of each size (follows
    /// `openshiftCluster.agentLabels`; what is set here patches it for pools alone).
    pub agent_labels: PerSize<std::collections::BTreeMap<String, String>>,
    /// KubeVirt: StorageClass of node root volumes; absent for the default class (follows
    /// `openshiftCluster.rootVolumeStorageClass`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_volume_storage_class: Option<String>,
    /// How NodePools upgrade; absent for the platform's default (follows
    /// `openshiftCluster.upgradeType`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_type: Option<UpgradeType>,
}

impl Default for Settings {
    fn default() -> Self {
        let cluster = crate::compositions::openshift_cluster::Settings::default();
        Self {
            sizes: cluster.sizes,
            agent_labels: cluster.agent_labels,
            root_volume_storage_class: None,
            upgrade_type: None,
        }
    }
}
