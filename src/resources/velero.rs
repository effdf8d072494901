//! Velero / OADP: the `Schedule` (`velero.io/v1`, namespaced, in OADP's own namespace) that backs
//! up a HyperShift hosted cluster's control plane, etcd included, on a cron schedule.
//!
//! The backup template follows HyperShift's disaster-recovery guide for OADP
//! (`openshift/hypershift@4c25c79d` `docs/content/how-to/disaster-recovery/backup-and-restore-oadp-1-5.md`,
//! and its successor `docs/content/how-to/disaster-recovery/methods/oadp.md`@63f38194):
//! - `includedNamespaces`: the HostedCluster's namespace and the hosted control plane's
//!   namespace `<namespace>-<name>` (the `hypershift` CLI's `cmd/oadp/common.go`
//!   `buildIncludedNamespaces`), and on Agent the namespace of the Agents, BareMetalHosts and
//!   InfraEnvs (openshift-docs `hcp-disaster-recovery-oadp`: "`<agent_namespace>` where your
//!   Agent, BMH, and InfraEnv CRs are located");
//! - `includedResources`: the guide's list for the platform (KubeVirt: its own list with
//!   `datavolume` and, as the newer guide, the CLI's `kubevirtResources` and the OADP plugin's
//!   `BackupKubevirtResources` have it, `kubevirtcluster` and `kubevirtmachinetemplate`;
//!   Agent: the bare-metal list with `bmh`, `infraenv`, `agents`, `nmstateconfigs` and the
//!   `agent*` CAPI kinds; None: the list common to all platforms, without machine kinds);
//! - KubeVirt: `labelSelector` excluding the RHCOS boot-image PVCs
//!   (`hypershift.openshift.io/is-kubevirt-rhcos DoesNotExist`), since the node VMs are
//!   recreated on restore;
//! - volumes: CSI snapshots moved to the storage location (`snapshotMoveData: true`,
//!   `datamover: velero`, `defaultVolumesToFsBackup: false`, `snapshotVolumes: true`), or
//!   file-system backup (`defaultVolumesToFsBackup: true`) for storage without CSI snapshots.
//!
//! The guide's KubeVirt Backup also sets `preserveNodePorts`, which is a Restore field: the
//! Backup and Schedule schemas (`vmware-tanzu/velero@d30d389b`
//! `config/crd/v1/bases/velero.io_schedules.yaml`) have no such field, so it is not emitted.
//! Field meanings follow `vmware-tanzu/velero@059b6139` `pkg/apis/velero/v1/schedule_types.go`:
//! `schedule` is a cron expression, `template` a Backup spec whose `ttl` (a Go duration) is the
//! retention; a new Schedule backs up at once unless `skipImmediately` (unset here: the server
//! default, no skip); `useOwnerReferencesInBackup` is left unset so backups outlive a deleted
//! Schedule; each Backup is named `<schedule>-<YYYYMMDDhhmmss>`, so a Schedule's name should
//! leave 15 characters of room. Status: `phase` (`New`, `Enabled`, `FailedValidation`),
//! `lastBackup`, `validationErrors`.

use serde::{Deserialize, Serialize};

use super::Meta;

/// apiVersion of the `Schedule`.
pub const API_VERSION: &str = "velero.io/v1";
/// The label HyperShift puts on the KubeVirt RHCOS boot-image PVCs, which the backup skips.
pub const KUBEVIRT_RHCOS_LABEL: &str = "hypershift.openshift.io/is-kubevirt-rhcos";

/// provider-kubernetes CEL readiness query for a wrapped Schedule: Velero has validated and
/// enabled it (a Schedule has no `Ready` condition).
pub const ENABLED_QUERY: &str =
    "has(object.status) && has(object.status.phase) && object.status.phase == 'Enabled'";

/// The resources every platform's backup includes (HyperShift DR guide).
const COMMON_RESOURCES: [&str; 20] = [
    "sa",
    "role",
    "rolebinding",
    "pod",
    "pvc",
    "pv",
    "configmap",
    "priorityclasses",
    "pdb",
    "hostedcluster",
    "nodepool",
    "secrets",
    "services",
    "deployments",
    "statefulsets",
    "hostedcontrolplane",
    "cluster",
    "machinedeployment",
    "machineset",
    "machine",
];

