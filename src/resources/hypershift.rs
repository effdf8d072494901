//! HyperShift (`hypershift.openshift.io/v1beta1`): the `HostedCluster` whose control plane runs
//! in the management cluster (namespace `<namespace>-<name>`) and the `NodePool`s of its
//! workers, and what the compositions read back of both.
//!
//! Fields and their meaning follow the CRDs in `schemas/`
//! (`hostedclusters`/`nodepools.hypershift.openshift.io`, whose descriptions and CEL rules are
//! generated from `openshift/hypershift` `api/hypershift/v1beta1/`), and the API types read
//! there: `hostedcluster_types.go` (`HostedClusterStatus.oauthCallbackURLTemplate` and
//! `controlPlaneEndpoint`, `AgentPlatformSpec.agentNamespace`,
//! `KubevirtPlatformSpec.baseDomainPassthrough`: the guest's apps domain becomes
//! `*.apps.<name>.<management apps domain>`, immutable) and `nodepool_types.go`
//! (`UpgradeType`: `Replace` replaces nodes using surge capacity, `InPlace` without extra
//! capacity). The CEL rules the builders respect:
//! - `spec.services` lists APIServer, OAuthServer, Konnectivity and Ignition (at least four
//!   outside IBM Cloud) and is immutable; a strategy carries `loadBalancer` only with type
//!   `LoadBalancer`, `route` only with `Route`, and `nodePort` (with its `address`) exactly with
//!   `NodePort`;
//! - `release.image`, `pullSecret` and `etcd` are required; etcd `managementType: Managed`
//!   needs `managed.storage` (`type: PersistentVolume`, `persistentVolume.{size,
//!   storageClassName}` immutable);
//! - the cluster, service and machine CIDRs are immutable and must differ;
//! - `controllerAvailabilityPolicy`, `platform.type` and `dns.baseDomain` (once set) are
//!   immutable; `kubeAPIServerDNSName` makes HyperShift write `status.customKubeconfig` and
//!   only takes effect from OCP 4.19 (a no-op before); a named serving certificate may not
//!   name the API server's LoadBalancer hostname;
//! - `secretEncryption.aescbc.activeKey` names a Secret in the HostedCluster's namespace with
//!   the AES-CBC key under `key`;
//! - `configuration.oauth.identityProviders[]` are OpenShift's `config.openshift.io/v1`
//!   identity providers; an OpenID one references its client secret (key `clientSecret`) and
//!   CA ConfigMap (key `ca.crt`) by name in the HostedCluster's namespace, and `claims.groups`
//!   is what group bindings match on;
//! - a NodePool's `clusterName`, `platform.type` and `management.upgradeType` (required,
//!   `Replace` or `InPlace`) are immutable; on KubeVirt `compute.{cores, memory}` and
//!   `rootVolume` (`type: Persistent`, `persistent.{size, storageClass}`) size each node VM.
//!
//! Status as read: the HostedCluster's `Available` condition, `version.history[]` (the first
//! entry is the current one, `state: Completed` once rolled out), `controlPlaneEndpoint
//! {host, port}`, `kubeconfig.name` (the admin kubeconfig Secret, key `kubeconfig`, in the
//! HostedCluster's namespace) and `oauthCallbackURLTemplate` (with `[identity-provider-name]`
//! to replace). HyperShift reports no ingress or console domain: the apps domain is
//! `spec.configuration.ingress.domain` when set, else derived by the caller. A NodePool
//! reports `status.replicas` (nodes that joined) and the `Ready` condition.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::condition::{self, Condition};
use super::{Meta, ObservedQuantity};

/// apiVersion of `HostedCluster` and `NodePool`.
pub const API_VERSION: &str = "hypershift.openshift.io/v1beta1";
/// The key of the AES-CBC key in the encryption Secret.
pub const ENCRYPTION_KEY: &str = "key";
/// `type` of an OpenID identity provider.
pub const OPENID_TYPE: &str = "OpenID";

/// The key of the client secret in an OpenID identity provider's Secret.
pub const CLIENT_SECRET_KEY: &str = "clientSecret";
/// The key of the CA bundle in an identity provider's ConfigMap.
pub const CA_KEY: &str = "ca.crt";
/// The key of the kubeconfig in the admin kubeconfig Secret HyperShift writes.
pub const KUBECONFIG_KEY: &str = "kubeconfig";
/// The placeholder of `status.oauthCallbackURLTemplate`.
pub const IDP_NAME_PLACEHOLDER: &str = "[identity-provider-name]";
/// The pull secret's key (a `kubernetes.io/dockerconfigjson` Secret).
pub const PULL_SECRET_KEY: &str = ".dockerconfigjson";

/// A reference to an object in the same namespace by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalRef {
    /// metadata.name.
    pub name: String,
}

impl LocalRef {
    /// The object called `name`.
    pub fn to(name: &str) -> Self {
        Self {
            name: name.to_owned(),
        }
    }
}

/// `release` of a HostedCluster or NodePool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The OCP release image (`quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64`).
    pub image: String,
}

/// The infrastructure platform (`platform.type`, immutable).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum PlatformType {
    /// Node VMs on OpenShift Virtualization in the management cluster.
    KubeVirt,
    /// Bare-metal hosts registered as Agents (Assisted Installer).
    Agent,
    /// No platform integration: nodes join by their ignition.
    None,
}

impl PlatformType {
    /// The platforms this function manages, for messages.
    pub const MANAGED: &'static str = "KubeVirt, Agent and None";

    /// The platform an observed `spec.platform.type` names, when it is one of ours (HyperShift
    /// also has AWS, Azure, IBMCloud, PowerVS and OpenStack).
    pub fn observed(type_: &str) -> Option<Self> {
        Self::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(type_))
            .ok()
    }
}

