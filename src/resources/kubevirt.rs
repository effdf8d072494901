//! KubeVirt `kubevirt.io/v1` `VirtualMachine`: a Linux VM sized by a cluster instance type,
//! shaped by a cluster preference, booted from a root disk cloned from a golden-image
//! DataSource, initialised by cloud-init (NoCloud, user data from a Secret) with an SSH key
//! propagated through cloud-init. Field names follow the schema in
//! `schemas/kubevirt/virtualmachines.kubevirt.io.openAPIV3Schema.yaml`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::{self, Condition};
use super::{Labels, Meta};

/// apiVersion of KubeVirt's VirtualMachine.
pub const API_VERSION: &str = "kubevirt.io/v1";
/// Name of the VM's root disk and its volume.
pub const ROOT_DISK: &str = "rootdisk";
/// Name of the cloud-init disk and its volume.
pub const CLOUD_INIT_DISK: &str = "cloudinitdisk";
/// Name of the VM's one interface and network.
pub const DEFAULT_NETWORK: &str = "default";
/// The key KubeVirt reads NoCloud user data from in a `secretRef` Secret.
pub const USER_DATA_KEY: &str = "userdata";

/// How the VM's interface attaches to the pod network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodNetworkBinding {
    /// NAT behind the virt-launcher pod's IP (KubeVirt's `masquerade`), for the cluster's
    /// default pod network.
    #[default]
    Masquerade,
    /// The `l2bridge` binding plugin, for namespaces whose primary network is an
    /// OVN-Kubernetes user-defined network (the namespace carries
    /// `k8s.ovn.org/primary-user-defined-network`).
    L2bridge,
}

/// Whether KubeVirt keeps the VM running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunStrategy {
    /// Always running: restarted whenever it stops, including after a guest shutdown.
    Always,
    /// Never running: the VM object and its disks stay, no instance runs.
    Halted,
}

/// A golden-image DataSource to clone the root disk from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenImage<'a> {
    /// Namespace of the DataSource.
    pub namespace: &'a str,
    /// Name of the DataSource.
    pub name: &'a str,
}

/// What a Linux VM is made of, as a composition describes it.
#[derive(Debug, Clone)]
pub struct LinuxVm<'a> {
    /// Name, namespace and labels of the VirtualMachine.
    pub metadata: Meta,
    /// `VirtualMachineClusterInstancetype` name (`u1.medium`).
    pub instancetype: &'a str,
    /// `VirtualMachineClusterPreference` name (`rhel.9`).
    pub preference: &'a str,
    /// Running or halted.
    pub run_strategy: RunStrategy,
    /// Name of the root disk's DataVolume.
    pub root_disk_name: String,
    /// Where the root disk is cloned from.
    pub golden_image: GoldenImage<'a>,
    /// Root disk capacity.
    pub root_disk_size: Quantity,
    /// StorageClass of the root disk; `None` uses the cluster default.
    pub storage_class: Option<&'a str>,
    /// Labels of the VM's instance (and its virt-launcher pod), for Service selection.
    pub template_labels: Labels,
    /// How the interface attaches to the pod network.
    pub binding: PodNetworkBinding,
    /// Secret holding the SSH public key to authorise, if any.
    pub ssh_key_secret: Option<&'a str>,
    /// Secret holding the cloud-init user data (key [`USER_DATA_KEY`]).
    pub user_data_secret: &'a str,
}

/// A KubeVirt VirtualMachine (the fields the compositions own).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachine {
    /// `kubevirt.io/v1`.
    pub api_version: &'static str,
    /// `VirtualMachine`.
    pub kind: &'static str,
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: VirtualMachineSpec,
}

/// `spec` of a VirtualMachine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineSpec {
    /// Running or halted.
    pub run_strategy: RunStrategy,
    /// The cluster instance type.
    pub instancetype: Matcher,
    /// The cluster preference.
    pub preference: Matcher,
    /// DataVolumes created with the VM and deleted with it.
    pub data_volume_templates: Vec<DataVolumeTemplate>,
    /// The instance to run.
    pub template: Template,
}

