//! VirtualMachine: SCO's VM-as-a-Service. A namespaced `compute.cloud.stakater.com/v1`
//! `VirtualMachine` XR in a project's `ws-<project>-<suffix>` namespace becomes a KubeVirt VM
//! on OpenShift Virtualization, in the same namespace, with its SSH access.
//!
//! | XR field (`spec.parameters.`) | resources |
//! |---|---|
//! | `flavour` | KubeVirt `VirtualMachine` (`virtual-machine`): cluster preference (`rhel.9`, ...) and a root-disk `dataVolumeTemplates` entry cloned from the flavour's golden-image DataSource |
//! | `instanceType` | the VM's cluster instancetype; `status.vm.cpuCores`/`memory` |
//! | `storageSize` | the root disk's capacity (platform sizes) |
//! | `running` | the VM's `runStrategy`: `Always` when true, `Halted` when false |
//! | `sshPublicKey.data` | SSH key Secret (`ssh-key`), the VM's `accessCredentials` (propagated by cloud-init NoCloud) |
//! | `cloudInit.userData` | cloud-init Secret (`cloud-init`), the VM's `cloudInitNoCloud.secretRef` |
//! | `connection` | Service (`service`): `ClusterIP` for private, `LoadBalancer` for public, port 22 |
//! | (the Service's address) | connection Secret (`connection`: `host`, `port`, `user`); `status.vm.serviceIP`/`serviceHostname` |
//!
//! Choices made here:
//! - `running: true` is `runStrategy: Always` (as KubeVirt's own `spec.running: true`), so the
//!   VM comes back after a guest shutdown; `false` is `Halted`.
//! - The VM is ready when KubeVirt reports it `Running` and `ready`, or, with `running: false`,
//!   `Stopped`. Secrets are ready once observed; the Service once it has an address (a
//!   cluster IP, or for `public` a load balancer ingress IP or host name).
//! - The connection Secret needs that address, so it is emitted only once the Service reports
//!   one; until then the XR waits with reason `WaitingForAddress` (a short TTL, not an error).
//!   Everything else is emitted at once: KubeVirt starts the VM when its Secrets appear.
//! - The cloud-init Secret always exists (NoCloud key propagation needs a NoCloud disk).
//!   Without `cloudInit.userData` it holds a cloud-config naming the platform's SSH user
//!   (`cloud-user`) as the image's default user, so the key and the connection Secret's user
//!   agree on every flavour (Fedora's images default to `fedora`). User data given in the XR
//!   is used as is; it decides the user then.
//! - The Service selects the VM's pod by the template label `sco.stakater.com/virtual-machine`.
//!   Its name starts with a letter as Service names must: an XR name starting with a digit
//!   (api-syncagent's default hashed names) gets a `vm-` prefix.
//! - The project label comes from the namespace (`ws-<project>-<suffix>`); the organisation is
//!   not known to this XR, so no organisation label is set.
//! - No `Usage`s: nothing here has to outlive anything else on deletion.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::conventions::{self, XrIdentity};
use super::{Composition, Desired, FieldError, Invalid, Observed, Waiting};
use crate::config::Platform;
use crate::resources::kubevirt::{
    self, GoldenImage, LinuxVm, ObservedStatus, ObservedVirtualMachine, PodNetworkBinding,
    RunStrategy,
};
use crate::resources::secret::{Base64, Secret};
use crate::resources::service::{Service, ServicePort, ServiceType};
use crate::resources::{self, Meta};
use crate::sdk::resource::Name;

pub mod spec;
mod ssh;

use spec::{
    Connection, Flavour, InstanceSeries, InstanceType, Memory, Parameters, StorageSize, VmStatus,
};

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

/// Label on the VM's instance (and pod) that its Service selects.
pub const LABEL_VIRTUAL_MACHINE: &str = "sco.stakater.com/virtual-machine";
/// The port SSH listens on, in the guest and on the Service.
pub const SSH_PORT: u16 = 22;

