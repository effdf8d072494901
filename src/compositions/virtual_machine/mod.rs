//! VirtualMachine: SCO's VM-as-a-Service. A namespaced `compute.cloud.stakater.com/v1`
//! `VirtualMachine` XR in a project's `ws-<project>-<suffix>` namespace becomes a KubeVirt VM
//! on OpenShift Virtualization, in the same namespace, with its SSH access.
//!
//! | XR field (`spec.parameters.`) | resources |
//! |---|---|
//! | `flavour` | KubeVirt `VirtualMachine` (`virtual-machine`): cluster preference (`rhel.9`, ...) and a root-disk `dataVolumeTemplates` entry cloned from the flavour's golden-image DataSource |
//! | `instanceType` | the VM's cluster instancetype; `status.vm.cpuCores`/`memory` from the running VirtualMachineInstance (required resource `virtual-machine-instance`: `status.currentCPUTopology`, `status.memory.guestCurrent`), else from the instance type table |
//! | `storageSize` | the root disk's capacity (platform sizes); refused below the golden image's size (required resources `golden-image`, the DataSource, and `golden-image-source`, its PVC or VolumeSnapshot: see `golden.rs`) |
//! | `running` | the VM's `runStrategy`: `Always` when true, `Halted` when false |
//! | `sshPublicKey.data` | SSH key Secret (`ssh-key`), the VM's `accessCredentials` (propagated by cloud-init NoCloud) |
//! | `cloudInit.userData` | cloud-init Secret (`cloud-init`), the VM's `cloudInitNoCloud.secretRef` |
//! | `connection` | Service (`service`): `ClusterIP` for private, `LoadBalancer` for public, port 22 |
//! | (the Service's address) | connection Secret (`connection`: `host`, `port`, `user`); `status.vm.serviceIP`/`serviceHostname` |
//!
//! Choices made here:
//! - `running: true` is `runStrategy: Always` (as KubeVirt's own `spec.running: true`), so the
//!   VM comes back after a guest shutdown; `false` is `Halted`. The XR is the one switch: a
//!   stop through KubeVirt's `stop` subresource (console, `virtctl stop`) patches
//!   `runStrategy` to `Halted` (`pkg/virt-api/rest/subresource.go`), and Crossplane's next
//!   server-side apply of the VM (forced, on every reconcile) sets `Always` again.
//! - The VM is ready when KubeVirt reports it `Running` (or `Migrating`: live-migrated while
//!   it runs) and `ready`, or, with `running: false`, `Stopped`. Secrets are ready once
//!   observed; the Service once it has an address (a cluster IP, or for `public` a load
//!   balancer ingress IP or host name).
//! - The connection Secret needs that address, so it is emitted only once the Service reports
//!   one; until then the XR waits with reason `WaitingForAddress` (a short TTL, not an error).
//!   Everything else is emitted at once: KubeVirt starts the VM when its Secrets appear.
//! - The cloud-init Secret always exists (NoCloud key propagation needs a NoCloud disk).
//!   Without `cloudInit.userData` it holds a cloud-config naming the platform's SSH user
//!   (`cloud-user`) as the image's default user, so the key and the connection Secret's user
//!   agree on every flavour (Fedora's images default to `fedora`). User data given in the XR
//!   is used as is; the connection Secret then names the user it gives the key to (its
//!   cloud-config `user`, `users`, else the flavour's image default user, setting
//!   `imageUsers`; see `user.rs`).
//! - The Service selects the VM's pod by the template label `sco.stakater.com/virtual-machine`.
//!   Its name starts with a letter as Service names must: an XR name starting with a digit
//!   (api-syncagent's default hashed names) gets a `vm-` prefix.
//! - The project label comes from the namespace (`ws-<project>-<suffix>`); the organisation is
//!   not known to this XR, so no organisation label is set.
//! - `instanceType` may change: with KubeVirt's `LiveUpdate` rollout strategy (1.3 and later,
//!   kubevirt/kubevirt#11455) the new type's vCPUs and memory are hot-plugged where they can
//!   be, otherwise (and always before 1.3) KubeVirt applies the type at the next start and
//!   sets `RestartRequired`, which the XR shows with a Warning. On KubeVirt 0.59.1 to 1.4,
//!   which pin the old type's revision in the VM's spec, the composed VM clears
//!   `revisionName` with the new name until KubeVirt pins the new one
//!   ([`kubevirt::ObservedMatchers`]). The cluster must keep KubeVirt's default
//!   `instancetypeReferencePolicy: reference`: with `expand` or `expandAll` (1.6,
//!   kubevirt/kubevirt#13086) virt-controller writes the type's CPU and memory into the
//!   template and drops `spec.instancetype`, and the admitter then refuses every apply of
//!   ours, which names the type again, as a conflict (`vms-admitter.go`).
//! - A VM that should run and does not start says why, as a Warning, from KubeVirt's words
//!   on the VM's status ([`kubevirt::ObservedStatus::start_blocked`]): the most common case
//!   in a project is its launcher pod refused by the tenant's quota.
//! - The interface's binding follows the namespace (`networkBinding: auto`, the default): a
//!   new VM takes `l2bridge` on a project's primary user-defined network and `masquerade`
//!   on the pod network (the namespace is a required resource until the VM exists); an
//!   existing VM keeps its own, as the namespace's label cannot change ([`NetworkBinding`]).
//! - No `resources` in the template: next to an instance type the admitter refuses requests
//!   and limits alike (`pkg/instancetype/apply` `cpu.go`, `memory.go`). Under a project quota
//!   with `limits.*` virt-launcher's limits come from KubeVirt's AutoResourceLimits, which the
//!   Project composition's namespaced ResourceQuota turns on
//!   ([`crate::resources::resource_quota`]).
//! - Cloning the golden image is authorised against the VM namespace's `default`
//!   ServiceAccount (`authorizeVirtualMachineSpec` → CDI `AuthorizeSA`): it needs `create`
//!   on `datavolumes/source` (`cdi.kubevirt.io`) in `goldenImageNamespace`, which the SSP
//!   operator grants to all authenticated users in its own golden-image namespace only.
//! - No `Usage`s: nothing here has to outlive anything else on deletion.
//! - `flavour` and `storageSize` are immutable in the XRD (CEL `self == oldSelf`): KubeVirt
//!   neither re-images nor resizes the root disk an existing VM's `dataVolumeTemplates`
//!   created, so a change would report success and do nothing. So are `sshPublicKey` and
//!   `cloudInit` (rules on `parameters`, since adding or removing one counts too): KubeVirt
//!   gives cloud-init an instance ID that never changes for the VM (`GenerateLocalData`,
//!   `cloudInitUUIDFromVMI`), so cloud-init applies both at the first boot only.
//! - The golden DataSource a VM was cloned from must outlive it: KubeVirt's VM admitter
//!   re-authorises every `dataVolumeTemplates` source on each update, not only on create
//!   (`vms-admitter.go` `Admit` -> `authorizeVirtualMachineSpec`), so once the DataSource is
//!   gone the VM refuses every apply until the platform's `goldenImages` names one that exists.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::build::Build;
use super::conventions::{self, XrIdentity};
use super::{Composition, Context, FieldError, Invalid, Observed};
use crate::resources::kubevirt::{
    self, GoldenImage, LinuxVm, ObservedMatchers, ObservedStatus, ObservedVirtualMachine,
    PodNetworkBinding, RunStrategy,
};
use crate::resources::ovn;
use crate::resources::secret::{Base64, Secret};
use crate::resources::service::{Address, ObservedService, Service, ServicePort, ServiceType};
use crate::resources::{self, Labels, Meta, ObservedQuantity};
use crate::sdk::response::{Match, Requirement};
use serde::Deserialize;