/// `platform` of a HostedCluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostedPlatform {
    /// The platform.
    #[serde(rename = "type")]
    pub type_: PlatformType,
    /// KubeVirt settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubevirt: Option<KubevirtPlatform>,
    /// Agent settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentPlatform>,
}

impl HostedPlatform {
    /// KubeVirt; `base_domain_passthrough` makes the guest's apps domain a subdomain of the
    /// management cluster's (`*.apps.<name>.<management apps domain>`); `generate_id` is the
    /// suffix HyperShift's webhook chose for the cluster's infrastructure names, once known.
    pub fn kubevirt(base_domain_passthrough: bool, generate_id: Option<String>) -> Self {
        Self {
            type_: PlatformType::KubeVirt,
            kubevirt: Some(KubevirtPlatform {
                base_domain_passthrough: base_domain_passthrough.then_some(true),
                generate_id,
            }),
            agent: None,
        }
    }

    /// Whether the guest's apps domain passes through to the management cluster's
    /// (KubeVirt's `baseDomainPassthrough`).
    pub fn passthrough(&self) -> bool {
        self.kubevirt
            .as_ref()
            .and_then(|k| k.base_domain_passthrough)
            .unwrap_or(false)
    }

    /// Agent, searching for Agents in `agent_namespace`.
    pub fn agent(agent_namespace: &str) -> Self {
        Self {
            type_: PlatformType::Agent,
            kubevirt: None,
            agent: Some(AgentPlatform {
                agent_namespace: agent_namespace.to_owned(),
            }),
        }
    }

    /// None.
    pub fn none() -> Self {
        Self {
            type_: PlatformType::None,
            kubevirt: None,
            agent: None,
        }
    }
}

/// `platform.kubevirt` of a HostedCluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubevirtPlatform {
    /// Whether the guest's apps domain passes through to the management cluster's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_domain_passthrough: Option<bool>,
    /// The suffix of the cluster's KubeVirt infrastructure names (immutable once set).
    #[serde(rename = "generateID", skip_serializing_if = "Option::is_none")]
    pub generate_id: Option<String>,
}

/// `platform.agent` of a HostedCluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPlatform {
    /// The namespace Agents for this cluster are searched in.
    pub agent_namespace: String,
}

/// A control plane service HyperShift publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ServiceKind {
    /// The Kubernetes API server.
    #[serde(rename = "APIServer")]
    ApiServer,
    /// The OAuth server (browser logins).
    OAuthServer,
    /// Konnectivity (control plane to nodes).
    Konnectivity,
    /// Ignition (node bootstrap).
    Ignition,
}

impl ServiceKind {
    /// The four services every HostedCluster outside IBM Cloud lists.
    pub const ALL: [Self; 4] = [
        Self::ApiServer,
        Self::OAuthServer,
        Self::Konnectivity,
        Self::Ignition,
    ];
}

/// How a service is published (`servicePublishingStrategy`), each variant with only the
/// fields its type admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publishing {
    /// A LoadBalancer Service, optionally with the host name clients use.
    LoadBalancer {
        /// `loadBalancer.hostname`.
        hostname: Option<String>,
    },
    /// An OpenShift Route on the management cluster's ingress, optionally with a host name.
    Route {
        /// `route.hostname`.
        hostname: Option<String>,
    },
    /// A NodePort on the management cluster's nodes, reached at `address`.
    NodePort {
        /// `nodePort.address`: a host name or IP of the management nodes.
        address: String,
        /// `nodePort.port`, else one the API server allocates.
        port: Option<u16>,
    },
}

impl Serialize for Publishing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Host<'a> {
            hostname: &'a str,
        }
        #[derive(Serialize)]
        struct NodePort<'a> {
            address: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            port: Option<u16>,
        }
        let mut map = s.serialize_map(None)?;
        match self {
            Self::LoadBalancer { hostname } => {
                if let Some(hostname) = hostname {
                    map.serialize_entry("loadBalancer", &Host { hostname })?;
                }
                map.serialize_entry("type", "LoadBalancer")?;
            }
            Self::Route { hostname } => {
                if let Some(hostname) = hostname {
                    map.serialize_entry("route", &Host { hostname })?;
                }
                map.serialize_entry("type", "Route")?;
            }
            Self::NodePort { address, port } => {
                map.serialize_entry(
                    "nodePort",
                    &NodePort {
                        address,
                        port: *port,
                    },
                )?;
                map.serialize_entry("type", "NodePort")?;
            }
        }
        map.end()
    }
}

/// One entry of `spec.services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePublishing {
    /// The service.
    pub service: ServiceKind,
    /// How it is published.
    pub service_publishing_strategy: Publishing,
}

/// `etcd`: managed by HyperShift on persistent volumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Etcd {
    management_type: &'static str,
    managed: ManagedEtcd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct ManagedEtcd {
    storage: EtcdStorage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct EtcdStorage {
    #[serde(rename = "type")]
    type_: &'static str,
    persistent_volume: PersistentVolume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct PersistentVolume {
    size: ObservedQuantity,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class_name: Option<String>,
}

impl Etcd {
    /// Managed etcd on persistent volumes of `size` (a quantity, in the form an existing
    /// HostedCluster holds it: HyperShift makes it immutable), of `storage_class` or the default
    /// class.
    pub fn managed(size: ObservedQuantity, storage_class: Option<&str>) -> Self {
        Self {
            management_type: "Managed",
            managed: ManagedEtcd {
                storage: EtcdStorage {
                    type_: "PersistentVolume",
                    persistent_volume: PersistentVolume {
                        size,
                        storage_class_name: storage_class.map(str::to_owned),
                    },
                },
            },
        }
    }
}

/// A network range entry (`{cidr}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkEntry {
    /// The range.
    pub cidr: String,
    /// The per-node prefix length (cluster network only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_prefix: Option<u8>,
}

/// `networking`: OVN-Kubernetes with the cluster, service and machine ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    network_type: &'static str,
    /// Pod network ranges.
    pub cluster_network: Vec<NetworkEntry>,
    /// Service network ranges.
    pub service_network: Vec<NetworkEntry>,
    /// The nodes' network ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machine_network: Vec<NetworkEntry>,
    /// Access to the API server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_server: Option<ApiServerNetworking>,
}