/// Platform settings of this composition (`virtualMachine` in the platform configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Namespace of the golden-image DataSources.
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
    /// How a VM's interface attaches to the pod network: `masquerade` (NAT on the default pod
    /// network) or `l2bridge` (a project's primary user-defined network).
    pub network_binding: PodNetworkBinding,
    /// Instance type series this platform offers. A cluster without dedicated CPUs or
    /// hugepages offers only o1 and u1 (cx1, m1, n1 and rt1 need them).
    pub instance_series: BTreeSet<InstanceSeries>,
    /// The user SSH logs in as: the user of the default cloud-config and of the connection
    /// Secret.
    pub ssh_user: UserName,
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
            network_binding: PodNetworkBinding::Masquerade,
            instance_series: InstanceSeries::ALL.into_iter().collect(),
            ssh_user: UserName("cloud-user".into()),
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
    fn new(text: &str) -> Self {
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

/// The VirtualMachine composition.
pub struct VirtualMachine;

impl Composition for VirtualMachine {
    const NAME: &'static str = "VirtualMachine";
    const API_VERSION: &'static str = "compute.cloud.stakater.com/v1";
    const KIND: &'static str = "VirtualMachine";
    type Xr = spec::VirtualMachine;

    fn render(
        xr: &spec::VirtualMachine,
        observed: &Observed<'_>,
        platform: &Platform,
    ) -> Result<Desired, Invalid> {
        let settings = &platform.virtual_machine;
        let params = &xr.spec.parameters;
        let checked = check(params, settings)?;
        let identity = XrIdentity::of::<VirtualMachine>(&xr.metadata);
        let Some(namespace) = identity.scope.namespace() else {
            return Err(Invalid::field(
                "metadata.namespace",
                "a VirtualMachine is namespaced; create it in its project's namespace",
            ));
        };
        let names = Names::of(&identity.name);
        let labels = identity.labels(None, conventions::project_of_namespace(namespace));
        let metadata = |name: &str| resources::meta(name, Some(namespace), &labels);
        let seen = |name: &str| observed.exists(&Name::from(name));
        let mut desired = Desired::default();

        if let Some(key) = &checked.ssh_key {
            desired.add(
                SSH_KEY,
                &secret(metadata(&names.ssh_key), [("key", key.line.as_str())]),
                seen(SSH_KEY),
            );
        }
        let user_data = params.cloud_init.as_ref().map_or_else(
            || Cow::Owned(default_user_data(&settings.ssh_user)),
            |c| Cow::Borrowed(c.user_data.as_str()),
        );
        desired.add(
            CLOUD_INIT,
            &secret(
                metadata(&names.cloud_init),
                [(kubevirt::USER_DATA_KEY, &*user_data)],
            ),
            seen(CLOUD_INIT),
        );

        let vm_status = observed
            .read::<ObservedVirtualMachine>(&Name::from(VIRTUAL_MACHINE))
            .and_then(Result::ok)
            .unwrap_or_default()
            .status;
        let vm = kubevirt::VirtualMachine::linux(LinuxVm {
            metadata: metadata(&names.vm),
            instancetype: params.instance_type.as_str(),
            preference: settings.preferences.get(params.flavour),
            run_strategy: if params.running {
                RunStrategy::Always
            } else {
                RunStrategy::Halted
            },
            root_disk_name: names.root_disk.clone(),
            golden_image: GoldenImage {
                namespace: &settings.golden_image_namespace,
                name: checked.golden_image,
            },
            root_disk_size: Quantity(settings.storage_sizes.get(params.storage_size).0.clone()),
            storage_class: settings.storage_class.as_deref(),
            template_labels: labels.with(LABEL_VIRTUAL_MACHINE, &names.vm),
            binding: settings.network_binding,
            ssh_key_secret: checked.ssh_key.as_ref().map(|_| names.ssh_key.as_str()),
            user_data_secret: &names.cloud_init,
        });
        desired.add(VIRTUAL_MACHINE, &vm, vm_ready(&vm_status, params.running));

        let address = observed
            .read::<ObservedService>(&Name::from(SERVICE))
            .and_then(Result::ok)
            .and_then(|s| Address::of(&s, params.connection));
        desired.add(
            SERVICE,
            &service(metadata(&names.service), &names.vm, params.connection),
            address.is_some(),
        );

        match &address {
            Some(address) => {
                let port = SSH_PORT.to_string();
                let user = settings.ssh_user.to_string();
                let data = [
                    ("host", address.host()),
                    ("port", port.as_str()),
                    ("user", user.as_str()),
                ];
                desired.add(
                    CONNECTION,
                    &secret(metadata(&names.connection), data),
                    seen(CONNECTION),
                );
            }
            None => {
                desired.waiting = Some(waiting_for_address(namespace, &names, params.connection))
            }
        }
        desired.status = status(vm_status, params.instance_type, address);
        Ok(desired)
    }

    fn definition() -> Value {
        super::xrd::definition::<spec::VirtualMachine>()
    }
}

/// Why the connection Secret is not there yet.
fn waiting_for_address(namespace: &str, names: &Names, connection: Connection) -> Waiting {
    let what = match connection {
        Connection::Private => "a cluster IP",
        Connection::Public => "a load balancer address",
    };
    Waiting {
        reason: "WaitingForAddress".into(),
        message: format!(
            "waiting for Service {namespace}/{} to get {what}; the connection Secret {} is written then",
            names.service, names.connection
        ),
    }
}

/// The XR's status: KubeVirt's view of the VM, the instance type's size and the address.
fn status(
    vm: ObservedStatus,
    instance_type: InstanceType,
    address: Option<Address>,
) -> Map<String, Value> {
    let facts = instance_type.facts();
    let (service_ip, service_hostname) = address.map_or((None, None), |a| (a.ip, a.hostname));
    let status = spec::VirtualMachineStatus {
        vm: Some(VmStatus {
            printable_status: vm.printable_status,
            ready: vm.ready,
            created: vm.created,
            cpu_cores: facts.cpus,
            memory: facts.memory.to_string(),
            service_ip,
            service_hostname,
        }),
    };
    match serde_json::to_value(status) {
        Ok(Value::Object(status)) => status,
        _ => unreachable!("a struct serialises to a JSON object"),
    }
}

/// What the rules found in valid parameters.
struct Checked<'a> {
    /// The flavour's golden-image DataSource.
    golden_image: &'a str,
    /// The SSH key, if given.
    ssh_key: Option<ssh::PublicKey>,
}