mod golden;
pub mod names;
pub mod settings;
pub mod spec;
mod ssh;
mod user;

use names::{CLOUD_INIT, CONNECTION, Names, SERVICE, SSH_KEY, VIRTUAL_MACHINE};
pub use settings::Settings;
use settings::{NetworkBinding, UserName};
use spec::{Connection, InstanceSeries, InstanceType, Memory, Parameters, VmStatus};

/// The requirement under which Crossplane fetches the VM's running instance.
const VMI_REQUIREMENT: &str = "virtual-machine-instance";
/// The requirement under which Crossplane fetches the VM's namespace, for its network.
const NAMESPACE_REQUIREMENT: &str = "namespace";

/// Label on the VM's instance (and pod) that its Service selects.
pub const LABEL_VIRTUAL_MACHINE: &str = "sco.stakater.com/virtual-machine";
/// The port SSH listens on, in the guest and on the Service.
pub const SSH_PORT: u16 = 22;

/// The VirtualMachine composition.
pub struct VirtualMachine;

/// Which status flag a composed resource counts towards: a VirtualMachine has one,
/// `status.vm.ready`, so every resource counts towards the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The VM and everything it needs.
    Vm,
}

impl Composition for VirtualMachine {
    const NAME: &'static str = "VirtualMachine";
    const API_VERSION: &'static str = "compute.cloud.stakater.com/v1";
    const KIND: &'static str = "VirtualMachine";
    const SETTINGS_KEY: &'static str = "virtualMachine";
    type Xr = spec::VirtualMachine;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = Vm<'a>;
    type Status = spec::VirtualMachineStatus;