/// A reference to a cluster instance type or preference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// `VirtualMachineClusterInstancetype` or `VirtualMachineClusterPreference`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The ControllerRevision to use; only ever written empty, by [`ObservedMatchers::renew`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_name: Option<String>,
}

/// A DataVolume created with the VM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataVolumeTemplate {
    /// Name and labels of the DataVolume.
    pub metadata: Meta,
    /// What it holds.
    pub spec: DataVolumeSpec,
}

/// `spec` of a DataVolume cloned from a DataSource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataVolumeSpec {
    /// The DataSource to clone.
    pub source_ref: SourceRef,
    /// Capacity and class; access and volume modes come from the StorageProfile.
    pub storage: Storage,
}

/// A reference to a DataSource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    /// `DataSource`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

/// Storage of a DataVolume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// Requested capacity.
    pub resources: StorageResources,
    /// StorageClass; absent for the cluster default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

/// Resource requests of a DataVolume.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageResources {
    /// `storage: <capacity>`.
    pub requests: BTreeMap<String, Quantity>,
}

/// The VM's instance template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// Labels of the instance.
    pub metadata: Meta,
    /// The instance.
    pub spec: TemplateSpec,
}

/// `spec.template.spec` of a VirtualMachine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSpec {
    /// Devices (CPU and memory come from the instance type).
    pub domain: Domain,
    /// Networks the interfaces attach to.
    pub networks: Vec<Network>,
    /// Credentials injected into the guest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_credentials: Vec<AccessCredential>,
    /// Volumes backing the disks.
    pub volumes: Vec<Volume>,
}

/// `domain` of an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domain {
    /// Disks and interfaces.
    pub devices: Devices,
}

/// `domain.devices` of an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Devices {
    /// Disks, in boot order.
    pub disks: Vec<Disk>,
    /// Network interfaces.
    pub interfaces: Vec<Interface>,
}

/// A disk backed by the volume of the same name (bus from the preference).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disk {
    /// Name of the disk and its volume.
    pub name: &'static str,
    /// `{}`: a plain disk.
    pub disk: Empty,
}

/// An empty object (`{}`), for KubeVirt's marker fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interface {
    /// Name, matching a network.
    pub name: &'static str,
    /// Masquerade (NAT) binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masquerade: Option<Empty>,
    /// A network binding plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
}

/// A network binding plugin by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binding {
    /// Plugin name (`l2bridge`).
    pub name: &'static str,
}

/// A network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    /// Name, matching an interface.
    pub name: &'static str,
    /// The pod network (the namespace's primary network).
    pub pod: Empty,
}

/// A credential injected into the guest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessCredential {
    /// SSH public keys from a Secret.
    pub ssh_public_key: SshPublicKeyCredential,
}

/// SSH public keys from a Secret, and how they reach the guest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SshPublicKeyCredential {
    /// The Secret (every value is an authorised key).
    pub source: CredentialSource,
    /// How the keys reach the guest.
    pub propagation_method: PropagationMethod,
}

/// Where credentials come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialSource {
    /// A Secret in the VM's namespace.
    pub secret: SecretSource,
}

/// A Secret by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSource {
    /// Name of the Secret.
    pub secret_name: String,
}

/// How SSH keys reach the guest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropagationMethod {
    /// Through the NoCloud cloud-init metadata (the user data is left alone).
    pub no_cloud: Empty,
}

/// A volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Name, matching a disk.
    pub name: &'static str,
    /// A DataVolume (from `dataVolumeTemplates`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_volume: Option<DataVolumeSource>,
    /// A cloud-init NoCloud disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_init_no_cloud: Option<CloudInitNoCloud>,
}

/// A DataVolume by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataVolumeSource {
    /// Name of the DataVolume.
    pub name: String,
}

/// A cloud-init NoCloud source whose user data is in a Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudInitNoCloud {
    /// The Secret holding the user data (KubeVirt's `UserDataSecretRef`).
    pub secret_ref: LocalObjectReference,
}

/// A reference to an object in the same namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalObjectReference {
    /// Its name.
    pub name: String,
}