/// Enforces the rules, reporting every violation at once.
fn check<'a>(params: &Parameters, settings: &'a Settings) -> Result<Checked<'a>, Invalid> {
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        })
    };

    let golden_image = settings.golden_images.get(params.flavour).as_deref();
    if golden_image.is_none() {
        let flavour = params.flavour;
        error(
            "spec.parameters.flavour",
            format!(
                "{flavour} has no golden image on this platform; choose another flavour, or ask the platform team to set \
                 virtualMachine.goldenImages.{flavour} to a DataSource in {}",
                settings.golden_image_namespace
            ),
        );
    }

    let instance_type = params.instance_type;
    let facts = instance_type.facts();
    if !settings.instance_series.contains(&facts.series) {
        let offered: Vec<&str> = settings
            .instance_series
            .iter()
            .map(|s| s.as_str())
            .collect();
        let offered = if offered.is_empty() {
            "none".to_owned()
        } else {
            offered.join(", ")
        };
        error(
            "spec.parameters.instanceType",
            format!(
                "{:?} is in series {}, which this platform does not offer (it offers {offered}); choose an instance type \
                 of an offered series, or ask the platform team to add {} to virtualMachine.instanceSeries",
                instance_type.as_str(),
                facts.series,
                facts.series
            ),
        );
    }
    let minimum = params.flavour.minimum_memory();
    if facts.memory < minimum {
        let fix = smallest_fit(facts.series, minimum);
        error(
            "spec.parameters.instanceType",
            format!(
                "{:?} has {}, flavour {} needs at least {minimum}; {fix}",
                instance_type.as_str(),
                facts.memory,
                params.flavour
            ),
        );
    }

    let ssh_key = match params
        .ssh_public_key
        .as_ref()
        .map(|k| ssh::parse(&k.data))
        .transpose()
    {
        Ok(key) => key,
        Err(reason) => {
            error(
                "spec.parameters.sshPublicKey.data",
                format!(
                    "not an OpenSSH public key: {reason}; give the one line of your .pub file \
                     (\"ssh-ed25519 AAAA... you@host\"), raw or base64-encoded"
                ),
            );
            None
        }
    };

    match golden_image {
        Some(golden_image) if errors.is_empty() => Ok(Checked {
            golden_image,
            ssh_key,
        }),
        _ => Err(Invalid(errors)),
    }
}

