//! The VirtualMachine's own platform settings (`virtualMachine` in the platform settings):
//! golden images, preferences, storage, networking, instance series and the SSH user.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spec::{Flavour, InstanceSeries, StorageSize};
use crate::resources::kubevirt::PodNetworkBinding;

/// How new VMs attach to the pod network of their namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkBinding {
    /// By the namespace: `l2bridge` where it carries OVN-Kubernetes' primary-network label
    /// (a project with a `network`), `masquerade` elsewhere. Nothing else decides it:
    /// KubeVirt neither refuses nor converts a binding that does not fit the namespace
    /// (its network admitter has no such check; only OpenShift's console picks `l2bridge`
    /// there), and the wrong one leaves the VM off the project's network (`masquerade`
    /// NATs it behind the pod) or without an address (`l2bridge` on the default network,
    /// where no DHCP server answers: KubeVirt serves DHCP for bridge and masquerade only,
    /// OVN-Kubernetes for primary Layer2 networks only).
    #[default]
    Auto,
    /// Always `masquerade`.
    Masquerade,
    /// Always `l2bridge`.
    L2bridge,
}

impl NetworkBinding {
    /// The binding of a new VM in a namespace that does (`Some(true)`) or does not carry the
    /// primary-network label, or is not known yet (`None`: masquerade until it is).
    pub fn for_namespace(self, primary_udn: Option<bool>) -> PodNetworkBinding {
        match (self, primary_udn) {
            (Self::Masquerade, _) | (Self::Auto, None | Some(false)) => {
                PodNetworkBinding::Masquerade
            }
            (Self::L2bridge, _) | (Self::Auto, Some(true)) => PodNetworkBinding::L2bridge,
        }
    }
}

/// Platform settings of the VirtualMachine composition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Namespace of the golden-image DataSources. KubeVirt authorises each clone from it
    /// against the VM namespace's `default` ServiceAccount, which needs `create` on
    /// `datavolumes/source` (`cdi.kubevirt.io`) here: OpenShift Virtualization grants it in
    /// its own `openshift-virtualization-os-images`, another namespace needs a RoleBinding.
    pub golden_image_namespace: String,
    /// The golden-image DataSource of each flavour, by name in `goldenImageNamespace`; null
    /// for a flavour this platform cannot boot. OpenShift Virtualization provides rhel9,
    /// rhel10, fedora, centos-stream9 and centos-stream10; rhel7 and rhel8 need a DataSource
    /// the platform team imports.
    pub golden_images: PerFlavour<Option<String>>,
    /// The VirtualMachineClusterPreference of each flavour.
    pub preferences: PerFlavour<String>,
    /// StorageClass of root disks; absent or null for the cluster's default class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Root disk capacity of each `storageSize`.
    pub storage_sizes: StorageSizes,
    /// How a VM's interface attaches to its namespace's pod network: `auto` (by the
    /// namespace), `masquerade` (NAT on the default pod network) or `l2bridge` (a project's
    /// primary user-defined network).
    pub network_binding: NetworkBinding,
    /// Instance type series this platform offers. A cluster without dedicated CPUs or
    /// hugepages offers only o1 and u1 (cx1, m1, n1 and rt1 need them).
    pub instance_series: BTreeSet<InstanceSeries>,
    /// The user SSH logs in as: the user of the default cloud-config and of the connection
    /// Secret.
    pub ssh_user: UserName,
    /// The default user of each flavour's golden image (cloud-init's
    /// `system_info.default_user`): who gets the SSH key when the XR's own user data names
    /// no user.
    pub image_users: PerFlavour<UserName>,
}