impl VirtualMachine {
    /// The VirtualMachine for a Linux VM.
    pub fn linux(vm: LinuxVm<'_>) -> Self {
        let (masquerade, binding) = match vm.binding {
            PodNetworkBinding::Masquerade => (Some(Empty {}), None),
            PodNetworkBinding::L2bridge => (None, Some(Binding { name: "l2bridge" })),
        };
        let access_credentials = vm
            .ssh_key_secret
            .map(|secret| AccessCredential {
                ssh_public_key: SshPublicKeyCredential {
                    source: CredentialSource {
                        secret: SecretSource {
                            secret_name: secret.to_owned(),
                        },
                    },
                    propagation_method: PropagationMethod { no_cloud: Empty {} },
                },
            })
            .into_iter()
            .collect();
        let data_volume = DataVolumeTemplate {
            metadata: Meta {
                name: vm.root_disk_name.clone(),
                labels: vm.metadata.labels.clone(),
                ..Meta::default()
            },
            spec: DataVolumeSpec {
                source_ref: SourceRef {
                    kind: "DataSource",
                    name: vm.golden_image.name.to_owned(),
                    namespace: vm.golden_image.namespace.to_owned(),
                },
                storage: Storage {
                    resources: StorageResources {
                        requests: BTreeMap::from([("storage".to_owned(), vm.root_disk_size)]),
                    },
                    storage_class_name: vm.storage_class.map(str::to_owned),
                },
            },
        };
        Self {
            api_version: API_VERSION,
            kind: "VirtualMachine",
            metadata: vm.metadata,
            spec: VirtualMachineSpec {
                run_strategy: vm.run_strategy,
                instancetype: Matcher {
                    kind: "VirtualMachineClusterInstancetype",
                    name: vm.instancetype.to_owned(),
                    revision_name: None,
                },
                preference: Matcher {
                    kind: "VirtualMachineClusterPreference",
                    name: vm.preference.to_owned(),
                    revision_name: None,
                },
                data_volume_templates: vec![data_volume],
                template: Template {
                    metadata: Meta {
                        labels: vm.template_labels,
                        ..Meta::default()
                    },
                    spec: TemplateSpec {
                        domain: Domain {
                            devices: Devices {
                                disks: vec![
                                    Disk {
                                        name: ROOT_DISK,
                                        disk: Empty {},
                                    },
                                    Disk {
                                        name: CLOUD_INIT_DISK,
                                        disk: Empty {},
                                    },
                                ],
                                interfaces: vec![Interface {
                                    name: DEFAULT_NETWORK,
                                    masquerade,
                                    binding,
                                }],
                            },
                        },
                        networks: vec![Network {
                            name: DEFAULT_NETWORK,
                            pod: Empty {},
                        }],
                        access_credentials,
                        volumes: vec![
                            Volume {
                                name: ROOT_DISK,
                                data_volume: Some(DataVolumeSource {
                                    name: vm.root_disk_name,
                                }),
                                cloud_init_no_cloud: None,
                            },
                            Volume {
                                name: CLOUD_INIT_DISK,
                                data_volume: None,
                                cloud_init_no_cloud: Some(CloudInitNoCloud {
                                    secret_ref: LocalObjectReference {
                                        name: vm.user_data_secret.to_owned(),
                                    },
                                }),
                            },
                        ],
                    },
                },
            },
        }
    }
}

/// What KubeVirt reports about a VirtualMachine (the fields compositions read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedStatus {
    /// KubeVirt's summary (`Provisioning`, `Starting`, `Running`, `Stopped`, ...).
    pub printable_status: Option<String>,
    /// Whether the instance runs and is ready.
    pub ready: bool,
    /// Whether the instance exists.
    pub created: bool,
    /// The VM's conditions.
    pub conditions: Vec<Condition>,
}

/// Reasons of the VMI's `Synchronized=False` condition (mirrored onto the VM) that say the
/// instance cannot start: the launcher pod refused (quota, LimitRange, PodSecurity:
/// `FailedCreate`, `pkg/virt-controller/watch/vmi/lifecycle.go`), its image not pulled,
/// virt-handler failing to create the domain, the manifest or resources refused.
/// `FailedPvcNotFound` is left out: it is also the normal wait while CDI creates the PVC.
const START_BLOCKING_REASONS: [&str; 7] = [
    "FailedCreate",
    "ErrImagePull",
    "ImagePullBackOff",
    "Synchronizing with the Domain failed.",
    "FailedCreateValidation",
    "FailedGuaranteeResources",
    "FailedBackendStorageCreate",
];