impl Networking {
    /// OVN-Kubernetes with these ranges.
    pub fn ovn(
        cluster_network: Vec<NetworkEntry>,
        service_network: Vec<NetworkEntry>,
        machine_network: Vec<NetworkEntry>,
    ) -> Self {
        Self {
            network_type: "OVNKubernetes",
            cluster_network,
            service_network,
            machine_network,
            api_server: None,
        }
    }
}

/// `networking.apiServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServerNetworking {
    /// The only source ranges that may reach the API server.
    #[serde(rename = "allowedCIDRBlocks")]
    pub allowed_cidr_blocks: Vec<String>,
}

/// `controllerAvailabilityPolicy` (immutable).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum AvailabilityPolicy {
    /// Three replicas of the critical control plane components.
    #[default]
    HighlyAvailable,
    /// One replica each.
    SingleReplica,
}

/// `secretEncryption`: AES-CBC with the key in a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretEncryption {
    #[serde(rename = "type")]
    type_: &'static str,
    aescbc: Aescbc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Aescbc {
    active_key: LocalRef,
}

impl SecretEncryption {
    /// AES-CBC with the key in Secret `secret` (key [`ENCRYPTION_KEY`]).
    pub fn aescbc(secret: &str) -> Self {
        Self {
            type_: "aescbc",
            aescbc: Aescbc {
                active_key: LocalRef::to(secret),
            },
        }
    }
}

/// `dns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dns {
    /// The base domain (`""`: none; immutable once set).
    pub base_domain: String,
}

/// `configuration`: the OpenShift cluster configuration HyperShift applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    /// OAuth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuth>,
    /// API server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_server: Option<ApiServerConfiguration>,
}

/// `configuration.oauth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth {
    /// The identity providers.
    pub identity_providers: Vec<IdentityProvider>,
}

/// An OpenID identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProvider {
    /// Its name (in the OAuth callback URL and user identities).
    pub name: String,
    mapping_method: &'static str,
    #[serde(rename = "type")]
    type_: &'static str,
    #[serde(rename = "openID")]
    open_id: OpenId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenId {
    issuer: String,
    #[serde(rename = "clientID")]
    client_id: String,
    client_secret: LocalRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca: Option<LocalRef>,
    claims: Claims,
    extra_scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    preferred_username: Vec<String>,
    name: Vec<String>,
    email: Vec<String>,
    groups: Vec<String>,
}

/// What an OpenID identity provider needs.
#[derive(Debug, Clone, Copy)]
pub struct OpenIdProvider<'a> {
    /// Its name.
    pub name: &'a str,
    /// The issuer URL (`https://sso.example.com/realms/acme`).
    pub issuer: &'a str,
    /// The client ID.
    pub client_id: &'a str,
    /// The Secret holding the client secret (key [`CLIENT_SECRET_KEY`]).
    pub client_secret: &'a str,
    /// The ConfigMap holding the issuer's CA (key [`CA_KEY`]), if it is not publicly trusted.
    pub ca: Option<&'a str>,
}

impl IdentityProvider {
    /// An OpenID provider mapping identities by claim, with the groups claim.
    pub fn openid(p: OpenIdProvider<'_>) -> Self {
        let claim = |c: &str| vec![c.to_owned()];
        Self {
            name: p.name.to_owned(),
            mapping_method: "claim",
            type_: OPENID_TYPE,
            open_id: OpenId {
                issuer: p.issuer.to_owned(),
                client_id: p.client_id.to_owned(),
                client_secret: LocalRef::to(p.client_secret),
                ca: p.ca.map(LocalRef::to),
                claims: Claims {
                    preferred_username: claim("preferred_username"),
                    name: claim("name"),
                    email: claim("email"),
                    groups: claim("groups"),
                },
                // `groups` comes from the client's own mapper, not from a scope.
                extra_scopes: vec!["email".into(), "profile".into()],
            },
        }
    }
}

/// `configuration.apiServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServerConfiguration {
    /// Serving certificates.
    pub serving_certs: ServingCerts,
}

/// `configuration.apiServer.servingCerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingCerts {
    /// Certificates by name.
    pub named_certificates: Vec<NamedCertificate>,
}

/// A certificate the API server serves for `names`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedCertificate {
    /// The DNS names.
    pub names: Vec<String>,
    /// The `kubernetes.io/tls` Secret.
    pub serving_certificate: LocalRef,
}

/// A `HostedCluster`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedCluster {
    api_version: &'static str,
    kind: &'static str,
    /// metadata.
    pub metadata: Meta,
    /// spec.
    pub spec: HostedClusterSpec,
}

/// `spec` of a HostedCluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedClusterSpec {
    /// The release.
    pub release: Release,
    /// The pull secret (key [`PULL_SECRET_KEY`]).
    pub pull_secret: LocalRef,
    /// The SSH key Secret (key `id_rsa.pub`) nodes authorise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<LocalRef>,
    /// DNS.
    pub dns: Dns,
    /// etcd.
    pub etcd: Etcd,
    /// Networking.
    pub networking: Networking,
    /// Platform.
    pub platform: HostedPlatform,
    /// Published services.
    pub services: Vec<ServicePublishing>,
    /// Availability of the control plane's controllers.
    pub controller_availability_policy: AvailabilityPolicy,
    /// etcd secret encryption.
    pub secret_encryption: SecretEncryption,
    /// Cluster configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Configuration>,
    /// The custom API server DNS name.
    #[serde(
        rename = "kubeAPIServerDNSName",
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_api_server_dns_name: Option<String>,
}

