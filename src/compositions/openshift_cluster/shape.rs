//! What HyperShift makes immutable in a HostedCluster, and how this composition keeps it: the
//! parts of the observed HostedCluster read back ([`ObservedShape`]), the XR fields that may
//! not change once it exists ([`check_unchanged`]: `clusterName`, `networking.mode`, the base
//! domain), and the settings-derived fields taken from it rather than from the settings
//! ([`immutable`]: platform, etcd storage, networks, availability policy, the NodePort
//! address of a private cluster's services), so a changed platform setting applies to new
//! clusters only.

use super::*;
use crate::resources::ObservedQuantity;
use crate::resources::net::Cidr;

/// Settings-derived fields HyperShift makes immutable, as they are to be written: from the
/// observed HostedCluster once it exists, else from the settings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Immutable {
    pub(super) platform: HostedPlatform,
    pub(super) etcd_size: ObservedQuantity,
    pub(super) etcd_storage_class: Option<String>,
    pub(super) cluster_network: Vec<NetworkEntry>,
    pub(super) service_network: Vec<NetworkEntry>,
    pub(super) machine_network: Vec<NetworkEntry>,
    pub(super) availability: hypershift::AvailabilityPolicy,
    /// The HostedCluster's `dns.baseDomain`: ours, except on a KubeVirt cluster with
    /// `baseDomainPassthrough`, where HyperShift writes the management cluster's apps domain
    /// into it (below) and it must be kept (CEL "baseDomain is immutable"); see
    /// [`Immutable::published_base_domain`].
    pub(super) base_domain: String,
    /// `networking.apiServer.allowedCIDRBlocks` of a private cluster: the settings' for a new
    /// cluster, as observed for an existing one (`None`: not set). HyperShift's validating
    /// webhook refuses any change of `spec.networking` on an existing cluster without the
    /// `hypershift.openshift.io/acknowledge-networking-disruption: "true"` annotation
    /// (`hostedcluster_webhook.go` `ValidateUpdate`), and such a disruption is not ours to
    /// acknowledge for every cluster at once.
    pub(super) api_allowed_cidrs: Option<Vec<String>>,
    /// The address a private cluster's services are published on (`spec.services` is
    /// immutable: CEL "Services is immutable" on the HostedCluster spec).
    pub(super) node_port_address: String,
    /// The name of the OpenID identity provider: the observed one of an existing cluster.
    /// OpenShift names each user's identity `<provider>:<sub>`, and with `mappingMethod:
    /// claim` a login whose user is already mapped to another identity fails
    /// (`openshift/api` `config/v1` `MappingMethodClaim`): renaming the provider would lock
    /// every existing user out of the cluster.
    pub(super) identity_provider_name: String,
}

impl Immutable {
    /// The base domain the composition publishes the cluster under (DNS records, the API
    /// certificate, the apps LoadBalancer): the HostedCluster's, but none on a passthrough
    /// cluster, whose `dns.baseDomain` HyperShift fills in with the management cluster's apps
    /// domain, already served by that cluster's `*.apps` wildcard.
    pub(super) fn published_base_domain(&self) -> &str {
        if self.platform.passthrough() {
            ""
        } else {
            &self.base_domain
        }
    }
}