    fn validate<'a>(
        xr: &'a spec::VirtualMachine,
        cx: Context<'a, Settings>,
    ) -> Result<Vm<'a>, Invalid> {
        let settings = cx.settings;
        let params = &xr.spec.parameters;
        let checked = check(params, settings)?;
        let identity = XrIdentity::of::<VirtualMachine>(&xr.metadata);
        let Some(namespace) = identity.scope.namespace() else {
            return Err(Invalid::field(
                "metadata.namespace",
                "a VirtualMachine is namespaced; create it in its project's namespace",
            ));
        };
        let labels = identity.labels(None, conventions::project_of_namespace(namespace));
        // Only before the VM exists: its disk is cloned once (see `golden.rs`).
        if !cx.observed.exists(VIRTUAL_MACHINE) {
            let image = format!(
                "{}/{}",
                settings.golden_image_namespace, checked.golden_image
            );
            if golden::missing(cx.observed) {
                return Err(Invalid::field(
                    "spec.parameters.flavour",
                    format!(
                        "the golden image of flavour {} (DataSource {image}) does not exist on this cluster, and KubeVirt refuses a VM cloned from it; choose another flavour, or ask the platform team to provide it or fix virtualMachine.goldenImages",
                        params.flavour.as_str(),
                    ),
                ));
            }
            if let Some(source) = golden::source_size(cx.observed)
                && let Some(why) = golden::too_small(
                    settings,
                    params.storage_size,
                    &source,
                    golden::target_filesystem(cx.observed),
                    &image,
                )
            {
                return Err(Invalid::field("spec.parameters.storageSize", why));
            }
        }
        Ok(Vm {
            params,
            settings,
            checked,
            names: Names::of(&identity.name),
            namespace: namespace.to_owned(),
            labels,
            seen: Seen::of(cx.observed, params.connection),
        })
    }

    fn compose(vm: &Vm<'_>, build: &mut Build<'_, Part>) {
        let (params, settings, names) = (vm.params, vm.settings, &vm.names);
        build.require(
            golden::GOLDEN_IMAGE,
            golden::data_source(settings, vm.checked.golden_image),
        );
        if let Some(source) = golden::source(build.observed()) {
            build.require(golden::GOLDEN_IMAGE_SOURCE, source);
        }
        // Read only by the size check, which applies before the VM exists: a VM that exists
        // does not have Crossplane fetch it on every reconcile.
        if !build.exists(VIRTUAL_MACHINE)
            && let Some(profile) = golden::storage_profile(settings)
        {
            build.require(golden::STORAGE_PROFILE, profile);
        }
        // The running instance: its CPU and memory are what the guest has now (declared on
        // every call, as Crossplane's requirements loop wants).
        build.require(
            VMI_REQUIREMENT,
            Requirement {
                api_version: "kubevirt.io/v1".into(),
                kind: "VirtualMachineInstance".into(),
                matching: Match::Name(names.vm.clone()),
                namespace: Some(vm.namespace.clone()),
            },
        );
        if let Some(key) = &vm.checked.ssh_key {
            let ssh_key = secret(vm.meta(&names.ssh_key), [("key", key.line.as_str())]);
            build.add_existing(SSH_KEY, Part::Vm, &ssh_key);
        }
        let user_data = params.cloud_init.as_ref().map_or_else(
            || Cow::Owned(default_user_data(&settings.ssh_user)),
            |c| Cow::Borrowed(c.user_data.as_str()),
        );
        let cloud_init = secret(
            vm.meta(&names.cloud_init),
            [(kubevirt::USER_DATA_KEY, &*user_data)],
        );
        build.add_existing(CLOUD_INIT, Part::Vm, &cloud_init);

        let mut machine = kubevirt::VirtualMachine::linux(LinuxVm {
            metadata: vm.meta(&names.vm),
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
                name: vm.checked.golden_image,
            },
            root_disk_size: Quantity(
                settings
                    .storage_sizes
                    .get(params.storage_size)
                    .as_str()
                    .to_owned(),
            ),
            storage_class: settings.storage_class.as_deref(),
            template_labels: vm.labels.with(LABEL_VIRTUAL_MACHINE, &names.vm),
            binding: vm.binding(build),
            ssh_key_secret: vm.checked.ssh_key.as_ref().map(|_| names.ssh_key.as_str()),
            user_data_secret: &names.cloud_init,
        });
        // A changed instance type (or preference) on KubeVirt 0.59.1 to 1.4 needs the
        // revision of the old one cleared with it.
        vm.seen.matchers.renew(&mut machine.spec);
        let ready = vm_ready(&vm.seen.vm, params.running);
        if let Some(message) = vm.seen.vm.restart_required() {
            build.warn(format!(
                "the VM runs its previous configuration until it restarts (KubeVirt: RestartRequired: {message}); restart it to apply the change (set running to false, then true)"
            ));
        }
        if params.running {
            if let Some(why) = vm.seen.vm.start_blocked() {
                build.warn(format!("the VM does not start (KubeVirt: {why})"));
            }
        } else if let Some(why) = vm.seen.vm.disk_blocked() {
            build.warn(format!(
                "the VM's root disk is not provisioned (KubeVirt: {why})"
            ));
        }
        build.add(VIRTUAL_MACHINE, Part::Vm, &machine, ready);

        let service = service(vm.meta(&names.service), &names.vm, params.connection);
        build.add(SERVICE, Part::Vm, &service, vm.seen.address.is_some());

        match &vm.seen.address {
            Some(address) => {
                let port = SSH_PORT.to_string();
                let user = match &params.cloud_init {
                    None => settings.ssh_user.to_string(),
                    Some(c) => user::login_user(
                        &c.user_data,
                        settings.image_users.get(params.flavour).as_str(),
                    ),
                };
                let data = [
                    ("host", address.host()),
                    ("port", port.as_str()),
                    ("user", user.as_str()),
                ];
                build.add_existing(
                    CONNECTION,
                    Part::Vm,
                    &secret(vm.meta(&names.connection), data),
                );
            }
            None => {
                let what = match params.connection {
                    Connection::Private => "a cluster IP",
                    Connection::Public => "a load balancer address",
                };
                build.wait(
                    "WaitingForAddress",
                    format!(
                        "waiting for Service {}/{} to get {what}; the connection Secret {} is written then",
                        vm.namespace, names.service, names.connection
                    ),
                );
            }
        }
    }

    fn status(vm: &Vm<'_>, _: &Build<'_, Part>) -> spec::VirtualMachineStatus {
        status(&vm.seen, vm.params.instance_type)
    }
}