impl HostedCluster {
    /// A HostedCluster with `spec`.
    pub fn new(metadata: Meta, spec: HostedClusterSpec) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "HostedCluster",
            metadata,
            spec,
        }
    }
}

/// How a NodePool's nodes are upgraded (`management.upgradeType`, immutable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum UpgradeType {
    /// New nodes replace old ones.
    Replace,
    /// Nodes are upgraded where they are.
    InPlace,
}

impl UpgradeType {
    /// What a new pool on `platform` uses unless the settings say otherwise: KubeVirt nodes
    /// are replaced, Agent and None machines (hardware) are upgraded in place.
    pub fn default_on(platform: PlatformType) -> Self {
        match platform {
            PlatformType::KubeVirt => Self::Replace,
            PlatformType::Agent | PlatformType::None => Self::InPlace,
        }
    }
}

/// `management` of a NodePool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Management {
    /// How nodes are upgraded.
    pub upgrade_type: UpgradeType,
}

/// `platform` of a NodePool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodePoolPlatform {
    #[serde(rename = "type")]
    type_: PlatformType,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubevirt: Option<KubevirtNodePool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<AgentNodePool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct KubevirtNodePool {
    compute: Compute,
    root_volume: RootVolume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Compute {
    cores: u32,
    memory: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct RootVolume {
    #[serde(rename = "type")]
    type_: &'static str,
    persistent: PersistentRoot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct PersistentRoot {
    size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct AgentNodePool {
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_label_selector: Option<MatchLabels>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchLabels {
    match_labels: BTreeMap<String, String>,
}

/// The size of a KubeVirt node VM.
#[derive(Debug, Clone, Copy)]
pub struct KubevirtNode<'a> {
    /// vCPU cores.
    pub cores: u32,
    /// Memory (a quantity).
    pub memory: &'a str,
    /// Root volume size (a quantity).
    pub root_volume: &'a str,
    /// Root volume StorageClass, else the default class.
    pub storage_class: Option<&'a str>,
}

impl NodePoolPlatform {
    /// KubeVirt node VMs of this size.
    pub fn kubevirt(node: KubevirtNode<'_>) -> Self {
        Self {
            type_: PlatformType::KubeVirt,
            kubevirt: Some(KubevirtNodePool {
                compute: Compute {
                    cores: node.cores,
                    memory: node.memory.to_owned(),
                },
                root_volume: RootVolume {
                    type_: "Persistent",
                    persistent: PersistentRoot {
                        size: node.root_volume.to_owned(),
                        storage_class: node.storage_class.map(str::to_owned),
                    },
                },
            }),
            agent: None,
        }
    }

    /// Agents with these labels (none: any free Agent of the cluster's agent namespace).
    pub fn agent(labels: BTreeMap<String, String>) -> Self {
        Self {
            type_: PlatformType::Agent,
            kubevirt: None,
            agent: Some(AgentNodePool {
                agent_label_selector: (!labels.is_empty()).then_some(MatchLabels {
                    match_labels: labels,
                }),
            }),
        }
    }

    /// None.
    pub fn none() -> Self {
        Self {
            type_: PlatformType::None,
            kubevirt: None,
            agent: None,
        }
    }
}

/// A `NodePool`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    api_version: &'static str,
    kind: &'static str,
    /// metadata (in the HostedCluster's namespace).
    pub metadata: Meta,
    /// spec.
    pub spec: NodePoolSpec,
}

/// `spec` of a NodePool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolSpec {
    /// The HostedCluster's name (immutable).
    pub cluster_name: String,
    /// The number of nodes.
    pub replicas: u32,
    /// The release.
    pub release: Release,
    /// Upgrades.
    pub management: Management,
    /// Platform.
    pub platform: NodePoolPlatform,
}

impl NodePool {
    /// A NodePool with `spec`.
    pub fn new(metadata: Meta, spec: NodePoolSpec) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "NodePool",
            metadata,
            spec,
        }
    }
}

referable! {
    impl for HostedCluster;
    impl for NodePool;
}

/// What a composition reads of an observed HostedCluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedHostedCluster {
    #[serde(default)]
    spec: ObservedHostedSpec,
    #[serde(default)]
    status: ObservedHostedStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedHostedSpec {
    #[serde(default)]
    configuration: ObservedConfiguration,
    release: Option<ObservedRelease>,
    #[serde(rename = "kubeAPIServerDNSName")]
    kube_api_server_dns_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedRelease {
    image: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedConfiguration {
    ingress: Option<ObservedIngress>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedIngress {
    domain: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedHostedStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    version: Option<ObservedVersion>,
    control_plane_endpoint: Option<Endpoint>,
    kubeconfig: Option<ObservedRef>,
    #[serde(rename = "oauthCallbackURLTemplate")]
    oauth_callback_url_template: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedVersion {
    #[serde(default)]
    history: Vec<VersionHistory>,
    desired: Option<ObservedDesired>,
}

/// `status.version.desired`: the release the control plane is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedDesired {
    image: Option<String>,
    version: Option<String>,
}

/// One entry of `status.version.history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct VersionHistory {
    /// `Completed` or `Partial`.
    #[serde(default)]
    pub state: String,
    /// The OCP version (`4.19.10`).
    #[serde(default)]
    pub version: String,
    /// The release image, as the HostedCluster's `spec.release.image` gave it.
    #[serde(default)]
    pub image: String,
}

/// The release a NodePool is to run, given the HostedCluster's `desired` release
/// (`spec.release.image`, as the composition writes it), the newest release its control plane
/// has rolled out (`rolled_out`: [`ObservedHostedCluster::rolled_out_release`]) and the one the
/// pool runs (`running`, `None` for a new pool). HyperShift's NodePool controller takes the
/// newest `Completed` history entry as the control plane's version and reports a pool whose
/// release is newer `SupportedVersionSkew=False` ("NodePool version cannot be higher than
/// the HostedCluster version", `nodepool_controller.go` `supportedVersionSkewCondition`;
/// `docs/content/reference/versioning-support.md`), so nodes follow the control plane: a pool
/// moves to `desired` once the control plane has rolled it out and keeps the release it runs
/// until then; a new pool takes the newest rolled-out release, or `desired` before any (a
/// cluster being installed).
pub fn node_release<'a>(
    desired: &'a str,
    rolled_out: Option<&'a str>,
    running: Option<&'a str>,
) -> &'a str {
    if rolled_out == Some(desired) {
        return desired;
    }
    running.or(rolled_out).unwrap_or(desired)
}