/// The KubeVirt backup's resource list (HyperShift DR guide, KubeVirt tab).
const KUBEVIRT_RESOURCES: [&str; 22] = [
    "sa",
    "role",
    "rolebinding",
    "deployment",
    "statefulset",
    "pv",
    "pvc",
    "bmh",
    "configmap",
    "infraenv",
    "priorityclasses",
    "pdb",
    "hostedcluster",
    "nodepool",
    "secrets",
    "hostedcontrolplane",
    "cluster",
    "datavolume",
    "service",
    "route",
    "kubevirtcluster",
    "kubevirtmachinetemplate",
];

/// What the Agent (bare-metal) backup adds to the common list.
const AGENT_RESOURCES: [&str; 7] = [
    "bmh",
    "infraenv",
    "agents",
    "nmstateconfigs",
    "agentcluster",
    "agentmachinetemplate",
    "agentmachine",
];

/// What the common list is followed by on every platform but KubeVirt.
const TRAILING_RESOURCES: [&str; 2] = ["route", "clusterdeployment"];

/// The HostedCluster platform, which decides the resource list, namespaces and selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// KubeVirt: node VMs are recreated on restore, their boot-image PVCs are skipped.
    KubeVirt,
    /// Agent (bare metal): agents, InfraEnvs, NMStateConfigs and BareMetalHosts are included,
    /// from the namespace they live in (the HostedCluster's `agentNamespace`).
    Agent {
        /// Where the Agents are.
        agent_namespace: String,
    },
    /// None: only the platform-independent resources.
    None,
}

impl Platform {
    /// The `includedResources` of the guide's backup for this platform.
    pub fn included_resources(&self) -> Vec<String> {
        let names: Vec<&str> = match self {
            Self::KubeVirt => KUBEVIRT_RESOURCES.to_vec(),
            Self::Agent { .. } => COMMON_RESOURCES
                .iter()
                .chain(&AGENT_RESOURCES)
                .chain(&TRAILING_RESOURCES)
                .copied()
                .collect(),
            Self::None => COMMON_RESOURCES
                .iter()
                .chain(&TRAILING_RESOURCES)
                .copied()
                .collect(),
        };
        names.into_iter().map(str::to_owned).collect()
    }

    /// The namespace of the platform's own objects besides the cluster's two: on Agent the
    /// one its Agents, BareMetalHosts and InfraEnvs live in.
    fn platform_namespace(&self) -> Option<&str> {
        match self {
            Self::Agent { agent_namespace } if !agent_namespace.is_empty() => Some(agent_namespace),
            _ => None,
        }
    }

    fn label_selector(&self) -> Option<LabelSelector> {
        (*self == Self::KubeVirt).then(|| LabelSelector {
            match_expressions: vec![LabelSelectorRequirement {
                key: KUBEVIRT_RHCOS_LABEL.to_owned(),
                operator: "DoesNotExist",
            }],
        })
    }
}

/// How persistent volumes (etcd's included) are backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeBackup {
    /// CSI VolumeSnapshots, whose data the Velero data mover uploads to the storage location.
    CsiSnapshotMoveData,
    /// Kopia file-system backup of every volume, for storage classes without CSI snapshots.
    FileSystem,
}

/// What a HyperShift control-plane backup schedule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedClusterBackup {
    /// The HostedCluster's namespace.
    pub hosted_cluster_namespace: String,
    /// The HostedCluster's name (the control plane lives in `<namespace>-<name>`).
    pub hosted_cluster_name: String,
    /// The platform.
    pub platform: Platform,
    /// The BackupStorageLocation's name (OADP's DPA `backupLocations[].name`).
    pub storage_location: String,
    /// A cron expression (`0 */6 * * *`).
    pub schedule: String,
    /// How long each backup is kept, as a Go duration (`168h0m0s`).
    pub ttl: String,
    /// How volumes are backed up.
    pub volumes: VolumeBackup,
}

/// A Velero `Schedule`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// `velero.io/v1`.
    pub api_version: &'static str,
    /// `Schedule`.
    pub kind: &'static str,
    /// Metadata (namespaced: OADP's namespace).
    pub metadata: Meta,
    /// Spec.
    pub spec: ScheduleSpec,
}