/// A valid VirtualMachine: its parameters, settings, what the rules found and its names.
pub struct Vm<'a> {
    params: &'a Parameters,
    settings: &'a Settings,
    checked: Checked<'a>,
    names: Names,
    namespace: String,
    labels: Labels,
    seen: Seen,
}

impl Vm<'_> {
    /// The binding of the VM's pod-network interface. With `networkBinding: auto` a VM that
    /// exists keeps the binding it has (the namespace's label cannot change, and a change
    /// would wait for a restart), and a new one takes it from its namespace, which
    /// Crossplane fetches only then ([`NetworkBinding`]).
    fn binding(&self, build: &mut Build<'_, Part>) -> PodNetworkBinding {
        let setting = self.settings.network_binding;
        if setting != NetworkBinding::Auto {
            return setting.for_namespace(None);
        }
        if build.exists(VIRTUAL_MACHINE)
            && let Some(kept) = self.seen.matchers.binding()
        {
            return kept;
        }
        build.require(
            NAMESPACE_REQUIREMENT,
            Requirement::namespace(&self.namespace),
        );
        let primary_udn = build
            .required(NAMESPACE_REQUIREMENT)
            .map(|found| found.first().is_some_and(ovn::has_primary_udn_label));
        setting.for_namespace(primary_udn)
    }

    /// Metadata of a composed object: in the XR's namespace, with the XR's labels.
    fn meta(&self, name: &str) -> Meta {
        resources::meta(name, Some(&self.namespace), &self.labels)
    }
}