/// `status.controlPlaneEndpoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Endpoint {
    /// Host name or IP.
    #[serde(default)]
    pub host: String,
    /// Port.
    #[serde(default)]
    pub port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedRef {
    #[serde(default)]
    name: String,
}

/// HyperShift's message while it reconciles nothing of an object whose `spec.pausedUntil` is
/// set (`ReconciliationActive=False`, always with reason `ReconciliationPaused`: `support/util/
/// pausereconcile.go` `GenerateReconciliationActiveCondition` and the NodePool controller's
/// copy in `conditions.go`, reported on each reconcile of a paused HostedCluster or NodePool;
/// an invalid value is `True`, reason `ReconciliationInvalidPausedUntil`); `None` otherwise. The function never sets the field:
/// whoever did (an operator, HyperShift's OADP plugin during a backup) owns it.
fn paused(conditions: &[Condition]) -> Option<&str> {
    condition::find(conditions, "ReconciliationActive")
        .filter(|c| c.status == "False")
        .map(|c| c.message.as_str())
}

impl ObservedHostedCluster {
    /// HyperShift's message while the HostedCluster is paused (`ReconciliationActive=False`,
    /// reason `ReconciliationPaused`), as the private `paused` reads it.
    pub fn paused(&self) -> Option<&str> {
        paused(&self.status.conditions)
    }

    /// Whether HyperShift reports the cluster `Available=True`.
    pub fn is_available(&self) -> bool {
        condition::find(&self.status.conditions, "Available").is_some_and(Condition::is_true)
    }

    /// The `Available` condition's message, if any.
    pub fn available_message(&self) -> Option<&str> {
        condition::find(&self.status.conditions, "Available")
            .map(|c| c.message.as_str())
            .filter(|m| !m.is_empty())
    }

    /// HyperShift's message when it found the OAuth identity provider configuration unusable
    /// (`ValidIDPConfiguration=False`): it checks the issuer's discovery document from the
    /// guest's nodes, through Konnectivity, and on failure runs the OAuth server without the
    /// provider (`control-plane-operator` `oauth/idp_convert.go`, `v2/oauth/config.go`), so
    /// nobody can sign in. `None` while true or not reported.
    pub fn identity_provider_problem(&self) -> Option<&str> {
        condition::find(&self.status.conditions, "ValidIDPConfiguration")
            .filter(|c| c.status == "False")
            .map(|c| c.message.as_str())
    }

    /// The version rolled out: the newest `Completed` history entry.
    pub fn version(&self) -> Option<&str> {
        self.status
            .version
            .as_ref()?
            .history
            .iter()
            .find(|h| h.state == "Completed" && !h.version.is_empty())
            .map(|h| h.version.as_str())
    }

    /// The release image the control plane has rolled out: the newest `Completed` history
    /// entry's (HyperShift prepends a `Partial` entry for a new `spec.release.image` and
    /// completes it once the rollout is done: `hostedcluster_controller.go`
    /// `computeClusterVersionStatus`).
    pub fn rolled_out_image(&self) -> Option<&str> {
        self.newest_completed()
            .map(|h| h.image.as_str())
            .filter(|image| !image.is_empty())
    }

    /// The rolled-out release for [`node_release`] with `desired` the HostedCluster's
    /// `spec.release.image`: `desired` itself once the control plane has rolled it out, by
    /// image, or by version where the history records the image otherwise (a digest for a
    /// tag) while `status.version.desired` is that image; else [`Self::rolled_out_image`].
    pub fn rolled_out_release<'a>(&'a self, desired: &'a str) -> Option<&'a str> {
        let completed = self.newest_completed();
        let wanted = self
            .status
            .version
            .as_ref()
            .and_then(|v| v.desired.as_ref())
            .filter(|d| d.image.as_deref() == Some(desired));
        let by_version = completed
            .zip(wanted.and_then(|d| d.version.as_deref()))
            .is_some_and(|(h, version)| !version.is_empty() && h.version == version);
        if by_version || completed.is_some_and(|h| h.image == desired) {
            return Some(desired);
        }
        self.rolled_out_image()
    }

    /// The newest `Completed` entry of `status.version.history`.
    /// The newest minor version HyperShift has been given (`status.version.desired.version`,
    /// else the history's newest entry): `(4, 19)` for `4.19.10`. HyperShift refuses a release
    /// of an older minor than this one (`support/supportedversion/version.go`
    /// `IsValidReleaseVersion`: "y-stream downgrade ... is not supported", against the
    /// desired release's version in `validateReleaseImage`).
    pub fn newest_minor(&self) -> Option<(u64, u64)> {
        let version = self.status.version.as_ref()?;
        let text = version
            .desired
            .as_ref()
            .and_then(|d| d.version.as_deref())
            .filter(|v| !v.is_empty())
            .or_else(|| version.history.first().map(|h| h.version.as_str()))?;
        let mut parts = text.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }

    fn newest_completed(&self) -> Option<&VersionHistory> {
        self.status
            .version
            .as_ref()?
            .history
            .iter()
            .find(|h| h.state == "Completed")
    }

    /// The API server's URL (`https://host:port`), once the infrastructure is ready.
    pub fn api_endpoint(&self) -> Option<String> {
        let e = self.status.control_plane_endpoint.as_ref()?;
        (!e.host.is_empty() && e.port > 0).then(|| format!("https://{}:{}", e.host, e.port))
    }

    /// The control plane endpoint.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.status
            .control_plane_endpoint
            .as_ref()
            .filter(|e| !e.host.is_empty())
    }

    /// The name of the admin kubeconfig Secret (key [`KUBECONFIG_KEY`]).
    pub fn kubeconfig_secret(&self) -> Option<&str> {
        self.status
            .kubeconfig
            .as_ref()
            .map(|r| r.name.as_str())
            .filter(|n| !n.is_empty())
    }

    /// The OAuth callback URL of identity provider `name`, once HyperShift reports the
    /// template.
    pub fn oauth_callback_url(&self, name: &str) -> Option<String> {
        self.status
            .oauth_callback_url_template
            .as_deref()
            .filter(|t| t.contains(IDP_NAME_PLACEHOLDER))
            .map(|t| t.replace(IDP_NAME_PLACEHOLDER, name))
    }

    /// `spec.configuration.ingress.domain`, when set.
    pub fn ingress_domain(&self) -> Option<&str> {
        self.spec
            .configuration
            .ingress
            .as_ref()?
            .domain
            .as_deref()
            .filter(|d| !d.is_empty())
    }

    /// The observed `spec.release.image`.
    pub fn release_image(&self) -> Option<&str> {
        self.spec.release.as_ref()?.image.as_deref()
    }

    /// The custom API server name the HostedCluster already serves (`kubeAPIServerDNSName`).
    pub fn kube_api_server_dns_name(&self) -> Option<&str> {
        self.spec
            .kube_api_server_dns_name
            .as_deref()
            .filter(|n| !n.is_empty())
    }
}

