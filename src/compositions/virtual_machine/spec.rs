//! The VirtualMachine XR (`compute.cloud.stakater.com/v1`), the source of its XRD schema, and
//! the facts behind its closed sets: flavours with their minimum memory, and the instance
//! type table (series, vCPUs, memory) of KubeVirt's common-instancetypes.

use std::fmt;

use crate::compositions::types::Text;

/// Schema pattern of the SSH key field: no control characters but the whitespace a pasted or
/// wrapped key may hold (the function parses the key).
const SSH_KEY_TEXT_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$";
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired virtual machine.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "compute.cloud.stakater.com",
    version = "v1",
    kind = "VirtualMachine",
    namespaced,
    status = "VirtualMachineStatus",
    derive = "PartialEq",
    category = "sco",
    doc = "A Linux virtual machine on OpenShift Virtualization, booted from the platform's golden image of the chosen flavour, sized by a KubeVirt instance type, and reachable over SSH.",
    printcolumn = r#"{"name": "FLAVOUR", "type": "string", "jsonPath": ".spec.parameters.flavour"}"#,
    printcolumn = r#"{"name": "INSTANCE-TYPE", "type": "string", "jsonPath": ".spec.parameters.instanceType"}"#,
    printcolumn = r#"{"name": "PRINTABLE-STATUS", "type": "string", "jsonPath": ".status.vm.printableStatus"}"#,
    printcolumn = r#"{"name": "IP", "type": "string", "jsonPath": ".status.vm.serviceIP"}"#
)]
pub struct VirtualMachineSpec {
    /// What to run: operating system flavour, size, root disk, access and power state.
    pub parameters: Parameters,
}

/// The parameters of a virtual machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.sshPublicKey) == has(oldSelf.sshPublicKey) && (!has(self.sshPublicKey) || self.sshPublicKey == oldSelf.sshPublicKey)", "message": "sshPublicKey cannot be added, changed or removed: KubeVirt hands it to cloud-init, which applies it at the first boot only; manage keys inside the guest, or create a new VirtualMachine"},
    {"rule": "has(self.cloudInit) == has(oldSelf.cloudInit) && (!has(self.cloudInit) || self.cloudInit == oldSelf.cloudInit)", "message": "cloudInit cannot be added, changed or removed: cloud-init runs its user data at the first boot only; create a new VirtualMachine"},
]))]
#[schemars(transform = instance_type_fits_flavour)]
pub struct Parameters {
    /// Operating system, booted from the platform's golden image of this flavour. Immutable:
    /// KubeVirt does not re-image an existing root disk.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "flavour is immutable: KubeVirt does not re-image the root disk of an existing VM; create a new VirtualMachine"}]))]
    pub flavour: Flavour,
    /// KubeVirt cluster instance type: the series (o1 overcommitted, cx1 compute exclusive,
    /// m1 memory, n1 network, rt1 realtime, u1 universal) and size fix vCPUs and memory.
    pub instance_type: InstanceType,
    /// Size of the root disk; the platform maps each size to a capacity (by default small
    /// 10Gi, medium 30Gi, large 50Gi, xlarge 100Gi). Immutable: the root disk is created
    /// once from `dataVolumeTemplates` and never resized.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "storageSize is immutable: KubeVirt does not resize the root disk of an existing VM"}]))]
    pub storage_size: StorageSize,
    /// How the VM's SSH port is reached: private (a ClusterIP Service, reachable inside the
    /// cluster) or public (a LoadBalancer Service with an external address).
    #[serde(default)]
    pub connection: Connection,
    /// An OpenSSH public key authorised for the VM's user. Fixed once the VM exists: cloud-init
    /// applies it at the first boot only (the instance ID KubeVirt gives cloud-init never
    /// changes), so a new key would never reach the guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_public_key: Option<SshPublicKey>,
    /// cloud-init configuration run at first boot. Fixed once the VM exists, for the same
    /// reason as `sshPublicKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_init: Option<CloudInit>,
    /// Whether the VM runs. Set to false to stop it without deleting it (its disk is kept).
    #[serde(default = "running_by_default")]
    #[schemars(default = "running_by_default")]
    pub running: bool,
}

fn running_by_default() -> bool {
    true
}