/// The immutable parts of an observed HostedCluster, as read back.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub(super) struct ObservedShape {
    #[serde(default)]
    metadata: ShapeMeta,
    #[serde(default)]
    spec: ShapeSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeMeta {
    name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeSpec {
    platform: Option<ShapePlatform>,
    etcd: Option<ShapeEtcd>,
    networking: Option<ShapeNetworking>,
    controller_availability_policy: Option<hypershift::AvailabilityPolicy>,
    dns: Option<ShapeDns>,
    #[serde(default)]
    services: Vec<ShapeService>,
    configuration: Option<ShapeConfiguration>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeConfiguration {
    oauth: Option<ShapeOAuth>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeOAuth {
    #[serde(default)]
    identity_providers: Vec<ShapeIdentityProvider>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeIdentityProvider {
    name: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapePlatform {
    /// Read as text: a platform not ours is refused by name, not lost with the whole read.
    #[serde(rename = "type")]
    type_: Option<String>,
    kubevirt: Option<ShapeKubevirt>,
    agent: Option<ShapeAgent>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeKubevirt {
    base_domain_passthrough: Option<bool>,
    #[serde(rename = "generateID")]
    generate_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeAgent {
    agent_namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeEtcd {
    managed: Option<ShapeManaged>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeManaged {
    storage: Option<ShapeStorage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeStorage {
    persistent_volume: Option<ShapeVolume>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeVolume {
    size: Option<ObservedQuantity>,
    storage_class_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeNetworking {
    #[serde(default)]
    cluster_network: Vec<ShapeEntry>,
    #[serde(default)]
    service_network: Vec<ShapeCidr>,
    #[serde(default)]
    machine_network: Vec<ShapeCidr>,
    api_server: Option<ShapeApiServer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeApiServer {
    #[serde(rename = "allowedCIDRBlocks", default)]
    allowed_cidr_blocks: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeEntry {
    cidr: String,
    host_prefix: Option<u8>,
}

/// An entry of the service or machine network, which has no `hostPrefix`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeCidr {
    cidr: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeDns {
    base_domain: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ShapeService {
    service: String,
    service_publishing_strategy: ShapeStrategy,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeStrategy {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(rename = "nodePort")]
    node_port: Option<ShapeNodePort>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ShapeNodePort {
    address: Option<String>,
}

impl ShapeSpec {
    /// `dns.baseDomain`, empty when unset.
    fn base_domain(&self) -> &str {
        self.dns
            .as_ref()
            .and_then(|d| d.base_domain.as_deref())
            .unwrap_or_default()
    }
}

impl ObservedShape {
    /// Whether the observed cluster is on KubeVirt with `baseDomainPassthrough: true`
    /// (immutable; HyperShift's webhook sets it on a KubeVirt cluster made without a base
    /// domain).
    fn passthrough(&self) -> bool {
        let platform = self.spec.platform.as_ref();
        self.platform_type() == Some(PlatformType::KubeVirt)
            && platform
                .and_then(|p| p.kubevirt.as_ref())
                .and_then(|k| k.base_domain_passthrough)
                .unwrap_or(false)
    }

    /// The observed `spec.platform.type`, as written.
    fn platform_text(&self) -> Option<&str> {
        self.spec.platform.as_ref()?.type_.as_deref()
    }

    /// The observed platform, when it is one of ours.
    fn platform_type(&self) -> Option<PlatformType> {
        PlatformType::observed(self.platform_text()?)
    }

    /// The NodePort address the observed API server is published on, if it is.
    fn node_port_address(&self) -> Option<&str> {
        self.spec
            .services
            .iter()
            .find(|s| s.service == "APIServer")?
            .service_publishing_strategy
            .node_port
            .as_ref()?
            .address
            .as_deref()
            .filter(|a| !a.is_empty())
    }

    /// The mode the observed services mean: a NodePort API server is private.
    fn mode(&self) -> Option<Mode> {
        let api = self
            .spec
            .services
            .iter()
            .find(|s| s.service == "APIServer")?;
        Some(match api.service_publishing_strategy.type_.as_str() {
            "NodePort" => Mode::Private,
            _ => Mode::Public,
        })
    }
}

/// `clusterName`, `networking.mode` and the base domain cannot change.
pub(super) fn check_unchanged(
    params: &Parameters,
    settings: &Settings,
    observed: &ObservedShape,
    fail: &mut impl FnMut(&str, String),
) {
    if let Some(name) = observed.metadata.name.as_deref()
        && name != params.cluster_name
    {
        fail(
            "spec.parameters.clusterName",
            format!(
                "cannot change from {} to {}: it names the HostedCluster; create a new OpenShiftCluster",
                quoted(name),
                quoted(&params.cluster_name)
            ),
        );
    }
    if let Some(type_) = observed.platform_text()
        && PlatformType::observed(type_).is_none()
    {
        fail(
            "spec.parameters.clusterName",
            format!(
                "HostedCluster {} exists with platform {}, which this composition does not manage ({}); choose another clusterName",
                quoted(&params.cluster_name),
                quoted(type_),
                PlatformType::MANAGED
            ),
        );
    }
    if let Some(mode) = observed.mode()
        && mode != params.networking.mode
    {
        let spell = |m: Mode| match m {
            Mode::Public => "public",
            Mode::Private => "private",
        };
        fail(
            "spec.parameters.networking.mode",
            format!(
                "cannot change from {} to {}: HyperShift does not let a HostedCluster's services change; create a new OpenShiftCluster",
                spell(mode),
                spell(params.networking.mode)
            ),
        );
    }
    let observed_base = observed.spec.base_domain();
    let desired_base = settings.base_domain.as_deref().unwrap_or_default();
    if !observed_base.is_empty() && observed_base != desired_base && !observed.passthrough() {
        fail(
            &setting_path("openshiftCluster.baseDomain"),
            format!(
                "cannot change from {observed_base:?} to {desired_base:?} for this cluster: HyperShift makes dns.baseDomain immutable once set; restore the setting"
            ),
        );
    }
}

/// The settings-derived immutable fields: observed ones win.
pub(super) fn immutable(settings: &Settings, observed: Option<&ObservedShape>) -> Immutable {
    let spec = observed.map(|o| &o.spec);
    let entry = |cidr: &str, host_prefix| NetworkEntry {
        cidr: cidr.to_owned(),
        host_prefix,
    };
    // An observed cluster keeps its networks as they are, an empty list included: HyperShift's
    // validating webhook refuses any change of `spec.networking` on a running cluster, a
    // machine network added by the settings later too, unless annotated
    // `hypershift.openshift.io/acknowledge-networking-disruption` (`hostedcluster_webhook.go`
    // `ValidateUpdate`, `reflect.DeepEqual` of old and new networking).
    let cidrs = |found: &[ShapeCidr]| -> Vec<NetworkEntry> {
        found.iter().map(|e| entry(&e.cidr, None)).collect()
    };
    let networking = spec.and_then(|s| s.networking.as_ref());
    let volume = spec
        .and_then(|s| s.etcd.as_ref())
        .and_then(|e| e.managed.as_ref())
        .and_then(|m| m.storage.as_ref())
        .and_then(|s| s.persistent_volume.as_ref());
    let observed_platform = spec.and_then(|s| s.platform.as_ref());
    // A platform not ours is refused by `check_unchanged` before anything is composed.
    let platform = match observed.and_then(ObservedShape::platform_type) {
        // HyperShift's defaulting webhook gives a KubeVirt cluster a random `generateID` (on
        // create and update alike, when empty), which CEL makes immutable and required once
        // set (`hostedcluster_webhook.go` `hostedClusterDefaulter.Default`): kept as observed,
        // so no apply of ours ever leaves it out.
        Some(PlatformType::KubeVirt) => HostedPlatform::kubevirt(
            observed.is_some_and(ObservedShape::passthrough),
            observed_platform
                .and_then(|p| p.kubevirt.as_ref())
                .and_then(|k| k.generate_id.clone())
                .filter(|id| !id.is_empty()),
        ),
        Some(PlatformType::Agent) => HostedPlatform::agent(
            observed_platform
                .and_then(|p| p.agent.as_ref())
                .and_then(|a| a.agent_namespace.as_deref())
                .unwrap_or_default(),
        ),
        Some(PlatformType::None) => HostedPlatform::none(),
        None => match settings.platform {
            PlatformType::KubeVirt => {
                HostedPlatform::kubevirt(settings.base_domain.is_none(), None)
            }
            PlatformType::Agent => {
                HostedPlatform::agent(settings.agent_namespace.as_deref().unwrap_or_default())
            }
            PlatformType::None => HostedPlatform::none(),
        },
    };
    let net = &settings.networks;
    Immutable {
        platform,
        etcd_size: volume
            .and_then(|v| v.size.clone())
            .unwrap_or_else(|| ObservedQuantity::Text(settings.etcd.size.as_str().to_owned())),
        etcd_storage_class: match volume {
            Some(v) => v.storage_class_name.clone(),
            None => settings.etcd.storage_class.clone(),
        },
        cluster_network: networking.map_or_else(
            || {
                vec![entry(
                    &net.cluster_network.to_string(),
                    Some(net.host_prefix),
                )]
            },
            |n| {
                let found = n.cluster_network.iter();
                found.map(|e| entry(&e.cidr, e.host_prefix)).collect()
            },
        ),
        service_network: networking.map_or_else(
            || vec![entry(&net.service_network.to_string(), None)],
            |n| cidrs(&n.service_network),
        ),
        machine_network: networking.map_or_else(
            || {
                net.machine_network
                    .iter()
                    .map(|m| entry(&m.to_string(), None))
                    .collect()
            },
            |n| cidrs(&n.machine_network),
        ),
        availability: spec
            .and_then(|s| s.controller_availability_policy)
            .unwrap_or(settings.controller_availability_policy),
        // An existing cluster keeps its base domain, none included: HyperShift accepts "" -> X
        // (CEL `oldSelf == "" || self == oldSelf`), but a KubeVirt cluster made without one
        // has `baseDomainPassthrough: true`, which is immutable, so its guest never serves a
        // domain set later, and the DNS records, certificate and apps LoadBalancer derived
        // from it would point at nothing. A changed non-empty domain is refused
        // ([`check_unchanged`]). On such a passthrough cluster HyperShift itself fills in
        // `dns.baseDomain` with the management cluster's apps domain
        // (`hostedcluster_controller.go` `reconcileKubevirtPlatformDefaultSettings`, from a
        // temporary Route's host): kept in the HostedCluster, never published under by us
        // ([`Immutable::published_base_domain`]).
        base_domain: match spec {
            Some(spec) => spec.base_domain().to_owned(),
            None => settings.base_domain.clone().unwrap_or_default(),
        },
        // Never an empty list: HyperShift's own updates (a typed `Update`, `omitempty`) drop
        // `allowedCIDRBlocks: []`, and the webhook's `reflect.DeepEqual` then tells the nil
        // list from the stored empty one and refuses them.
        api_allowed_cidrs: match observed {
            Some(_) => networking
                .and_then(|n| n.api_server.as_ref())
                .map(|a| a.allowed_cidr_blocks.clone()),
            None => Some(
                settings
                    .private
                    .allowed_cidrs
                    .iter()
                    .map(Cidr::to_string)
                    .collect(),
            ),
        }
        .filter(|cidrs| !cidrs.is_empty()),
        identity_provider_name: spec
            .and_then(|s| s.configuration.as_ref()?.oauth.as_ref())
            .and_then(|oauth| {
                oauth
                    .identity_providers
                    .iter()
                    .find(|p| p.type_.as_deref() == Some(hypershift::OPENID_TYPE))
            })
            .and_then(|p| p.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| settings.identity_provider_name.clone()),
        node_port_address: observed
            .and_then(ObservedShape::node_port_address)
            .or(settings.private.node_port_address.as_deref())
            .unwrap_or_default()
            .to_owned(),
    }
}