/// `spec` of a Schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleSpec {
    /// The cron expression.
    pub schedule: String,
    /// The Backup each run creates.
    pub template: BackupSpec,
}

/// `spec.template` of a Schedule (a Backup's spec).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Namespaces to back up.
    pub included_namespaces: Vec<String>,
    /// Resources to back up (short names and plurals, as the guide gives them).
    pub included_resources: Vec<String>,
    /// Objects must match this selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// The BackupStorageLocation.
    pub storage_location: String,
    /// Retention, a Go duration.
    pub ttl: String,
    /// Whether CSI snapshot data is moved to the storage location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_move_data: Option<bool>,
    /// The data mover (`velero`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datamover: Option<&'static str>,
    /// Whether every volume is backed up by file-system backup.
    pub default_volumes_to_fs_backup: bool,
    /// Whether volumes are snapshotted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_volumes: Option<bool>,
}

/// A label selector with `matchExpressions` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// The requirements.
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry without values (`Exists`, `DoesNotExist`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `Exists` or `DoesNotExist`.
    pub operator: &'static str,
}

impl Schedule {
    /// The schedule backing up `backup`'s hosted cluster; `metadata` names OADP's namespace.
    pub fn hosted_cluster(metadata: Meta, backup: &HostedClusterBackup) -> Self {
        let csi = backup.volumes == VolumeBackup::CsiSnapshotMoveData;
        let namespace = &backup.hosted_cluster_namespace;
        Self {
            api_version: API_VERSION,
            kind: "Schedule",
            metadata,
            spec: ScheduleSpec {
                schedule: backup.schedule.clone(),
                template: BackupSpec {
                    included_namespaces: [
                        namespace.clone(),
                        format!("{namespace}-{}", backup.hosted_cluster_name),
                    ]
                    .into_iter()
                    .chain(backup.platform.platform_namespace().map(str::to_owned))
                    .collect(),
                    included_resources: backup.platform.included_resources(),
                    label_selector: backup.platform.label_selector(),
                    storage_location: backup.storage_location.clone(),
                    ttl: backup.ttl.clone(),
                    snapshot_move_data: csi.then_some(true),
                    datamover: csi.then_some("velero"),
                    default_volumes_to_fs_backup: !csi,
                    snapshot_volumes: csi.then_some(true),
                },
            },
        }
    }
}

referable! {
    impl for Schedule;
}

/// `status.phase` of a Schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum SchedulePhase {
    /// Not processed yet.
    New,
    /// Valid and running.
    Enabled,
    /// Refused: see the validation errors.
    FailedValidation,
}

/// What Velero reports about a Schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedSchedule {
    status: Option<ObservedScheduleStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedScheduleStatus {
    phase: Option<SchedulePhase>,
    last_backup: Option<String>,
    #[serde(default)]
    validation_errors: Vec<String>,
}

impl ObservedSchedule {
    /// `status.phase`, once Velero has processed the Schedule.
    pub fn phase(&self) -> Option<SchedulePhase> {
        self.status.as_ref()?.phase
    }

    /// `status.lastBackup` (RFC 3339), once a backup has run.
    pub fn last_backup(&self) -> Option<&str> {
        self.status.as_ref()?.last_backup.as_deref()
    }