/// An OpenSSH public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SshPublicKey {
    /// The public key as one line of an `.pub` file (`ssh-ed25519 AAAA... user@host`),
    /// raw or base64-encoded.
    #[schemars(pattern(SSH_KEY_TEXT_PATTERN))]
    pub data: Text<1, 16384>,
}

/// cloud-init configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudInit {
    /// cloud-init user data (a `#cloud-config` document or a script), handed to the VM
    /// through a Secret. Without it the VM gets a cloud-config that only names the SSH user.
    pub user_data: Text<1, 65536>,
}

/// Status of the VirtualMachine XR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineStatus {
    /// The virtual machine as KubeVirt and its Service report it.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub vm: Option<VmStatus>,
}

/// Reads a status block written by someone else (an older composition) as absent when it
/// does not fit, so that it can never stop the XR from rendering; this function rewrites it.
fn lenient<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<VmStatus>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// What KubeVirt and the Service report about the virtual machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VmStatus {
    /// KubeVirt's summary of the VM's state (Provisioning, Starting, Running, Stopped, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printable_status: Option<String>,
    /// Whether the VM is running and its guest is ready.
    pub ready: bool,
    /// Whether KubeVirt has created the VM's instance (false while stopped).
    pub created: bool,
    /// Whether the VM runs its previous configuration until it restarts (KubeVirt's
    /// `RestartRequired`: a new instance type, for one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart_required: bool,
    /// vCPUs of the running instance (the instance type's until it runs).
    #[schemars(with = "i32", range(min = 1))]
    pub cpu_cores: u32,
    /// Memory of the running instance (the instance type's until it runs; `4Gi`).
    pub memory: String,
    /// The IP address SSH connects to: the load balancer's for public VMs, the cluster IP
    /// for private ones.
    #[serde(default, rename = "serviceIP", skip_serializing_if = "Option::is_none")]
    pub service_ip: Option<String>,
    /// The load balancer's host name, when it publishes one instead of (or besides) an IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_hostname: Option<String>,
}

/// Operating system flavour.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Flavour {
    /// Red Hat Enterprise Linux 7.
    Rhel7,
    /// Red Hat Enterprise Linux 8.
    Rhel8,
    /// Red Hat Enterprise Linux 9.
    Rhel9,
    /// Red Hat Enterprise Linux 10.
    Rhel10,
    /// Fedora.
    Fedora,
    /// CentOS Stream 9.
    CentosStream9,
    /// CentOS Stream 10.
    CentosStream10,
}

impl Flavour {
    /// Every flavour.
    pub const ALL: [Self; 7] = [
        Self::Rhel7,
        Self::Rhel8,
        Self::Rhel9,
        Self::Rhel10,
        Self::Fedora,
        Self::CentosStream9,
        Self::CentosStream10,
    ];

    /// The name as the XR spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rhel7 => "rhel7",
            Self::Rhel8 => "rhel8",
            Self::Rhel9 => "rhel9",
            Self::Rhel10 => "rhel10",
            Self::Fedora => "fedora",
            Self::CentosStream9 => "centos-stream9",
            Self::CentosStream10 => "centos-stream10",
        }
    }

    /// The least memory the flavour's KubeVirt preference admits (common-instancetypes
    /// `requirements.yaml`: 1Gi for RHEL 7, 2Gi for Fedora, 1.5Gi for the others).
    pub fn minimum_memory(self) -> Memory {
        match self {
            Self::Rhel7 => Memory::mib(1024),
            Self::Fedora => Memory::mib(2048),
            Self::Rhel8
            | Self::Rhel9
            | Self::Rhel10
            | Self::CentosStream9
            | Self::CentosStream10 => Memory::mib(1536),
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Root disk size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StorageSize {
    /// Small (10Gi by default).
    Small,
    /// Medium (30Gi by default).
    #[default]
    Medium,
    /// Large (50Gi by default).
    Large,
    /// Extra large (100Gi by default).
    Xlarge,
}

impl StorageSize {
    /// Every size, smallest first.
    pub const ALL: [Self; 4] = [Self::Small, Self::Medium, Self::Large, Self::Xlarge];
}

impl fmt::Display for StorageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
            Self::Xlarge => "xlarge",
        })
    }
}

/// How the VM is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// A ClusterIP Service: reachable inside the cluster only (in a project with a network,
    /// inside that network only: OVN-Kubernetes isolates a primary user-defined network).
    #[default]
    Private,
    /// A LoadBalancer Service: an external address.
    Public,
}