/// What the printable status `DataVolumeError` means, which carries no message of its own.
const DATA_VOLUME_ERROR: &str = "DataVolumeError: the root disk's DataVolume failed to import or clone (its conditions say why)";

impl ObservedStatus {
    /// Why a VM that should run does not start, as KubeVirt says it in the VM's status
    /// (`None` while it runs or nothing says): in order, the VM controller's `Failure=True`
    /// (creating the VMI or a DataVolume refused, the root PVC over a storage quota:
    /// `pkg/virt-controller/watch/vm/vm.go` `processFailureCondition`), the instance's
    /// `Synchronized=False` with a reason that blocks the start (copied onto the VM
    /// by `syncConditions`; trusted only while an instance exists, as the copies outlive it),
    /// the scheduler's `PodScheduled=False Unschedulable`, then the printable statuses that
    /// carry no message (`DataVolumeError`: the import or clone failed; `CrashLoopBackOff`).
    /// KubeVirt keeps a condition's first message until its reason changes, and retries a
    /// refused pod with back-off, so a quota message can outlive the fix by minutes.
    pub fn start_blocked(&self) -> Option<String> {
        if matches!(
            self.printable_status.as_deref(),
            Some("Running" | "Migrating")
        ) {
            return None;
        }
        let said = |c: &Condition| format!("{}: {}", c.reason, c.message);
        if let Some(failure) = self.failure() {
            return Some(failure);
        }
        if self.created
            && let Some(sync) = condition::find(&self.conditions, "Synchronized").filter(|c| {
                c.status == "False"
                    && START_BLOCKING_REASONS.contains(&c.reason.as_str())
                    // Also reported as FailedCreate, and over once the migration ends.
                    && !c.message.contains("active migration exists")
            })
        {
            return Some(said(sync));
        }
        if let Some(scheduling) = condition::find(&self.conditions, "PodScheduled")
            .filter(|c| c.status == "False" && c.reason == "Unschedulable")
        {
            return Some(said(scheduling));
        }
        match self.printable_status.as_deref() {
            Some("DataVolumeError") => Some(DATA_VOLUME_ERROR.into()),
            Some("CrashLoopBackOff") => Some(
                "CrashLoopBackOff: the VM failed to start several times in a row and KubeVirt retries with back-off".into(),
            ),
            _ => None,
        }
    }

    /// Why a VM that should not run has no root disk yet, as KubeVirt says it: the VM
    /// controller's `Failure=True` (a DataVolume refused) or the printable status
    /// `DataVolumeError`. KubeVirt creates a VM's DataVolumes whatever its run strategy
    /// (`pkg/virt-controller/watch/vm/vm.go` `sync`: `handleDataVolumes` before the
    /// `RunStrategyHalted` check), so a halted VM's clone fails as a running one's does.
    pub fn disk_blocked(&self) -> Option<String> {
        self.failure().or_else(|| {
            (self.printable_status.as_deref() == Some("DataVolumeError"))
                .then(|| DATA_VOLUME_ERROR.into())
        })
    }

    /// The VM controller's `Failure=True`, as `reason: message`.
    fn failure(&self) -> Option<String> {
        condition::find(&self.conditions, "Failure")
            .filter(|c| c.is_true())
            .map(|c| format!("{}: {}", c.reason, c.message))
    }

    /// KubeVirt's message when a running VM's spec changed in a way only a restart applies
    /// (condition `RestartRequired=True`, `VirtualMachineRestartRequired` in
    /// `staging/src/kubevirt.io/api/core/v1/types.go`: a new instance type, a changed
    /// template); the instance keeps running as it was.
    pub fn restart_required(&self) -> Option<&str> {
        condition::find(&self.conditions, "RestartRequired")
            .filter(|c| c.is_true())
            .map(|c| c.message.as_str())
    }
}