    /// `status.validationErrors`: why Velero refused the Schedule.
    pub fn validation_errors(&self) -> &[String] {
        self.status.as_ref().map_or(&[], |s| &s.validation_errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::json;

    fn backup(platform: Platform, volumes: VolumeBackup) -> HostedClusterBackup {
        HostedClusterBackup {
            hosted_cluster_namespace: "ws-shop-clusters".into(),
            hosted_cluster_name: "dev".into(),
            platform,
            storage_location: "default".into(),
            schedule: "0 */6 * * *".into(),
            ttl: "168h0m0s".into(),
            volumes,
        }
    }

    #[test]
    fn kubevirt_schedule_follows_the_guide() {
        let schedule = Schedule::hosted_cluster(
            meta("dev-etcd", Some("openshift-adp"), &Labels::default()),
            &backup(Platform::KubeVirt, VolumeBackup::CsiSnapshotMoveData),
        );
        assert_eq!(
            (schedule.api_version(), schedule.kind(), schedule.name()),
            (API_VERSION, "Schedule", "dev-etcd")
        );
        let value = serde_json::to_value(&schedule).unwrap();
        assert_eq!(
            value["spec"],
            json!({
                "schedule": "0 */6 * * *",
                "template": {
                    "includedNamespaces": ["ws-shop-clusters", "ws-shop-clusters-dev"],
                    "includedResources": KUBEVIRT_RESOURCES,
                    "labelSelector": {"matchExpressions": [
                        {"key": "hypershift.openshift.io/is-kubevirt-rhcos", "operator": "DoesNotExist"},
                    ]},
                    "storageLocation": "default",
                    "ttl": "168h0m0s",
                    "snapshotMoveData": true,
                    "datamover": "velero",
                    "defaultVolumesToFsBackup": false,
                    "snapshotVolumes": true,
                },
            })
        );
    }

    #[test]
    fn agent_file_system_backup_has_no_selector_and_no_snapshots() {
        let schedule = Schedule::hosted_cluster(
            meta("dev-etcd", Some("openshift-adp"), &Labels::default()),
            &backup(
                Platform::Agent {
                    agent_namespace: "hardware".into(),
                },
                VolumeBackup::FileSystem,
            ),
        );
        let template = serde_json::to_value(&schedule.spec.template).unwrap();
        assert_eq!(
            template["includedNamespaces"],
            json!(["ws-shop-clusters", "ws-shop-clusters-dev", "hardware"])
        );
        assert_eq!(template.get("labelSelector"), None);
        assert_eq!(template.get("snapshotMoveData"), None);
        assert_eq!(template["defaultVolumesToFsBackup"], true);
        let resources = &schedule.spec.template.included_resources;
        for kind in [
            "hostedcluster",
            "nodepool",
            "agents",
            "infraenv",
            "bmh",
            "nmstateconfigs",
            "pvc",
        ] {
            assert!(resources.iter().any(|r| r == kind), "{kind} missing");
        }
        assert!(!resources.iter().any(|r| r == "datavolume"));
    }

    #[test]
    fn none_lists_no_platform_kinds() {
        let resources = Platform::None.included_resources();
        assert!(resources.iter().any(|r| r == "hostedcontrolplane"));
        assert!(
            !resources
                .iter()
                .any(|r| r.starts_with("agent") || r == "bmh")
        );
        let unique: std::collections::BTreeSet<_> = resources.iter().collect();
        assert_eq!(unique.len(), resources.len());
    }

    #[test]
    fn reads_the_status() {
        let observed: ObservedSchedule = serde_json::from_value(json!({"status": {
            "phase": "Enabled",
            "lastBackup": "2026-12-02T18:00:00Z",
        }}))
        .unwrap();
        assert_eq!(observed.phase(), Some(SchedulePhase::Enabled));
        assert_eq!(observed.last_backup(), Some("2026-12-02T18:00:00Z"));
        assert!(observed.validation_errors().is_empty());

        let refused: ObservedSchedule = serde_json::from_value(json!({"status": {
            "phase": "FailedValidation",
            "validationErrors": ["invalid schedule: expected 5 to 6 fields, found 1"],
        }}))
        .unwrap();
        assert_eq!(refused.phase(), Some(SchedulePhase::FailedValidation));
        assert_eq!(refused.last_backup(), None);
        assert_eq!(refused.validation_errors().len(), 1);

        let fresh: ObservedSchedule = serde_json::from_value(json!({})).unwrap();
        assert_eq!((fresh.phase(), fresh.last_backup()), (None, None));
    }

    #[test]
    fn an_agent_platform_without_namespace_adds_none() {
        let schedule = Schedule::hosted_cluster(
            meta("dev", Some("openshift-adp"), &Labels::default()),
            &HostedClusterBackup {
                hosted_cluster_namespace: "ws-shop-clusters".into(),
                hosted_cluster_name: "dev".into(),
                platform: Platform::Agent {
                    agent_namespace: String::new(),
                },
                storage_location: "default".into(),
                schedule: "0 */6 * * *".into(),
                ttl: "168h0m0s".into(),
                volumes: VolumeBackup::FileSystem,
            },
        );
        assert_eq!(
            schedule.spec.template.included_namespaces,
            ["ws-shop-clusters", "ws-shop-clusters-dev"]
        );
    }
}