/// An amount of memory, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Memory(u32);

impl Memory {
    /// `mib` MiB.
    pub const fn mib(mib: u32) -> Self {
        Self(mib)
    }
}

/// As a Kubernetes quantity: `512Mi`, `4Gi`, or `1.5Gi` for a half GiB above one.
impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = self.0;
        if mib.is_multiple_of(1024) {
            write!(f, "{}Gi", mib / 1024)
        } else if mib > 1024 && mib.is_multiple_of(512) {
            write!(f, "{}.5Gi", mib / 1024)
        } else {
            write!(f, "{mib}Mi")
        }
    }
}

/// An instance type series of KubeVirt's common-instancetypes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum InstanceSeries {
    /// Overcommitted: burstable CPU, memory overcommitted by 50%.
    O1,
    /// Compute exclusive: dedicated CPUs, isolated emulator thread, 2Mi hugepages.
    Cx1,
    /// Memory: 2Mi hugepages, 1:8 CPU to memory.
    M1,
    /// Network: dedicated CPUs for DPDK, 1Gi hugepages.
    N1,
    /// Realtime: dedicated CPUs, NUMA passthrough, 1Gi hugepages.
    Rt1,
    /// Universal: burstable CPU, 1:4 CPU to memory.
    U1,
}

impl InstanceSeries {
    /// Every series SCO offers.
    pub const ALL: [Self; 6] = [Self::O1, Self::Cx1, Self::M1, Self::N1, Self::Rt1, Self::U1];

    /// The name as instance type names and the platform configuration spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::O1 => "o1",
            Self::Cx1 => "cx1",
            Self::M1 => "m1",
            Self::N1 => "n1",
            Self::Rt1 => "rt1",
            Self::U1 => "u1",
        }
    }
}

impl fmt::Display for InstanceSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Adds the XRD rule that refuses an instance type with less memory than the flavour's
/// preference admits, built from the two tables so that it cannot drift from the function's
/// own check: a map from each flavour to the instance types too small for it.
fn instance_type_fits_flavour(schema: &mut schemars::Schema) {
    let entries: Vec<String> = Flavour::ALL
        .iter()
        .map(|flavour| {
            let small: Vec<String> = INSTANCE_TYPES
                .iter()
                .filter(|f| f.memory < flavour.minimum_memory())
                .map(|f| format!("'{}'", f.instance_type.as_str()))
                .collect();
            format!("'{}': [{}]", flavour.as_str(), small.join(", "))
        })
        .collect();
    let rule = serde_json::json!({
        "rule": format!("!(self.instanceType in {{{}}}[self.flavour])", entries.join(", ")),
        "message": "instanceType has less memory than the flavour's KubeVirt preference admits: choose a larger size of its series",
    });
    if let Some(serde_json::Value::Array(rules)) = schema.get_mut("x-kubernetes-validations") {
        rules.push(rule);
    } else {
        schema.insert("x-kubernetes-validations".into(), serde_json::json!([rule]));
    }
}

/// What an instance type gives a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceTypeFacts {
    /// The instance type.
    pub instance_type: InstanceType,
    /// Its series.
    pub series: InstanceSeries,
    /// vCPUs.
    pub cpus: u32,
    /// Guest memory.
    pub memory: Memory,
}

