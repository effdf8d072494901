//! Names of the VirtualMachine's composed resources (stable: Crossplane matches desired to
//! observed resources by them) and of the objects, all derived from the XR's name.

use crate::compositions::conventions;

/// Composition resource name of the KubeVirt VirtualMachine.
pub const VIRTUAL_MACHINE: &str = "virtual-machine";
/// Composition resource name of the SSH public key Secret.
pub const SSH_KEY: &str = "ssh-key";
/// Composition resource name of the cloud-init user data Secret.
pub const CLOUD_INIT: &str = "cloud-init";
/// Composition resource name of the SSH Service.
pub const SERVICE: &str = "service";
/// Composition resource name of the connection Secret.
pub const CONNECTION: &str = "connection";

/// Names of the composed objects, all derived from the XR's name.
pub struct Names {
    /// The KubeVirt VirtualMachine (and its pod label).
    pub vm: String,
    /// The root disk.
    pub root_disk: String,
    /// The SSH key Secret.
    pub ssh_key: String,
    /// The cloud-init Secret.
    pub cloud_init: String,
    /// The SSH Service.
    pub service: String,
    /// The connection Secret.
    pub connection: String,
}

impl Names {
    /// The names for XR `xr`.
    pub fn of(xr: &str) -> Self {
        let service = conventions::name(&[xr, "ssh"]);
        Self {
            vm: conventions::name(&[xr]),
            root_disk: conventions::name(&[xr, "root"]),
            ssh_key: conventions::name(&[xr, "ssh-key"]),
            cloud_init: conventions::name(&[xr, "cloud-init"]),
            service: if service.starts_with(|c: char| c.is_ascii_lowercase()) {
                service
            } else {
                conventions::name(&["vm", xr, "ssh"])
            },
            connection: conventions::name(&[xr, "connection"]),
        }
    }
}