/// An observed VirtualMachine, as far as compositions read it: its status, empty when it has
/// none yet, and the revisions its spec pins. Read straight from the request, so the rest of
/// the object is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ObservedVirtualMachine {
    /// What KubeVirt reports.
    pub status: ObservedStatus,
    /// The instance type and preference as the spec holds them now.
    pub spec: ObservedMatchers,
}

/// The observed VM's `spec.instancetype` and `spec.preference`, for their revision names.
///
/// From v0.59.1 (and v1.0) to v1.4, virt-controller writes the ControllerRevision it copied
/// the instance type (and preference) into as `spec.instancetype.revisionName` on the VM's
/// first reconcile, and fills the field only while it is empty (`kubevirt/kubevirt`
/// `pkg/instancetype/revision/store.go`); KubeVirt's VM mutating webhook then refuses an
/// update that changes `name` but keeps that `revisionName` ("the Matcher Name has been
/// updated without updating the RevisionName", `pkg/instancetype/webhooks/vm/mutator.go`,
/// PR 9421; before it, the old revision silently won, issue 9132). Crossplane applies the VM
/// server-side, and an apply that leaves `revisionName` out keeps the controller's value, so
/// a changed `instanceType` was refused on every reconcile. KubeVirt's user guide clears the
/// field with the new name (`instancetypes.md`); [`ObservedMatchers::renew`] does the same,
/// only while the spec pins a revision of another name. virt-controller then fills in the
/// new revision and owns the field again. From v1.5 the revision lives in
/// `status.instancetypeRef` (PR 13916, backported as 14726) and the spec carries none, so
/// nothing is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ObservedMatchers {
    /// `spec.instancetype`.
    pub instancetype: ObservedMatcher,
    /// `spec.preference`.
    pub preference: ObservedMatcher,
    /// `spec.template`, for the binding of its interface.
    template: ObservedTemplate,
}