/// Declares the instance types once: the enum (with the XR's spelling of each name) and the
/// table of their facts, so the two cannot disagree.
macro_rules! instance_types {
    ($($variant:ident = $name:literal, $series:ident, $cpus:literal cpu, $mib:literal mib;)*) => {
        /// A KubeVirt cluster instance type (common-instancetypes `<series>.<size>`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum InstanceType {
            $(#[serde(rename = $name)] #[allow(missing_docs)] $variant,)*
        }

        /// Every instance type SCO offers, by series and then ascending size.
        pub const INSTANCE_TYPES: &[InstanceTypeFacts] = &[
            $(InstanceTypeFacts {
                instance_type: InstanceType::$variant,
                series: InstanceSeries::$series,
                cpus: $cpus,
                memory: Memory::mib($mib),
            },)*
        ];

        impl InstanceType {
            /// The name as KubeVirt and the XR spell it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

instance_types! {
    O1Nano = "o1.nano", O1, 1 cpu, 512 mib;
    O1Micro = "o1.micro", O1, 1 cpu, 1024 mib;
    O1Small = "o1.small", O1, 1 cpu, 2048 mib;
    O1Medium = "o1.medium", O1, 1 cpu, 4096 mib;
    O1Large = "o1.large", O1, 2 cpu, 8192 mib;
    O1Xlarge = "o1.xlarge", O1, 4 cpu, 16384 mib;
    O12xlarge = "o1.2xlarge", O1, 8 cpu, 32768 mib;
    O14xlarge = "o1.4xlarge", O1, 16 cpu, 65536 mib;
    O18xlarge = "o1.8xlarge", O1, 32 cpu, 131072 mib;
    Cx1Medium = "cx1.medium", Cx1, 1 cpu, 2048 mib;
    Cx1Large = "cx1.large", Cx1, 2 cpu, 4096 mib;
    Cx1Xlarge = "cx1.xlarge", Cx1, 4 cpu, 8192 mib;
    Cx12xlarge = "cx1.2xlarge", Cx1, 8 cpu, 16384 mib;
    Cx14xlarge = "cx1.4xlarge", Cx1, 16 cpu, 32768 mib;
    Cx18xlarge = "cx1.8xlarge", Cx1, 32 cpu, 65536 mib;
    M1Large = "m1.large", M1, 2 cpu, 16384 mib;
    M1Xlarge = "m1.xlarge", M1, 4 cpu, 32768 mib;
    M12xlarge = "m1.2xlarge", M1, 8 cpu, 65536 mib;
    M14xlarge = "m1.4xlarge", M1, 16 cpu, 131072 mib;
    M18xlarge = "m1.8xlarge", M1, 32 cpu, 262144 mib;
    N1Medium = "n1.medium", N1, 4 cpu, 4096 mib;
    N1Large = "n1.large", N1, 4 cpu, 8192 mib;
    N1Xlarge = "n1.xlarge", N1, 8 cpu, 16384 mib;
    N12xlarge = "n1.2xlarge", N1, 16 cpu, 32768 mib;
    N14xlarge = "n1.4xlarge", N1, 32 cpu, 65536 mib;
    N18xlarge = "n1.8xlarge", N1, 64 cpu, 131072 mib;
    Rt1Micro = "rt1.micro", Rt1, 1 cpu, 1024 mib;
    Rt1Small = "rt1.small", Rt1, 1 cpu, 2048 mib;
    Rt1Medium = "rt1.medium", Rt1, 1 cpu, 4096 mib;
    Rt1Large = "rt1.large", Rt1, 2 cpu, 8192 mib;
    Rt1Xlarge = "rt1.xlarge", Rt1, 4 cpu, 16384 mib;
    Rt12xlarge = "rt1.2xlarge", Rt1, 8 cpu, 32768 mib;
    Rt14xlarge = "rt1.4xlarge", Rt1, 16 cpu, 65536 mib;
    Rt18xlarge = "rt1.8xlarge", Rt1, 32 cpu, 131072 mib;
    U1Nano = "u1.nano", U1, 1 cpu, 512 mib;
    U1Micro = "u1.micro", U1, 1 cpu, 1024 mib;
    U1Small = "u1.small", U1, 1 cpu, 2048 mib;
    U1Medium = "u1.medium", U1, 1 cpu, 4096 mib;
    U12xmedium = "u1.2xmedium", U1, 2 cpu, 4096 mib;
    U1Large = "u1.large", U1, 2 cpu, 8192 mib;
    U1Xlarge = "u1.xlarge", U1, 4 cpu, 16384 mib;
    U12xlarge = "u1.2xlarge", U1, 8 cpu, 32768 mib;
    U14xlarge = "u1.4xlarge", U1, 16 cpu, 65536 mib;
    U18xlarge = "u1.8xlarge", U1, 32 cpu, 131072 mib;
}

impl InstanceType {
    /// Its series, vCPUs and memory (the table lists the variants in declaration order).
    pub fn facts(self) -> InstanceTypeFacts {
        INSTANCE_TYPES[self as usize]
    }

    /// The smallest instance type of `series` with at least `memory`.
    pub fn smallest_with(series: InstanceSeries, memory: Memory) -> Option<Self> {
        INSTANCE_TYPES
            .iter()
            .find(|f| f.series == series && f.memory >= memory)
            .map(|f| f.instance_type)
    }
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