fn smallest_fit(series: InstanceSeries, minimum: Memory) -> String {
    match InstanceType::smallest_with(series, minimum) {
        Some(fit) => format!("choose {fit} or larger"),
        None => "choose an instance type with more memory".to_owned(),
    }
}

/// Names of the composed objects, all derived from the XR's name.
struct Names {
    vm: String,
    root_disk: String,
    ssh_key: String,
    cloud_init: String,
    service: String,
    connection: String,
}

impl Names {
    fn of(xr: &str) -> Self {
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

/// The cloud-config used when the XR gives no user data: it names the SSH user as the
/// image's default user, which receives the propagated SSH key.
fn default_user_data(user: &UserName) -> String {
    format!("#cloud-config\nuser: {user}\n")
}

/// Whether the observed VM is where `running` wants it.
fn vm_ready(status: &ObservedStatus, running: bool) -> bool {
    match (running, status.printable_status.as_deref()) {
        (true, Some("Running")) => status.ready,
        (false, Some("Stopped")) => true,
        _ => false,
    }
}

/// An Opaque Secret holding `data`.
fn secret<'a>(metadata: Meta, data: impl IntoIterator<Item = (&'a str, &'a str)>) -> Secret<'a> {
    Secret::new(
        metadata,
        data.into_iter()
            .map(|(k, v)| (k.to_owned(), Base64::from(v))),
    )
}

/// The Service exposing the VM's SSH port.
fn service<'a>(metadata: Meta, vm: &'a str, connection: Connection) -> Service<'a> {
    let type_ = match connection {
        Connection::Private => ServiceType::ClusterIP,
        Connection::Public => ServiceType::LoadBalancer,
    };
    Service::new(
        metadata,
        type_,
        (LABEL_VIRTUAL_MACHINE, vm),
        vec![ServicePort::tcp("ssh", SSH_PORT)],
    )
}

/// Where SSH reaches the VM, read from the observed Service (a load balancer ingress point
/// has the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Address {
    ip: Option<String>,
    hostname: Option<String>,
}

/// What the composition reads of its observed Service: the cluster IP and the load
/// balancer's ingress points, nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObservedService {
    spec: Option<ObservedServiceSpec>,
    status: Option<ObservedServiceStatus>,
}

#[derive(Debug, Default, Deserialize)]
struct ObservedServiceSpec {
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObservedServiceStatus {
    load_balancer: Option<ObservedLoadBalancer>,
}

#[derive(Debug, Default, Deserialize)]
struct ObservedLoadBalancer {
    ingress: Option<Vec<Address>>,
}

impl Address {
    /// The cluster IP of a private VM's Service, or the first load balancer ingress of a
    /// public one; `None` until there is one.
    fn of(service: &ObservedService, connection: Connection) -> Option<Self> {
        let present = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        match connection {
            Connection::Private => {
                let ip = service
                    .spec
                    .as_ref()
                    .and_then(|s| present(&s.cluster_ip))
                    .filter(|ip| ip != "None")?;
                Some(Self {
                    ip: Some(ip),
                    hostname: None,
                })
            }
            Connection::Public => service
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .map(|ingress| Self {
                    ip: present(&ingress.ip),
                    hostname: present(&ingress.hostname),
                })
                .find(|a| a.ip.is_some() || a.hostname.is_some()),
        }
    }

    /// The IP, else the host name.
    fn host(&self) -> &str {
        self.ip
            .as_deref()
            .or(self.hostname.as_deref())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