impl Default for Settings {
    fn default() -> Self {
        let image = |name: &str| Some(name.to_owned());
        Self {
            golden_image_namespace: "openshift-virtualization-os-images".into(),
            golden_images: PerFlavour {
                rhel7: None,
                rhel8: None,
                rhel9: image("rhel9"),
                rhel10: image("rhel10"),
                fedora: image("fedora"),
                centos_stream9: image("centos-stream9"),
                centos_stream10: image("centos-stream10"),
            },
            preferences: PerFlavour {
                rhel7: "rhel.7".into(),
                rhel8: "rhel.8".into(),
                rhel9: "rhel.9".into(),
                rhel10: "rhel.10".into(),
                fedora: "fedora".into(),
                centos_stream9: "centos.stream9".into(),
                centos_stream10: "centos.stream10".into(),
            },
            storage_class: None,
            storage_sizes: StorageSizes {
                small: DiskSize::new("10Gi"),
                medium: DiskSize::new("30Gi"),
                large: DiskSize::new("50Gi"),
                xlarge: DiskSize::new("100Gi"),
            },
            network_binding: NetworkBinding::Auto,
            instance_series: InstanceSeries::ALL.into_iter().collect(),
            ssh_user: UserName("cloud-user".into()),
            image_users: PerFlavour {
                rhel7: UserName("cloud-user".into()),
                rhel8: UserName("cloud-user".into()),
                rhel9: UserName("cloud-user".into()),
                rhel10: UserName("cloud-user".into()),
                fedora: UserName("fedora".into()),
                centos_stream9: UserName("cloud-user".into()),
                centos_stream10: UserName("cloud-user".into()),
            },
        }
    }
}

/// One value per flavour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerFlavour<T> {
    /// For Red Hat Enterprise Linux 7.
    pub rhel7: T,
    /// For Red Hat Enterprise Linux 8.
    pub rhel8: T,
    /// For Red Hat Enterprise Linux 9.
    pub rhel9: T,
    /// For Red Hat Enterprise Linux 10.
    pub rhel10: T,
    /// For Fedora.
    pub fedora: T,
    /// For CentOS Stream 9.
    #[serde(rename = "centos-stream9")]
    pub centos_stream9: T,
    /// For CentOS Stream 10.
    #[serde(rename = "centos-stream10")]
    pub centos_stream10: T,
}

impl<T> PerFlavour<T> {
    /// The value of `flavour`.
    pub fn get(&self, flavour: Flavour) -> &T {
        match flavour {
            Flavour::Rhel7 => &self.rhel7,
            Flavour::Rhel8 => &self.rhel8,
            Flavour::Rhel9 => &self.rhel9,
            Flavour::Rhel10 => &self.rhel10,
            Flavour::Fedora => &self.fedora,
            Flavour::CentosStream9 => &self.centos_stream9,
            Flavour::CentosStream10 => &self.centos_stream10,
        }
    }
}

/// Root disk capacity per `storageSize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageSizes {
    /// Capacity of `small` (10Gi by default).
    pub small: DiskSize,
    /// Capacity of `medium` (30Gi by default).
    pub medium: DiskSize,
    /// Capacity of `large` (50Gi by default).
    pub large: DiskSize,
    /// Capacity of `xlarge` (100Gi by default).
    pub xlarge: DiskSize,
}

impl StorageSizes {
    /// The capacity of `size`.
    pub fn get(&self, size: StorageSize) -> &DiskSize {
        match size {
            StorageSize::Small => &self.small,
            StorageSize::Medium => &self.medium,
            StorageSize::Large => &self.large,
            StorageSize::Xlarge => &self.xlarge,
        }
    }
}

/// A disk capacity as a Kubernetes quantity: a positive number with an optional binary
/// (`Ki` to `Ei`) or decimal (`k` to `E`) suffix, such as `30Gi`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String")]
pub struct DiskSize(String);

impl DiskSize {
    /// The quantity as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl DiskSize {
    pub(crate) fn new(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl TryFrom<String> for DiskSize {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        const SUFFIXES: [&str; 13] = [
            "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E", "",
        ];
        let number = SUFFIXES
            .iter()
            .find_map(|s| text.strip_suffix(s))
            .unwrap_or_default();
        let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let positive = number.bytes().any(|b| (b'1'..=b'9').contains(&b));
        if digits(whole) && digits(fraction) && positive {
            Ok(Self(text))
        } else {
            Err(format!(
                "{text:?} is not a disk size; write a Kubernetes quantity such as 30Gi"
            ))
        }
    }
}

/// A Linux user name: a lower-case letter or `_`, then lower-case letters, digits, `_` or
/// `-`, at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String")]
pub struct UserName(String);

impl UserName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let mut bytes = text.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest_ok =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if first_ok && rest_ok && text.len() <= 32 {
            Ok(Self(text))
        } else {
            Err(format!(
                "{text:?} is not a Linux user name such as cloud-user"
            ))
        }
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