/// What is read of observed state, once, for composing and for the status.
struct Seen {
    /// The VM's status as KubeVirt reports it.
    vm: ObservedStatus,
    /// The instance type and preference revisions the VM's spec pins.
    matchers: ObservedMatchers,
    /// Where SSH reaches the VM: the cluster IP of a private VM's Service, or the first
    /// load balancer ingress of a public one; `None` until there is one.
    address: Option<Address>,
    /// The running instance (required resource `virtual-machine-instance`).
    instance: ObservedInstance,
}

impl Seen {
    fn of(observed: &Observed<'_>, connection: Connection) -> Self {
        let ObservedVirtualMachine {
            status: vm,
            spec: matchers,
        } = observed
            .read::<ObservedVirtualMachine>(VIRTUAL_MACHINE)
            .and_then(Result::ok)
            .unwrap_or_default();
        let address = observed
            .read::<ObservedService>(SERVICE)
            .and_then(Result::ok)
            .and_then(|service| match connection {
                Connection::Private => service.cluster_ip(),
                Connection::Public => service.load_balancer(),
            });
        let instance = observed
            .required
            .get(VMI_REQUIREMENT)
            .and_then(|found| found.first())
            .and_then(|v| ObservedInstance::deserialize(v).ok())
            .unwrap_or_default();
        Seen {
            vm,
            matchers,
            address,
            instance,
        }
    }
}

/// What is read of the observed VirtualMachineInstance: the CPU topology and memory the
/// guest has now (`status.currentCPUTopology`, KubeVirt 1.0 and later; `status.memory`,
/// KubeVirt 1.1 and later: `kubevirt/kubevirt` `staging/src/kubevirt.io/api/core/v1/types.go`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedInstance {
    /// KubeVirt declares the status nullable.
    status: Option<InstanceStatus>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct InstanceStatus {
    #[serde(rename = "currentCPUTopology")]
    current_cpu_topology: Option<CpuTopology>,
    memory: Option<InstanceMemory>,
}

#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct CpuTopology {
    cores: Option<u32>,
    sockets: Option<u32>,
    threads: Option<u32>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct InstanceMemory {
    guest_current: Option<ObservedQuantity>,
    guest_at_boot: Option<ObservedQuantity>,
}