/// The observed VM template's interfaces (`spec.template.spec.domain.devices.interfaces`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedTemplate {
    spec: ObservedTemplateSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedTemplateSpec {
    domain: ObservedDomain,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedDomain {
    devices: ObservedDevices,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedDevices {
    interfaces: Vec<ObservedInterface>,
}

/// An interface's binding: `masquerade: {}` or `binding: {name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedInterface {
    name: String,
    masquerade: Option<ObservedPresent>,
    binding: Option<ObservedBindingName>,
}

/// An object whose content is not read, only its presence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedPresent {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default)]
struct ObservedBindingName {
    name: String,
}

/// A matcher's name and revision as observed; empty where absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(default, rename_all = "camelCase")]
pub struct ObservedMatcher {
    /// The instance type's or preference's name.
    pub name: String,
    /// The ControllerRevision KubeVirt pinned in the spec (v0.59.1 to v1.4).
    pub revision_name: String,
}

impl ObservedMatcher {
    /// Whether the spec pins a revision of another instance type or preference than `name`.
    fn pins_other_than(&self, name: &str) -> bool {
        !self.revision_name.is_empty() && self.name != name
    }
}

impl ObservedMatchers {
    /// How the observed VM's pod-network interface ([`DEFAULT_NETWORK`]) is bound; `None`
    /// without one, or with a binding the compositions do not write.
    pub fn binding(&self) -> Option<PodNetworkBinding> {
        let interface = self
            .template
            .spec
            .domain
            .devices
            .interfaces
            .iter()
            .find(|i| i.name == DEFAULT_NETWORK)?;
        match (&interface.masquerade, &interface.binding) {
            (Some(_), None) => Some(PodNetworkBinding::Masquerade),
            (None, Some(b)) if b.name == "l2bridge" => Some(PodNetworkBinding::L2bridge),
            _ => None,
        }
    }

    /// Clears the revision names of `spec` whose observed revision belongs to another name, so
    /// that KubeVirt takes the new instance type or preference (see [`ObservedMatchers`]).
    pub fn renew(&self, spec: &mut VirtualMachineSpec) {
        for (observed, desired) in [
            (&self.instancetype, &mut spec.instancetype),
            (&self.preference, &mut spec.preference),
        ] {
            if observed.pins_other_than(&desired.name) {
                desired.revision_name = Some(String::new());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn linux(binding: PodNetworkBinding, ssh: Option<&str>) -> LinuxVm<'_> {
        LinuxVm {
            metadata: Meta {
                name: "web".into(),
                namespace: Some("ns".into()),
                ..Meta::default()
            },
            instancetype: "u1.medium",
            preference: "rhel.9",
            run_strategy: RunStrategy::Always,
            root_disk_name: "web-root".into(),
            golden_image: GoldenImage {
                namespace: "images",
                name: "rhel9",
            },
            root_disk_size: Quantity("30Gi".into()),
            storage_class: None,
            template_labels: BTreeMap::from([("app".into(), "web".into())]).into(),
            binding,
            ssh_key_secret: ssh,
            user_data_secret: "web-cloud-init",
        }
    }

    fn vm(binding: PodNetworkBinding, ssh: Option<&str>) -> Value {
        serde_json::to_value(VirtualMachine::linux(linux(binding, ssh))).unwrap()
    }

    #[test]
    fn binding_selects_the_interface_shape() {
        let masquerade = vm(PodNetworkBinding::Masquerade, None);
        assert_eq!(
            masquerade["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"],
            json!([{"name": "default", "masquerade": {}}])
        );
        let l2bridge = vm(PodNetworkBinding::L2bridge, None);
        assert_eq!(
            l2bridge["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"],
            json!([{"name": "default", "binding": {"name": "l2bridge"}}])
        );
        assert_eq!(
            l2bridge["spec"]["template"]["spec"]["networks"],
            json!([{"name": "default", "pod": {}}])
        );
    }

    #[test]
    fn ssh_keys_are_propagated_by_cloud_init_only_when_given() {
        assert!(
            vm(PodNetworkBinding::Masquerade, None)["spec"]["template"]["spec"]
                .get("accessCredentials")
                .is_none()
        );
        let with_key = vm(PodNetworkBinding::Masquerade, Some("web-ssh-key"));
        assert_eq!(
            with_key["spec"]["template"]["spec"]["accessCredentials"],
            json!([{"sshPublicKey": {"source": {"secret": {"secretName": "web-ssh-key"}}, "propagationMethod": {"noCloud": {}}}}])
        );
        assert_eq!(
            with_key["spec"]["template"]["spec"]["volumes"][1],
            json!({"name": "cloudinitdisk", "cloudInitNoCloud": {"secretRef": {"name": "web-cloud-init"}}})
        );
    }

    #[test]
    fn a_revision_of_another_name_is_cleared_and_no_other() {
        let renewed = |observed: Value| {
            let observed = ObservedVirtualMachine::deserialize(observed).unwrap().spec;
            let mut desired = VirtualMachine::linux(linux(PodNetworkBinding::Masquerade, None));
            observed.renew(&mut desired.spec);
            let desired = serde_json::to_value(desired).unwrap();
            (
                desired["spec"]["instancetype"].clone(),
                desired["spec"]["preference"].clone(),
            )
        };
        // KubeVirt 1.4: the spec pins the revision of u1.small; the XR now says u1.medium.
        let (instancetype, preference) = renewed(json!({"spec": {
            "instancetype": {"kind": "VirtualMachineClusterInstancetype", "name": "u1.small", "revisionName": "web-u1.small-1"},
            "preference": {"kind": "VirtualMachineClusterPreference", "name": "rhel.9", "revisionName": "web-rhel.9-1"},
        }}));
        assert_eq!(
            instancetype,
            json!({"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium", "revisionName": ""})
        );
        assert_eq!(
            preference,
            json!({"kind": "VirtualMachineClusterPreference", "name": "rhel.9"}),
            "the preference did not change: its revision stays KubeVirt's"
        );
        // The revision of the desired name (after the change, or never changed), none (KubeVirt
        // 1.5 and later keep it in status), no VM yet: nothing is written.
        for observed in [
            json!({"spec": {"instancetype": {"name": "u1.medium", "revisionName": "web-u1.medium-1"}}}),
            json!({"spec": {"instancetype": {"name": "u1.small"}}}),
            json!({}),
        ] {
            let (instancetype, _) = renewed(observed.clone());
            assert_eq!(instancetype.get("revisionName"), None, "{observed}");
        }
    }

    #[test]
    fn why_a_vm_does_not_start_is_read_from_its_status() {
        let read = |status: Value| {
            ObservedVirtualMachine::deserialize(json!({ "status": status }))
                .unwrap()
                .status
                .start_blocked()
        };
        let quota = "failed to create virtual machine pod: pods \"virt-launcher-web-x\" is forbidden: exceeded quota: acme-shop, requested: limits.memory=8Gi";
        // The launcher pod refused: the instance's Synchronized condition, copied onto the VM.
        let refused = read(
            json!({"printableStatus": "Starting", "created": true, "conditions": [
                {"type": "Ready", "status": "False", "reason": "PodNotExists"},
                {"type": "Synchronized", "status": "False", "reason": "FailedCreate", "message": quota},
            ]}),
        );
        assert_eq!(refused, Some(format!("FailedCreate: {quota}")));
        // The same copy left behind after the instance went: not evidence.
        let stale = read(
            json!({"printableStatus": "Stopped", "created": false, "conditions": [
                {"type": "Synchronized", "status": "False", "reason": "FailedCreate", "message": quota},
            ]}),
        );
        assert_eq!(stale, None);
        // A migration in flight is reported with the same reason, and passes.
        let migrating = read(
            json!({"printableStatus": "Starting", "created": true, "conditions": [
                {"type": "Synchronized", "status": "False", "reason": "FailedCreate", "message": "active migration exists"},
            ]}),
        );
        assert_eq!(migrating, None);
        // The VM controller's own failure, whatever the printable status says.
        let dv = read(json!({"printableStatus": "Provisioning", "conditions": [
            {"type": "Failure", "status": "True", "reason": "FailedCreate",
             "message": "Error encountered while creating DataVolumes: exceeded quota: requests.storage"},
        ]}));
        assert!(
            dv.unwrap()
                .starts_with("FailedCreate: Error encountered while creating DataVolumes")
        );
        let unschedulable = read(
            json!({"printableStatus": "ErrorUnschedulable", "created": true, "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/3 nodes are available: 3 Insufficient memory."},
            ]}),
        );
        assert_eq!(
            unschedulable.as_deref(),
            Some("Unschedulable: 0/3 nodes are available: 3 Insufficient memory.")
        );
        assert!(
            read(json!({"printableStatus": "DataVolumeError"}))
                .unwrap()
                .contains("import or clone")
        );
        // Waiting is not failing; running is running, whatever was left behind.
        for status in [
            json!({"printableStatus": "Starting", "created": true, "conditions": [
                {"type": "Ready", "status": "False", "reason": "PodNotExists"},
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"},
                {"type": "Synchronized", "status": "False", "reason": "FailedPvcNotFound"}]}),
            json!({"printableStatus": "Provisioning"}),
            json!({"printableStatus": "Running", "created": true, "ready": true, "conditions": [
                {"type": "Failure", "status": "True", "reason": "HotPlugCPUError"}]}),
            json!({}),
        ] {
            assert_eq!(read(status.clone()), None, "{status}");
        }
    }

    #[test]
    fn observed_status_tolerates_missing_fields() {
        let read = |v: Value| ObservedVirtualMachine::deserialize(v).unwrap().status;
        assert_eq!(read(json!({})), ObservedStatus::default());
        let running = read(
            json!({"status": {"printableStatus": "Running", "ready": true, "created": true, "conditions": []}}),
        );
        assert_eq!(running.printable_status.as_deref(), Some("Running"));
        assert!(running.ready && running.created);
    }

    #[test]
    fn a_crash_loop_blocks_the_start() {
        let status: ObservedStatus =
            serde_json::from_value(json!({"printableStatus": "CrashLoopBackOff"})).unwrap();
        assert!(
            status
                .start_blocked()
                .unwrap()
                .starts_with("CrashLoopBackOff:")
        );
    }

    #[test]
    fn a_binding_the_compositions_do_not_write_is_none() {
        let m: ObservedMatchers =
            serde_json::from_value(json!({"template": {"spec": {"domain": {"devices": {
            "interfaces": [{"name": DEFAULT_NETWORK, "binding": {"name": "passt"}}]}}}}}))
            .unwrap();
        assert!(m.binding().is_none());
    }
}