/// What a composition reads of an observed NodePool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedNodePool {
    #[serde(default)]
    spec: ObservedNodePoolSpec,
    #[serde(default)]
    status: ObservedNodePoolStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedNodePoolSpec {
    release: Option<ObservedRelease>,
    management: Option<ObservedManagement>,
    platform: Option<ObservedNodePoolPlatform>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedNodePoolPlatform {
    agent: Option<ObservedAgentNodePool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedAgentNodePool {
    #[serde(rename = "agentLabelSelector")]
    agent_label_selector: Option<ObservedMatchLabels>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedMatchLabels {
    #[serde(default, rename = "matchLabels")]
    match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedManagement {
    #[serde(rename = "upgradeType")]
    upgrade_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedNodePoolStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    replicas: Option<u32>,
    version: Option<String>,
}

impl ObservedNodePool {
    /// HyperShift's message while the NodePool is paused, as for the HostedCluster.
    pub fn paused(&self) -> Option<&str> {
        paused(&self.status.conditions)
    }

    /// Nodes that joined.
    pub fn replicas(&self) -> u32 {
        self.status.replicas.unwrap_or(0)
    }

    /// Whether the observed pool serves `pool`. Where HyperShift manages the machines
    /// (KubeVirt, Agent: through Cluster API), when it reports `Ready=True` (copied from the
    /// MachineDeployment) with at least `spec.replicas` available. On platform `None` it
    /// manages none: `isAutomatedMachineManagement` is false and the NodePool controller's
    /// `reconcile` returns before `capi.Reconcile`, so `Ready` is never set and
    /// `status.replicas` stays 0 (`hypershift-operator/controllers/nodepool/
    /// nodepool_controller.go`, `conditions.go`). There the pool is ready once nodes can join
    /// it: the release is valid (`ValidReleaseImage`), the ignition payload of its current
    /// config is generated (`ValidGeneratedPayload`) and served (no
    /// `IgnitionEndpointAvailable=False`), no config or version rollout is under way
    /// (`UpdatingConfig`, `UpdatingVersion` not `True`), and `status.version` is set (the
    /// controller's branch for such pools writes it once the ignition token is reconciled).
    pub fn serves(&self, pool: &NodePool) -> bool {
        let conditions = &self.status.conditions;
        let is = |type_: &str, status: &str| {
            condition::find(conditions, type_).is_some_and(|c| c.status == status)
        };
        if pool.spec.platform.type_ == PlatformType::None {
            is("ValidReleaseImage", "True")
                && is("ValidGeneratedPayload", "True")
                && !is("IgnitionEndpointAvailable", "False")
                && !is("UpdatingConfig", "True")
                && !is("UpdatingVersion", "True")
                && self
                    .status
                    .version
                    .as_deref()
                    .is_some_and(|v| !v.is_empty())
        } else {
            is("Ready", "True") && self.replicas() >= pool.spec.replicas
        }
    }

    /// The rollout under way, if any: the condition HyperShift holds `True` while it moves
    /// the pool's nodes to a new release (`UpdatingVersion`), configuration
    /// (`UpdatingConfig`) or machine template, the platform's node shape
    /// (`UpdatingPlatformMachineTemplate`; `api/hypershift/v1beta1/nodepool_conditions.go`).
    /// The pool keeps serving meanwhile (`Ready` stays as the MachineDeployment reports it).
    pub fn updating(&self) -> Option<&'static str> {
        [
            "UpdatingVersion",
            "UpdatingConfig",
            "UpdatingPlatformMachineTemplate",
        ]
        .into_iter()
        .find(|type_| {
            condition::find(&self.status.conditions, type_).is_some_and(|c| c.status == "True")
        })
    }

    /// The Agent labels the existing pool selects hosts by (`spec.platform.agent`), if it is
    /// an Agent pool; empty when it selects any Agent.
    pub fn agent_labels(&self) -> Option<&BTreeMap<String, String>> {
        static ANY: BTreeMap<String, String> = BTreeMap::new();
        let agent = self.spec.platform.as_ref()?.agent.as_ref()?;
        Some(
            agent
                .agent_label_selector
                .as_ref()
                .map_or(&ANY, |s| &s.match_labels),
        )
    }

    /// The release the pool runs (`spec.release.image`), if it exists.
    pub fn release_image(&self) -> Option<&str> {
        self.spec
            .release
            .as_ref()?
            .image
            .as_deref()
            .filter(|i| !i.is_empty())
    }

    /// How the existing pool upgrades: immutable (the NodePool CRD's CEL rule
    /// "UpgradeType is immutable"), so a pool keeps it whatever the settings say now.
    pub fn upgrade_type(&self) -> Option<UpgradeType> {
        match self.spec.management.as_ref()?.upgrade_type.as_deref()? {
            "Replace" => Some(UpgradeType::Replace),
            "InPlace" => Some(UpgradeType::InPlace),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn publishing_writes_only_what_its_type_admits() {
        let write = |p: Publishing| serde_json::to_value(p).unwrap();
        assert_eq!(
            write(Publishing::LoadBalancer { hostname: None }),
            json!({"type": "LoadBalancer"})
        );
        assert_eq!(
            write(Publishing::Route {
                hostname: Some("oauth.example.com".into())
            }),
            json!({"type": "Route", "route": {"hostname": "oauth.example.com"}})
        );
        assert_eq!(
            write(Publishing::NodePort {
                address: "10.0.0.5".into(),
                port: None
            }),
            json!({"type": "NodePort", "nodePort": {"address": "10.0.0.5"}})
        );
    }

    #[test]
    fn observed_hosted_cluster() {
        let hc: ObservedHostedCluster = serde_json::from_value(json!({
            "spec": {"configuration": {"ingress": {"domain": "apps.c.example.com"}}},
            "status": {
                "conditions": [{"type": "Available", "status": "True", "message": "The hosted control plane is available"}],
                "version": {"history": [
                    {"state": "Partial", "version": "4.19.11"},
                    {"state": "Completed", "version": "4.19.10"},
                ]},
                "controlPlaneEndpoint": {"host": "api.c.example.com", "port": 6443},
                "kubeconfig": {"name": "c-admin-kubeconfig"},
                "oauthCallbackURLTemplate": "https://oauth.c.example.com:443/oauth2callback/[identity-provider-name]",
            },
        }))
        .unwrap();
        assert!(hc.is_available());
        assert_eq!(hc.version(), Some("4.19.10"));
        assert_eq!(
            hc.api_endpoint().as_deref(),
            Some("https://api.c.example.com:6443")
        );
        assert_eq!(hc.kubeconfig_secret(), Some("c-admin-kubeconfig"));
        assert_eq!(
            hc.oauth_callback_url("acme").as_deref(),
            Some("https://oauth.c.example.com:443/oauth2callback/acme")
        );
        assert_eq!(hc.ingress_domain(), Some("apps.c.example.com"));
        let empty = ObservedHostedCluster::default();
        assert!(!empty.is_available());
        assert_eq!(
            (
                empty.version(),
                empty.api_endpoint(),
                empty.kubeconfig_secret()
            ),
            (None, None, None)
        );
        assert_eq!(empty.oauth_callback_url("acme"), None);
    }

    fn pool(platform: NodePoolPlatform, replicas: u32) -> NodePool {
        NodePool::new(
            Meta::default(),
            NodePoolSpec {
                cluster_name: "c".into(),
                replicas,
                release: Release {
                    image: "quay.io/openshift-release-dev/ocp-release:4.19.10-x86_64".into(),
                },
                management: Management {
                    upgrade_type: UpgradeType::Replace,
                },
                platform,
            },
        )
    }

    #[test]
    fn a_managed_pool_serves_once_ready_with_its_replicas() {
        let agents = pool(NodePoolPlatform::agent(BTreeMap::new()), 2);
        let np = |replicas: u32, ready: &str| -> ObservedNodePool {
            serde_json::from_value(json!({"status": {
                "replicas": replicas,
                "version": "4.19.10",
                "conditions": [{"type": "Ready", "status": ready}],
            }}))
            .unwrap()
        };
        assert!(np(2, "True").serves(&agents));
        assert!(!np(1, "True").serves(&agents), "a node short");
        assert!(!np(2, "False").serves(&agents));
        assert_eq!(np(2, "True").replicas(), 2);
        assert!(!ObservedNodePool::default().serves(&agents));
    }

    #[test]
    fn a_pool_without_machine_management_serves_once_nodes_can_join() {
        let none = pool(NodePoolPlatform::none(), 3);
        // What HyperShift leaves on a None pool once its payload is served: no Ready, no
        // replicas, AllMachinesReady False (it has no Machines).
        let served = json!({"status": {
            "version": "4.19.10",
            "conditions": [
                {"type": "ValidReleaseImage", "status": "True", "reason": "AsExpected"},
                {"type": "ValidGeneratedPayload", "status": "True", "reason": "AsExpected"},
                {"type": "UpdatingConfig", "status": "False", "reason": "AsExpected"},
                {"type": "UpdatingVersion", "status": "False", "reason": "AsExpected"},
                {"type": "AllMachinesReady", "status": "False", "reason": "NotFound"},
            ],
        }});
        let np =
            |v: &serde_json::Value| serde_json::from_value::<ObservedNodePool>(v.clone()).unwrap();
        assert!(np(&served).serves(&none));
        let mut without_version = served.clone();
        without_version["status"]["version"] = json!(null);
        assert!(!np(&without_version).serves(&none));
        for (index, status) in [(0, "False"), (1, "Unknown"), (2, "True"), (3, "True")] {
            let mut changed = served.clone();
            changed["status"]["conditions"][index]["status"] = json!(status);
            assert!(!np(&changed).serves(&none), "condition {index} {status}");
        }
        let mut unserved = served.clone();
        unserved["status"]["conditions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "IgnitionEndpointAvailable", "status": "False"}));
        assert!(!np(&unserved).serves(&none));
        assert!(!ObservedNodePool::default().serves(&none));
    }
    #[test]
    fn nodes_follow_the_release_the_control_plane_rolled_out() {
        let (old, new) = ("release:4.19.10", "release:4.19.12");
        // Installing: nothing rolled out, no pool yet.
        assert_eq!(node_release(new, None, None), new);
        // Upgrading: the pool keeps its release, a new pool takes the rolled-out one.
        assert_eq!(node_release(new, Some(old), Some(old)), old);
        assert_eq!(node_release(new, Some(old), None), old);
        // Rolled out: every pool moves.
        assert_eq!(node_release(new, Some(new), Some(old)), new);
        assert_eq!(node_release(new, Some(new), None), new);

        let hc = |history: Value| {
            serde_json::from_value::<ObservedHostedCluster>(
                json!({"status": {"version": {"history": history}}}),
            )
            .unwrap()
        };
        let upgrading = hc(json!([
            {"state": "Partial", "image": new, "version": ""},
            {"state": "Completed", "image": old, "version": "4.19.10"},
        ]));
        assert_eq!(upgrading.rolled_out_image(), Some(old));
        let installing = hc(json!([{"state": "Partial", "image": old}]));
        assert_eq!(installing.rolled_out_image(), None);
        assert_eq!(upgrading.rolled_out_release(new), Some(old));
        // A history that records the image as a digest: rolled out by version, as long as
        // the desired release is the image given.
        let digest = serde_json::from_value::<ObservedHostedCluster>(json!({"status": {"version": {
            "desired": {"image": new, "version": "4.19.12"},
            "history": [{"state": "Completed", "image": "release@sha256:abc", "version": "4.19.12"}],
        }}}))
        .unwrap();
        assert_eq!(digest.rolled_out_release(new), Some(new));
        assert_eq!(digest.rolled_out_release(old), Some("release@sha256:abc"));
    }

    fn hc(status: serde_json::Value) -> ObservedHostedCluster {
        serde_json::from_value(json!({"status": status})).unwrap()
    }

    #[test]
    fn available_message_is_the_non_empty_message() {
        let down = hc(
            json!({"conditions": [{"type": "Available", "status": "False", "reason": "X", "message": "kube-apiserver not ready"}]}),
        );
        assert_eq!(down.available_message(), Some("kube-apiserver not ready"));
        let bare = hc(
            json!({"conditions": [{"type": "Available", "status": "False", "reason": "X", "message": ""}]}),
        );
        assert_eq!(bare.available_message(), None);
    }

    #[test]
    fn a_desired_version_not_completed_is_not_rolled_out() {
        let new = "quay.io/openshift-release-dev/ocp-release:4.19.13-x86_64";
        let upgrading = hc(json!({"version": {
            "desired": {"image": new, "version": "4.19.13"},
            "history": [
                {"state": "Partial", "image": "release@sha256:def", "version": "4.19.13"},
                {"state": "Completed", "image": "release@sha256:abc", "version": "4.19.12"}]}}));
        assert_eq!(
            upgrading.rolled_out_release(new),
            Some("release@sha256:abc")
        );
    }

    #[test]
    fn a_half_reported_endpoint_is_no_api_endpoint() {
        assert_eq!(
            hc(json!({"controlPlaneEndpoint": {"host": "api.c.example.com", "port": 0}}))
                .api_endpoint(),
            None
        );
        assert_eq!(
            hc(json!({"controlPlaneEndpoint": {"host": "", "port": 6443}})).api_endpoint(),
            None
        );
    }

    #[test]
    fn identity_provider_problem_only_when_false() {
        let bad = hc(
            json!({"conditions": [{"type": "ValidIDPConfiguration", "status": "False", "reason": "X", "message": "dial tcp: i/o timeout"}]}),
        );
        assert_eq!(
            bad.identity_provider_problem(),
            Some("dial tcp: i/o timeout")
        );
        let good = hc(
            json!({"conditions": [{"type": "ValidIDPConfiguration", "status": "True", "reason": "AsExpected", "message": "ok"}]}),
        );
        assert_eq!(good.identity_provider_problem(), None);
    }

    fn np(spec: serde_json::Value) -> ObservedNodePool {
        serde_json::from_value(json!({"spec": spec})).unwrap()
    }

    #[test]
    fn an_observed_pool_keeps_its_release_and_upgrade_type() {
        assert_eq!(
            np(json!({"release": {"image": "r:1"}})).release_image(),
            Some("r:1")
        );
        assert_eq!(np(json!({"release": {"image": ""}})).release_image(), None);
        assert_eq!(
            np(json!({"management": {"upgradeType": "InPlace"}})).upgrade_type(),
            Some(UpgradeType::InPlace)
        );
        assert_eq!(
            np(json!({"management": {"upgradeType": "Replace"}})).upgrade_type(),
            Some(UpgradeType::Replace)
        );
        assert_eq!(
            np(json!({"management": {"upgradeType": "Other"}})).upgrade_type(),
            None
        );
    }
}