impl ObservedInstance {
    /// vCPUs: cores × sockets × threads.
    fn cpus(&self) -> Option<u32> {
        let t = self.status.as_ref()?.current_cpu_topology?;
        let product = t.cores.unwrap_or(1) * t.sockets.unwrap_or(1) * t.threads.unwrap_or(1);
        Some(product).filter(|n| *n > 0)
    }

    fn memory(&self) -> Option<String> {
        let m = self.status.as_ref()?.memory.as_ref()?;
        let quantity = m.guest_current.as_ref().or(m.guest_at_boot.as_ref())?;
        Some(quantity.text())
    }
}

/// The XR's status: KubeVirt's view of the VM, the running instance's size (else the
/// instance type's) and the address.
fn status(seen: &Seen, instance_type: InstanceType) -> spec::VirtualMachineStatus {
    let (vm, instance) = (&seen.vm, &seen.instance);
    let facts = instance_type.facts();
    let (service_ip, service_hostname) = seen
        .address
        .as_ref()
        .map_or((None, None), |a| (a.ip.clone(), a.hostname.clone()));
    spec::VirtualMachineStatus {
        vm: Some(VmStatus {
            printable_status: vm.printable_status.clone(),
            ready: vm.ready,
            created: vm.created,
            restart_required: vm.restart_required().is_some(),
            cpu_cores: instance.cpus().unwrap_or(facts.cpus),
            memory: instance
                .memory()
                .unwrap_or_else(|| facts.memory.to_string()),
            service_ip,
            service_hostname,
        }),
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

/// The cloud-config used when the XR gives no user data: it names the SSH user as the
/// image's default user, which receives the propagated SSH key.
fn default_user_data(user: &UserName) -> String {
    // The mapping form: a plain string is deprecated in cloud-init.
    format!("#cloud-config\nuser:\n  name: {user}\n")
}

/// Whether the observed VM is where `running` wants it. A running VM being live-migrated (a
/// node drain, a cluster upgrade) shows `Migrating`, which KubeVirt's `setPrintableStatus`
/// checks before `Running` (`pkg/virt-controller/watch/vm.go`), while `status.ready` (the
/// VMI's Ready condition) stays true: it is still running.
fn vm_ready(status: &ObservedStatus, running: bool) -> bool {
    match (running, status.printable_status.as_deref()) {
        (true, Some("Running" | "Migrating")) => status.ready,
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

#[cfg(test)]
mod tests;

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::readers::{Upstream, pointer, typed};
    let cdi = || {
        Upstream::Unverifiable(
            "CDI's DataSource and StorageProfile CRDs are generated by its operator and not vendored; checked by hand against the json tags of kubevirt/containerized-data-importer staging/src/kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1/types.go",
        )
    };
    let snapshot = || {
        Upstream::Unverifiable(
            "the CSI VolumeSnapshot CRD is not vendored; status.restoreSize is kubernetes-csi/external-snapshotter's json tag",
        )
    };
    let pvc = || Upstream::Kind("v1".into(), "PersistentVolumeClaim");
    vec![
        typed::<ObservedInstance>(Upstream::KubeVirt("v1.VirtualMachineInstance")),
        pointer(cdi(), "/status/claimPropertySets/0/volumeMode"),
        pointer(cdi(), "/status/source"),
        pointer(cdi(), "/status/source/pvc/name"),
        pointer(cdi(), "/status/source/pvc/namespace"),
        pointer(cdi(), "/status/source/snapshot/name"),
        pointer(cdi(), "/status/source/snapshot/namespace"),
        pointer(cdi(), "/metadata/namespace"),
        pointer(pvc(), "/spec/resources/requests/storage"),
        pointer(pvc(), "/status/capacity/storage"),
        pointer(pvc(), "/spec/volumeMode"),
        pointer(snapshot(), "/status/restoreSize"),
    ]
}
