//! OpenShiftCluster: SCO's Kubernetes-as-a-Service. A namespaced
//! `kubernetes.cloud.stakater.com/v1` `OpenShiftCluster` XR in a project's
//! `ws-<project>-clusters` namespace (synced there by api-syncagent) becomes a HyperShift
//! hosted cluster: its control plane runs in the management cluster, its workers on the
//! platform's infrastructure.
//!
//! | XR field (`spec.parameters.`) | resources (composition resource name) |
//! |---|---|
//! | `clusterName` | `hosted-cluster` (HostedCluster `<clusterName>` in the XR's namespace; control plane namespace `<namespace>-<clusterName>`) |
//! | `version` | the HostedCluster's and NodePools' `release.image` (setting `releaseImages`; a NodePool moves to a new release once the control plane has rolled it out: [`hypershift::node_release`]) |
//! | `defaultNodepool` | `node-pool-default` (NodePool `<clusterName>-default`): replicas, size from the size table |
//! | `networking.mode` | the HostedCluster's `spec.services` (below) |
//! | `access.groups[]` | through `provider-config` (ProviderConfig `<clusterName>-admin` on the admin kubeconfig HyperShift reports): `binding-<role>` (Objects → ClusterRoleBindings `sco-<role>` to OpenShift's `view`, `edit`, `admin`, or for `customer-admin` the composition's `sco-customer-admin` plus `admin`), `role-customer-admin` (Object → ClusterRole `sco-customer-admin`) |
//! | (always) | `pull-secret` (copied from the step's credential), `etcd-encryption-key` and `oidc-client-secret` (generated), `oidc-ca` (when Keycloak's CA is private), `ssh-key` (when the platform sets one), `keycloak-client` and `keycloak-groups-mapper` (the organisation realm's OIDC client), `connection` (the consumer's Secret), Usages |
//!
//! **Where things live.** The HostedCluster and its Secrets are composed into the XR's own
//! namespace (a namespaced XR composes into its namespace only). The trade-off, stated: the
//! project's MTO owners and editors can read that namespace's Secrets, so the pull secret and
//! the etcd encryption key are readable by the tenant's owners and editors (HyperShift's
//! admin kubeconfig Secret lands there too). The alternative, a platform namespace through
//! provider-kubernetes Objects, hides them but needs cluster-wide Object RBAC and breaks the
//! XR-to-HostedCluster ownership; it is not implemented.
//!
//! The HostedCluster is named `clusterName`, not after the XR: two OpenShiftClusters with the
//! same `clusterName` in one namespace would compose the same object, and Crossplane lets
//! only the first one own it (the second reports the conflict).
//!
//! **Organisation and project.** From the api-syncagent annotation
//! `syncagent.kcp.io/remote-object-workspace-path` (`root:<org>:<project>`) when present,
//! else from the labels the Project's Tenant puts on the XR's namespace (`stakater.com/org`,
//! `sco.stakater.com/project`; MTO's `stakater.com/tenant` holds the Tenant's name), fetched
//! as the required resource `namespace`; until Crossplane has
//! fetched it nothing is composed (`WaitingForNamespace`); a namespace without them is a
//! Fatal naming `metadata.namespace`.
//!
//! **Publishing** (`networking.mode`, immutable in the XRD and checked against the observed
//! HostedCluster). The four services HyperShift's CEL requires (APIServer, OAuthServer,
//! Konnectivity, Ignition) are always listed. `public`: the API server on a LoadBalancer, the
//! other three on Routes of the management cluster's ingress, as `hcp create cluster
//! kubevirt` renders them. `private`: HyperShift has no private endpoint mode on KubeVirt,
//! Agent or None (`endpointAccess` is AWS's, `topology` Azure's), so here private means:
//! nothing on a public LoadBalancer or public hostname; every service is a NodePort on the
//! management network's address (setting `private.nodePortAddress`, as `hcp create cluster
//! kubevirt --api-server-address` does), so a private cluster is reachable exactly where the
//! management network is routed: from the management cluster and the networks the platform
//! routes to it (the organisations' networks), never from the internet. The ranges in
//! `private.allowedCidrs` are also written to `networking.apiServer.allowedCIDRBlocks`;
//! HyperShift enforces that list through a LoadBalancer's source ranges, so on NodePorts it
//! is a statement of intent, and the routing is what keeps the cluster private.
//!
//! **The etcd encryption key.** `secretEncryption: {type: aescbc, aescbc: {activeKey}}`
//! names Secret `<clusterName>-etcd-encryption-key`, key `key`: 32 characters from the shared
//! generated-secret code ([`crate::compositions::secrets`], purpose
//! `openshift-cluster-etcd-encryption-key`, derived from the seed credential and the XR's
//! uid). Once the Secret is observed its value is read back and kept: changing it in place
//! would make etcd unreadable, and HyperShift refuses removing the encryption once set.
//!
//! **Settings-derived immutable fields.** HyperShift makes the platform, etcd storage,
//! networks, availability policy and `kubevirt.{baseDomainPassthrough,generateID}` immutable,
//! and its webhook refuses any other `spec.networking` change (the private API server's
//! allow list, a machine network added to a cluster made without one) without the
//! `acknowledge-networking-disruption` annotation; once the HostedCluster is observed those
//! values are kept from it, empty lists included, so a changed platform setting applies to
//! new clusters only. An empty allow list is never written: HyperShift's own updates drop
//! it, and its webhook would then refuse them as a networking change. A changed `baseDomain`
//! is refused (Fatal), since the cluster's published names depend on it; on a passthrough
//! cluster HyperShift writes the management cluster's apps domain there itself, which is kept
//! and published under by no one but the management cluster's `*.apps` wildcard (shape.rs).
//! A new Agent or None cluster needs a base domain: HyperShift defaults one on KubeVirt only.
//!
//! **Sign-in.** `spec.configuration.oauth.identityProviders[]` has one OpenID provider
//! (`openshiftCluster.identityProviderName`, `sco`; an existing cluster keeps the name it
//! has, as users' identities are `<provider>:<sub>`, mapped by claim) against
//! `<keycloak.url>/realms/<org>`:
//! client `openshift-<project>-<clusterName>`, its secret in Secret `<clusterName>-oidc-client`
//! (key `clientSecret`, generated like the encryption key, purpose
//! `openshift-cluster-oidc-client-secret`), the CA in ConfigMap `<clusterName>-oidc-ca` (key
//! `ca.crt`) when `tokenValidation.issuerCertificateAuthority` says Keycloak's certificate is
//! private, and claims `preferred_username`, `name`, `email` and `groups` (without `groups`
//! no group binding would ever match). The confidential Keycloak client (namespaced
//! `openidclient.keycloak.m.crossplane.io` `Client`, its secret from the same Secret through
//! `clientSecretSecretRef`) and a `groups` membership mapper are composed once HyperShift
//! reports `status.oauthCallbackURLTemplate`: its redirect URI is that template with the
//! provider's name (`WaitingForOAuthCallback` until then); a client that exists keeps the
//! redirect URIs it has while the template is empty again (a control plane made anew copies
//! it from its status only once its infrastructure is up: `hostedcluster_controller.go`),
//! rather than being deleted and recreated with another ID. With OAuth configured HyperShift
//! drops the kubeadmin password. HyperShift fetches the issuer's discovery document from the
//! guest's nodes (through Konnectivity) and, when it cannot, runs the OAuth server without
//! the provider and reports `ValidIDPConfiguration=False` (`control-plane-operator`
//! `oauth/idp_convert.go`): the XR is then not ready (`InvalidIdentityProvider`, with
//! HyperShift's message), as nobody could sign in. Only HyperShift releases that copy the
//! condition from the control plane to the HostedCluster report it there (older
//! `hostedcluster_controller.go` copies `EtcdAvailable` to `ValidReleaseInfo` only); on
//! those the XR cannot tell, and a bad provider shows on the cluster's OAuth server only.
//!
//! **Access.** Once the HostedCluster reports its admin kubeconfig Secret (`status.kubeconfig`,
//! key `kubeconfig`), a namespaced provider-kubernetes ProviderConfig `<clusterName>-admin`
//! uses it; once that exists and the cluster is available, the bindings above are Objects
//! through it (`WaitingForProviderConfig` until then). What is gated on availability (the
//! bindings, the KubeVirt ingress, the bootstrap) is created once the cluster is available
//! and kept from then on, also while HyperShift reports it unavailable (a control plane
//! restart, an upgrade): Crossplane deletes every composed resource a function leaves out
//! (`available_or_kept`). The default NodePool's `management.upgradeType` is immutable, so
//! it is kept as observed. `sco-customer-admin` reads the cluster-scoped state, creates and
//! deletes namespaces and projects and installs operators, and writes no RBAC, nodes or
//! cluster configuration; `customer-admin` groups also get `admin` everywhere. Every binding
//! is cluster-wide, so `edit`, `admin` and `customer-admin` amount to cluster-admin: `edit`
//! (aggregated into `admin`) impersonates ServiceAccounts, creates their tokens, reads
//! Secrets and creates pods in every namespace, system ones included (Kubernetes'
//! `bootstrappolicy` `system:aggregate-to-edit`). Only `view` is confined; namespace-scoped
//! grants would need the guest's namespaces, which this composition does not see.
//!
//! **Deletion order** (Usages in the XR's namespace): the HostedCluster outlives its NodePool,
//! the ProviderConfig built from its kubeconfig and every Object through it; the ProviderConfig
//! outlives every Object through it.
//!
//! **Add-ons**, each behind platform settings:
//! - **etcd backup** (`backup`): an OADP/Velero `Schedule` (`etcd-backup`, an Object through
//!   the platform's provider-kubernetes config, since a namespaced XR composes into its own
//!   namespace only) in OADP's namespace, named `<namespace>-<clusterName>` within 48
//!   characters (Backups are named `<schedule>-<timestamp>`), as HyperShift's OADP
//!   disaster-recovery guide has it for the platform ([`crate::resources::velero`]: both
//!   namespaces, the platform's resource list, KubeVirt's boot-image PVCs excluded), with the
//!   storage location, cron schedule and retention; ready once Velero reports `Enabled`;
//! - **DNS** (`baseDomain`, public clusters only; private ones publish no hostname): an
//!   external-dns `DNSEndpoint` (`dns`) with `api.<clusterName>.<baseDomain>` to the control
//!   plane endpoint and, on KubeVirt, `*.apps.<clusterName>.<baseDomain>` to the ingress
//!   LoadBalancer, each once its address is observed (an A record for an IP, else a CNAME).
//!   On KubeVirt the apps address exists only once a LoadBalancer Service in the control
//!   plane's namespace forwards 443 and 80 to the guest router's node ports (HyperShift's
//!   `docs/content/how-to/kubevirt/ingress-and-dns.md`): the guest's
//!   `openshift-ingress/router-nodeport-default` is read through an observe-only Object
//!   (`guest-router-nodeports`, `managementPolicies: [Observe]`), then the Service
//!   `<clusterName>-apps` (selector `kubevirt.io: virt-launcher`) is an Object
//!   (`ingress-service`) in `<namespace>-<clusterName>`. On Agent and None the guest's
//!   ingress address is the platform's to provide: no apps record is written;
//! - **TLS** (`tls`, with `baseDomain`): a cert-manager `Certificate` (`api-certificate`) for
//!   `api.<clusterName>.<baseDomain>` into Secret `<clusterName>-api-tls`, which the
//!   HostedCluster names, once the Certificate is `Ready` and from then on (HyperShift stops
//!   reconciling a HostedCluster whose configuration references a missing Secret), as
//!   `kubeAPIServerDNSName` and a named serving certificate (the
//!   Secret in the HostedCluster's namespace, as HyperShift's custom API server certificate
//!   guide "Configuring Custom API Server Certificate in HostedCluster" (`kubeapi-server.md`
//!   in `docs/content/how-to/`) has it; no LoadBalancer hostname is set, so HyperShift's CEL
//!   rule against a named certificate covering it holds, and the name is not the internal
//!   `api-int.` one the guide warns against). HyperShift supports the custom name from 4.19:
//!   on 4.18 it is skipped with a Warning;
//! - **bootstrap** (`bootstrap.enabled`), once the cluster is available: a provider-helm
//!   ProviderConfig `<clusterName>-helm` on the admin kubeconfig, the settings' namespaces
//!   (`ksp-system`) as Objects through `<clusterName>-admin`, and the settings' Helm releases
//!   (Crossplane, Argo CD), with Usages keeping the HostedCluster and the helm provider config
//!   until each release is gone. The releases wait for the default pool's nodes
//!   (`WaitingForNodes`; a chart installed with `wait` before there is a node fails, and
//!   provider-helm retries a failed release only with `rollbackLimit`, set to 3:
//!   `shouldRollBack` in its release controller); a release object's name is cut to Helm's
//!   53 characters; the default NodePool outlives the namespaces and releases (addons.rs).
//!
//! **Node pools.** `management.upgradeType` is Replace on KubeVirt and InPlace on Agent and
//! None unless `upgradeType` says otherwise. On KubeVirt the size table gives
//! `compute.{cores, memory}` and the persistent root volume; on Agent a size selects Agents by
//! the labels in `agentLabels` (a size without labels is refused); on None sizes select
//! nothing (nodes join by their ignition) and a Warning says so.
//!
//! **Phases** (`status.phase`), from observed state: `Initializing` until the HostedCluster
//! reports `Available=True`; `RegistrationPending` while the control plane is available but
//! not everything else is ready (nodes joining: the NodePool's `Ready` and `status.replicas`,
//! or on None, where HyperShift manages no machines and reports neither, its ignition payload
//! served: [`ObservedNodePool::serves`]; the connection Secret); `Ready` when every composed
//! resource is ready. `status.version` is
//! the newest `Completed` entry of `status.version.history`, `apiEndpoint` the
//! `controlPlaneEndpoint`, `consoleUrl` derived from the apps domain
//! (`spec.configuration.ingress.domain`, else `apps.<clusterName>.<baseDomain>`, else on
//! KubeVirt `apps.<clusterName>.<managementAppsDomain>`), since HyperShift reports none.
//!
//! **The connection Secret** (`<xr>-connection`, once the API endpoint is observed):
//! `apiEndpoint`, `consoleUrl`, `ca.crt` (from the admin kubeconfig HyperShift writes, fetched
//! as the required resource `admin-kubeconfig`) and a `kubeconfig` with the server and CA and
//! a user without credentials, to sign in with `oc login --web` through the cluster's OAuth
//! server and the organisation's realm. Never the admin kubeconfig: that would hand every
//! reader cluster-admin. There is no kubeadmin password to publish.

// Besides the common files: what HyperShift makes immutable, and the add-ons.
mod addons;
pub mod names;
pub mod settings;
mod shape;
pub mod spec;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::build::Build;
use super::conventions::{self, XrIdentity};
use super::platform::Platform;
use super::secrets::{self, Generated};
use super::types::{check_dns_label, quoted};
use super::{Composition, Context, FieldError, Invalid, setting_path};
use std::num::NonZeroU32;

use crate::resources::cert_manager::{
    Certificate, CertificateSpec, IssuerKind, IssuerRef, ObservedCertificate,
};
use crate::resources::config_map::ConfigMap;
use crate::resources::external_dns::{DnsEndpoint, Endpoint, ObservedDnsEndpoint};
use crate::resources::helm;
use crate::resources::hypershift::{
    self, ApiServerConfiguration, ApiServerNetworking, Configuration, Dns, Etcd, HostedCluster,
    HostedClusterSpec, HostedPlatform, IdentityProvider, KubevirtNode, LocalRef, Management,
    NamedCertificate, NetworkEntry, Networking, NodePool, NodePoolPlatform, NodePoolSpec, OAuth,
    ObservedHostedCluster, ObservedNodePool, OpenIdProvider, PlatformType, Publishing, Release,
    SecretEncryption, ServiceKind, ServicePublishing, ServingCerts,
};
use crate::resources::keycloak::{self, ConfidentialClientParameters, Managed, RealmId};
use crate::resources::kubeconfig::{
    Context as KubeContext, Kubeconfig, NamedCluster, NamedContext, NamedUser,
};
use crate::resources::provider_kubernetes::{self as pk, Object, Readiness};
use crate::resources::rbac::{ClusterRole, ClusterRoleBinding, PolicyRule, Subject};
use crate::resources::secret::{Base64, ObservedSecret, Secret};
use crate::resources::service::{Address, ObservedService, Service, ServicePort, ServiceType};
use crate::resources::velero;
use crate::resources::{self, Labels, Meta};
use crate::resources::{ProviderConfig, Reference, SecretKeySelector};
use crate::sdk::resource::DNS_LABEL_MAX;
use crate::sdk::response::{Match, Requirement};
use names::Names;
pub use settings::Settings;
use settings::{IssuerKindSetting, VolumeBackupMode};
use shape::{Immutable, ObservedShape, check_unchanged, immutable};
use spec::Version;
use spec::{Mode, OpenShiftClusterStatus, Parameters, Phase, Role};

/// The api-syncagent annotation naming the workspace the XR came from.
pub use super::project::spec::WORKSPACE_PATH_ANNOTATION;

/// Length of the generated etcd encryption key: 32 bytes for AES-256-CBC.
pub const ENCRYPTION_KEY_LENGTH: usize = 32;
/// The purpose the encryption key is derived for.
const ENCRYPTION_PURPOSE: &str = "openshift-cluster-etcd-encryption-key";
/// Length of the generated OIDC client secret.
pub const CLIENT_SECRET_LENGTH: usize = 40;
/// The purpose the OIDC client secret is derived for.
const CLIENT_SECRET_PURPOSE: &str = "openshift-cluster-oidc-client-secret";
/// The guest's router NodePort Service in `openshift-ingress`, whose node ports the KubeVirt
/// apps LoadBalancer forwards to (HyperShift's KubeVirt ingress guide).
pub const GUEST_ROUTER_SERVICE: &str = "router-nodeport-default";
/// The ClusterRole `customer-admin` binds, defined by this composition on the hosted cluster.
pub const CUSTOMER_ADMIN_ROLE: &str = "sco-customer-admin";

/// The OpenShiftCluster composition.
pub struct OpenShiftCluster;

/// Which part of the cluster a composed resource counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The HostedCluster and its Secrets.
    ControlPlane,
    /// NodePools.
    Nodes,
    /// The Keycloak client and its groups mapper.
    Identity,
    /// The provider config on the hosted cluster and the access bindings through it.
    Access,
    /// Backup, DNS, TLS and bootstrap.
    Addons,
    /// The consumer's connection Secret.
    Connection,
    /// Usages.
    DeletionOrder,
}

impl Composition for OpenShiftCluster {
    const NAME: &'static str = "OpenShiftCluster";
    const API_VERSION: &'static str = "kubernetes.cloud.stakater.com/v1";
    const KIND: &'static str = "OpenShiftCluster";
    const SETTINGS_KEY: &'static str = "openshiftCluster";
    type Xr = spec::OpenShiftCluster;
    type Settings = Settings;
    type Part = Part;
    type Valid<'a> = Cluster<'a>;
    type Status = OpenShiftClusterStatus;

    fn validate<'a>(
        xr: &'a spec::OpenShiftCluster,
        cx: Context<'a, Settings>,
    ) -> Result<Cluster<'a>, Invalid> {
        validate(xr, cx)
    }

    fn compose(c: &Cluster<'_>, build: &mut Build<'_, Part>) {
        c.compose(build);
    }

    fn status(c: &Cluster<'_>, build: &Build<'_, Part>) -> OpenShiftClusterStatus {
        c.status(build)
    }
}

/// The organisation and project the cluster belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenancy {
    /// Known.
    Known {
        /// The organisation (its Keycloak realm).
        org: String,
        /// The project (MTO tenant).
        project: String,
    },
    /// The XR's namespace has not been fetched yet.
    Pending,
}

/// What a node pool's nodes are, by platform.
#[derive(Debug, Clone, PartialEq)]
pub enum Nodes {
    /// KubeVirt VMs of this size.
    KubeVirt {
        /// vCPU cores.
        cores: u32,
        /// Memory.
        memory: String,
        /// Root volume size.
        root_volume: String,
    },
    /// Agents with these labels.
    Agent(std::collections::BTreeMap<String, String>),
    /// No platform: nodes join by their ignition.
    None,
}

/// A valid OpenShiftCluster: what it asks for, resolved against the settings.
pub struct Cluster<'a> {
    params: &'a Parameters,
    settings: &'a Settings,
    platform: &'a Platform,
    issuer: String,
    client_secret: Generated,
    names: Names,
    namespace: String,
    tenancy: Tenancy,
    identity: XrIdentity,
    release_image: &'a str,
    nodes: Option<Nodes>,
    pull_secret: &'a [u8],
    encryption_key: Generated,
    immutable: Immutable,
    /// The observed HostedCluster (empty before it exists).
    seen: ObservedHostedCluster,
}

/// The label HyperShift puts on every control plane namespace it makes
/// (`hostedcluster_controller.go`, `ControlPlaneNamespaceLabelKey`).
const CONTROL_PLANE_NAMESPACE_LABEL: &str = "hypershift.openshift.io/hosted-control-plane";

/// Before the HostedCluster exists: its control plane namespace `<namespace>-<clusterName>`
/// must not exist as anything else. HyperShift takes an existing namespace of that name as
/// it is (`createOrUpdate` of the control plane namespace), and one of another project (a
/// project `shop-clusters-foo` has `ws-shop-clusters-foo-clusters`, which a cluster
/// `foo-clusters` in `ws-shop-clusters` would take) would receive this cluster's PKI and
/// admin kubeconfig.
fn check_control_plane_namespace(
    cx: Context<'_, Settings>,
    names: &Names,
    fail: &mut impl FnMut(&str, String),
) {
    if cx.observed.exists(names::HOSTED_CLUSTER) {
        return;
    }
    let Some(found) = cx
        .observed
        .required
        .get(names::CONTROL_PLANE_NAMESPACE_REQUIREMENT)
        .and_then(|found| found.first())
    else {
        return;
    };
    let labels = found.pointer("/metadata/labels");
    if labels
        .and_then(|l| l.get(CONTROL_PLANE_NAMESPACE_LABEL))
        .is_none()
    {
        let owner = labels
            .and_then(|l| l.get(conventions::LABEL_PROJECT))
            .and_then(Value::as_str)
            .map(|p| format!(" (project {p}'s)"))
            .unwrap_or_default();
        fail(
            "spec.parameters.clusterName",
            format!(
                "the cluster's control plane namespace {} exists already{owner} and is not HyperShift's: HyperShift would put this cluster's control plane and credentials in it; choose another clusterName",
                names.control_plane_namespace
            ),
        );
    }
}

/// Checks every rule, collecting every bad field.
fn validate<'a>(
    xr: &'a spec::OpenShiftCluster,
    cx: Context<'a, Settings>,
) -> Result<Cluster<'a>, Invalid> {
    let (platform, settings) = (cx.platform, cx.settings);
    let params = &xr.spec.parameters;
    let mut errors = Vec::new();
    let mut fail = |path: &str, message: String| {
        errors.push(FieldError {
            path: path.to_owned(),
            message,
        });
    };
    let identity = XrIdentity::of::<OpenShiftCluster>(&xr.metadata);
    let Some(namespace) = identity.scope.namespace().map(str::to_owned) else {
        return Err(Invalid::field(
            "metadata.namespace",
            "an OpenShiftCluster is namespaced; create it in its project's clusters namespace",
        ));
    };

    let cluster = params.cluster_name.as_str();
    let names = match check_dns_label(cluster) {
        Err(e) => {
            fail("spec.parameters.clusterName", e);
            None
        }
        Ok(()) => match Names::of(&identity.name, &namespace, cluster) {
            Ok(names) => Some(names),
            Err(length) => {
                fail(
                    "spec.parameters.clusterName",
                    format!(
                        "{cluster:?} is too long: the hosted control plane's namespace {namespace}-{cluster} would have {length} characters, and a namespace has at most 63; use at most {} characters",
                        63usize.saturating_sub(namespace.len() + 1)
                    ),
                );
                None
            }
        },
    };
    if let Some(names) = &names {
        check_control_plane_namespace(cx, names, &mut fail);
    }
    // Only a valid cluster name is measured against the base domain (and quoted whole).
    if let Some(base) = settings.base_domain.as_ref().filter(|_| names.is_some()) {
        // The longest published name: the ingress wildcard `*.apps.<cluster>.<base>`.
        let longest = format!("*.apps.{cluster}.{base}");
        if longest.len() > 253 {
            fail(
                "spec.parameters.clusterName",
                format!(
                    "{cluster:?} is too long for base domain {base:?}: {longest} would have {} characters, and a DNS name has at most 253",
                    longest.len()
                ),
            );
        }
    }

    if let Some(base) = &settings.base_domain
        && let Err(why) = check_base_domain(base)
    {
        fail(&setting_path("openshiftCluster.baseDomain"), why);
    }
    let release_image = settings.release_images.get(params.version);
    if let Some(image) = release_image
        && (image.len() > 253 || image.chars().any(char::is_whitespace))
    {
        fail(
            "spec.parameters.version",
            format!(
                "{} maps to release image {image:?}, which HyperShift refuses (at most 253 characters, no whitespace); ask the platform team to fix openshiftCluster.releaseImages.\"{}\"",
                params.version, params.version
            ),
        );
    }
    if release_image.is_none() {
        fail(
            "spec.parameters.version",
            format!(
                "{} has no release image on this platform; choose another version, or ask the platform team to set openshiftCluster.releaseImages.\"{}\"",
                params.version, params.version
            ),
        );
    }

    // The observed HostedCluster, read once for validation, composition and status.
    let seen = cx
        .observed
        .read::<ObservedHostedCluster>(names::HOSTED_CLUSTER)
        .and_then(Result::ok)
        .unwrap_or_default();
    // HyperShift refuses a release of an older minor than the one it was last given, so a
    // lowered version would leave the cluster where it is, failing, for good.
    if let Some((major, running)) = seen.newest_minor()
        && (major, running) > params.version.minor()
    {
        fail(
            "spec.parameters.version",
            format!(
                "{} is older than {major}.{running}, the version the cluster has been given: HyperShift does not go back a minor version (\"y-stream downgrade is not supported\"); set {major}.{running} or later",
                params.version
            ),
        );
    }

    let pool = &params.default_nodepool;
    if !(1..=10).contains(&pool.replicas) {
        fail(
            "spec.parameters.defaultNodepool.replicas",
            format!("{} is out of range: use 1 to 10 nodes", pool.replicas),
        );
    }
    // Read before the pool's nodes: an existing cluster keeps its platform (the NodePool's
    // `platform.type` is immutable too), whatever `openshiftCluster.platform` says now.
    let observed = cx
        .observed
        .read::<ObservedShape>(names::HOSTED_CLUSTER)
        .and_then(Result::ok);
    let immutable = immutable(settings, observed.as_ref());
    let nodes = if pool.enabled {
        match nodes_of(settings, immutable.platform.type_, pool.size) {
            Ok(nodes) => Some(nodes),
            Err(e) => {
                fail("spec.parameters.defaultNodepool.size", e);
                None
            }
        }
    } else {
        None
    };

    if settings.platform == PlatformType::Agent
        && settings
            .agent_namespace
            .as_deref()
            .is_none_or(str::is_empty)
    {
        fail(
            &setting_path("openshiftCluster.agentNamespace"),
            "is not set but openshiftCluster.platform is Agent: HyperShift's Agent platform needs the namespace its Agents are searched in; set it in the sco-platform EnvironmentConfig".into(),
        );
    }
    // HyperShift defaults a base domain on KubeVirt only (the webhook turns an empty one into
    // `baseDomainPassthrough`); on Agent and None nothing defaults or refuses it, and the
    // guest is named from it: `<name>.` and `apps.<name>.` (`support/globalconfig/dns.go`
    // `BaseDomain`, `ingress.go` `IngressDomain`; the `hcp` CLI fills in example.com). A new
    // cluster there needs one; an existing one keeps what it was made with (shape.rs).
    if observed.is_none()
        && immutable.base_domain.is_empty()
        && immutable.platform.type_ != PlatformType::KubeVirt
    {
        fail(
            &setting_path("openshiftCluster.baseDomain"),
            format!(
                "is not set but openshiftCluster.platform is {:?}: HyperShift names such a cluster's DNS and apps domain after it (<clusterName>.<baseDomain>) and has no default outside KubeVirt, so the cluster would be called \"{}.\"; set the base domain clusters are published under in the sco-platform EnvironmentConfig",
                immutable.platform.type_, cluster
            ),
        );
    }
    // An existing private cluster keeps the address it was published on (shape.rs).
    if params.networking.mode == Mode::Private && immutable.node_port_address.is_empty() {
        fail(
            "spec.parameters.networking.mode",
            "private is not offered on this platform: it publishes the control plane on NodePorts of the management network, and the platform team has not set openshiftCluster.private.nodePortAddress".into(),
        );
    }

    for (i, group) in params.access.groups.iter().enumerate() {
        if let Err(e) = check_group(&group.name) {
            fail(&format!("spec.parameters.access.groups[{i}].name"), e);
        }
    }

    if let Some(observed) = &observed {
        check_unchanged(params, settings, observed, &mut fail);
    }

    let tenancy = match tenancy(xr, cx, platform) {
        Ok(t) => t,
        Err((path, message)) => {
            fail(&path, message);
            Tenancy::Pending
        }
    };

    let pull_secret = cx
        .observed
        .credentials
        .0
        .get(&settings.pull_secret_credential)
        .and_then(|data| data.get(hypershift::PULL_SECRET_KEY))
        .filter(|bytes| !bytes.is_empty());
    if pull_secret.is_none() {
        let name = &settings.pull_secret_credential;
        fail(
            &format!("credentials.{name}"),
            format!(
                "is missing or has no key {:?}: the OpenShift pull secret comes from the Composition step's credentials, never from the XR; create it with `kubectl -n crossplane-system create secret generic {name} --from-file=.dockerconfigjson=pull-secret.json` and list it in the function-sco step as `credentials: [{{name: {name}, source: Secret, secretRef: {{namespace: crossplane-system, name: {name}}}}}]` (function-sco render: --credentials FILE)",
                hypershift::PULL_SECRET_KEY
            ),
        );
    }

    let encryption_key = match secrets::generated(
        cx.observed,
        names::ENCRYPTION_KEY,
        hypershift::ENCRYPTION_KEY,
        xr.metadata.uid.as_deref(),
        ENCRYPTION_PURPOSE,
        ENCRYPTION_KEY_LENGTH,
    ) {
        Ok(key) => Some(key),
        Err(e) => {
            errors.push(e);
            None
        }
    };

    let client_secret = match secrets::generated(
        cx.observed,
        names::OIDC_CLIENT_SECRET,
        hypershift::CLIENT_SECRET_KEY,
        xr.metadata.uid.as_deref(),
        CLIENT_SECRET_PURPOSE,
        CLIENT_SECRET_LENGTH,
    ) {
        Ok(secret) => Some(secret),
        // The same missing seed or uid as the encryption key's: said once.
        Err(_) if encryption_key.is_none() => None,
        Err(e) => {
            errors.push(e);
            None
        }
    };

    let keycloak = match &platform.keycloak.url {
        Some(url) => Some(url.as_str().trim_end_matches('/').to_owned()),
        None => {
            errors.push(FieldError {
                path: setting_path("keycloak.url"),
                message: "is not set: clusters sign in through the organisation's Keycloak realm; set it to Keycloak's public URL (https://sso.example.com) in the sco-platform EnvironmentConfig".into(),
            });
            None
        }
    };
    let issuer = match (&keycloak, &tenancy) {
        (Some(url), Tenancy::Known { org, .. }) => format!("{url}/realms/{org}"),
        _ => String::new(),
    };

    match (
        names,
        release_image,
        pull_secret,
        encryption_key,
        client_secret,
    ) {
        (
            Some(names),
            Some(release_image),
            Some(pull_secret),
            Some(encryption_key),
            Some(client_secret),
        ) if errors.is_empty() => Ok(Cluster {
            params,
            settings,
            platform,
            issuer,
            client_secret,
            names,
            immutable,
            namespace,
            tenancy,
            identity,
            release_image,
            nodes,
            pull_secret,
            encryption_key,
            seen,
        }),
        _ => Err(Invalid(errors)),
    }
}

/// What the nodes of a pool of `size` are on `platform`, or why the size is refused.
pub fn nodes_of(
    settings: &Settings,
    platform: PlatformType,
    size: spec::Size,
) -> Result<Nodes, String> {
    match platform {
        PlatformType::KubeVirt => match settings.sizes.get(size) {
            Some(s) => Ok(Nodes::KubeVirt {
                cores: s.cores,
                memory: s.memory.clone(),
                root_volume: s.root_volume.clone(),
            }),
            None => Err(format!(
                "{size} is not in this platform's size table (it has {}); choose a listed size, or ask the platform team to add openshiftCluster.sizes.{size}",
                listed(&settings.sizes.listed())
            )),
        },
        PlatformType::Agent => match settings.agent_labels.get(size) {
            Some(labels) => Ok(Nodes::Agent(labels.clone())),
            None => Err(format!(
                "{size} selects no Agents on this platform (sizes with Agent labels: {}); choose a listed size, or ask the platform team to set openshiftCluster.agentLabels.{size}",
                listed(&settings.agent_labels.listed())
            )),
        },
        PlatformType::None => Ok(Nodes::None),
    }
}

fn listed(sizes: &[&str]) -> String {
    if sizes.is_empty() {
        "none".into()
    } else {
        sizes.join(", ")
    }
}

/// A base domain HyperShift's `dns.baseDomain` accepts: dot-separated labels of letters,
/// digits and '-', at most 63 characters each, the last one of letters (or one label).
fn check_base_domain(base: &str) -> Result<(), String> {
    let labels: Vec<&str> = base.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels.len() == 1
        || labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_alphabetic()));
    if base.len() <= 253 && labels.iter().all(label_ok) && tld_ok {
        Ok(())
    } else {
        Err(format!(
            "{base:?} is not a DNS domain HyperShift accepts as dns.baseDomain: use dot-separated labels of letters, digits and '-' (at most 63 characters each) ending in a top-level domain, such as cloud.example.com"
        ))
    }
}

/// A group name RBAC and the realm accept, that is not reserved.
fn check_group(name: &str) -> Result<(), String> {
    let subdomain = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| check_dns_label(label).is_ok());
    if !subdomain {
        return Err(format!(
            "{} is not an RFC 1123 subdomain: use lower-case letters, digits, '-' and '.', at most 253 characters",
            quoted(name)
        ));
    }
    if name == "cluster-admin" || name.ends_with("-cluster-admin") {
        return Err(format!(
            "{name:?} is reserved: cluster-admin and names ending -cluster-admin belong to the platform; choose another group name"
        ));
    }
    Ok(())
}

/// The organisation and project: the workspace-path annotation, else the namespace's labels.
fn tenancy(
    xr: &spec::OpenShiftCluster,
    cx: Context<'_, Settings>,
    platform: &Platform,
) -> Result<Tenancy, (String, String)> {
    let root = platform.kcp.root_workspace.as_str();
    if let Some(path) = xr
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(WORKSPACE_PATH_ANNOTATION))
    {
        let parts: Option<Vec<&str>> = path
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|rest| rest.split(':').collect());
        return match parts.as_deref() {
            Some([org, project])
                if check_dns_label(org).is_ok() && check_dns_label(project).is_ok() =>
            {
                Ok(Tenancy::Known {
                    org: (*org).to_owned(),
                    project: (*project).to_owned(),
                })
            }
            _ => Err((
                format!("metadata.annotations[{WORKSPACE_PATH_ANNOTATION}]"),
                format!(
                    "{} is not a project workspace ({root}:<organisation>:<project>): create OpenShiftClusters in a project's workspace",
                    quoted(path)
                ),
            )),
        };
    }
    let Some(found) = cx.observed.required.get(names::NAMESPACE_REQUIREMENT) else {
        return Ok(Tenancy::Pending);
    };
    let labels = found
        .first()
        .and_then(|ns| serde_json::from_value::<NamespaceLabels>(ns.clone()).ok())
        .map(|ns| ns.metadata.labels)
        .unwrap_or_default();
    match (
        labels.get(conventions::LABEL_ORG),
        labels.get(conventions::LABEL_PROJECT),
    ) {
        (Some(org), Some(project)) if !org.is_empty() && !project.is_empty() => {
            Ok(Tenancy::Known {
                org: org.clone(),
                project: project.clone(),
            })
        }
        _ => Err((
            "metadata.namespace".into(),
            format!(
                "the organisation and project are unknown: the XR has no annotation {WORKSPACE_PATH_ANNOTATION} and its namespace has no labels {} and {}; create OpenShiftClusters in a project's namespace (its Tenant labels it) or through api-syncagent with enableWorkspacePaths: true",
                conventions::LABEL_ORG,
                conventions::LABEL_PROJECT
            ),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct NamespaceLabels {
    #[serde(default)]
    metadata: NamespaceMeta,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct NamespaceMeta {
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

impl Cluster<'_> {
    /// Metadata of a composed object in the XR's namespace.
    fn meta(&self, name: &str) -> Meta {
        resources::meta(name, Some(&self.namespace), &self.labels())
    }

    fn labels(&self) -> Labels {
        match &self.tenancy {
            Tenancy::Known { org, project } => self.identity.labels(Some(org), Some(project)),
            Tenancy::Pending => self.identity.labels(None, None),
        }
    }

    fn compose(&self, build: &mut Build<'_, Part>) {
        build.require(
            names::NAMESPACE_REQUIREMENT,
            Requirement::namespace(&self.namespace),
        );
        if self.tenancy == Tenancy::Pending {
            build.wait(
                "WaitingForNamespace",
                format!(
                    "Crossplane has not fetched namespace {} yet, whose labels name the cluster's organisation and project",
                    self.namespace
                ),
            );
            return;
        }
        let observed = &self.seen;
        if let Some(why) = observed.paused() {
            build.warn(format!(
                "HostedCluster {} is paused ({why}): HyperShift applies no change to it (version, configuration, node pools) until its spec.pausedUntil is removed; HyperShift's OADP plugin pauses clusters while a backup of their namespace runs, and some of its releases leave them paused after file-system backups",
                self.names.hosted_cluster
            ));
        }
        if let Some(secret) = observed.kubeconfig_secret() {
            build.require(
                names::ADMIN_KUBECONFIG_REQUIREMENT,
                Requirement::secret(&self.namespace, secret),
            );
        }
        if !build.exists(names::HOSTED_CLUSTER) {
            build.require(
                names::CONTROL_PLANE_NAMESPACE_REQUIREMENT,
                Requirement::namespace(&self.names.control_plane_namespace),
            );
        }
        self.secrets(build);
        let hosted_cluster = self.hosted_cluster(self.serves_api_certificate(build, observed));
        build.add(
            names::HOSTED_CLUSTER,
            Part::ControlPlane,
            &hosted_cluster,
            observed.is_available(),
        );
        let mut default_pool = None;
        if let Some(nodes) = &self.nodes {
            let found = build
                .read::<ObservedNodePool>(names::DEFAULT_NODE_POOL)
                .unwrap_or_default();
            let pool = node_pool(
                self.meta(&self.names.node_pool),
                &self.names.hosted_cluster,
                self.params.default_nodepool.replicas,
                hypershift::node_release(
                    self.release_image,
                    observed.rolled_out_release(self.release_image),
                    found.release_image(),
                ),
                nodes,
                self.settings.root_volume_storage_class.as_deref(),
                found
                    .upgrade_type()
                    .unwrap_or_else(|| self.settings.upgrade_type()),
            );
            build.add(
                names::DEFAULT_NODE_POOL,
                Part::Nodes,
                &pool,
                found.serves(&pool),
            );
            self.usage(
                build,
                names::USAGE_HOSTED_CLUSTER_BY_NODE_POOL,
                &hosted_cluster,
                &pool,
            );
            if nodes == &Nodes::None {
                build.warn(format!(
                    "defaultNodepool.size {} selects nothing on platform None: nodes join the pool by booting its ignition",
                    self.params.default_nodepool.size
                ));
            }
            default_pool = Some(pool);
        }
        self.connection(build, observed);
        self.keycloak(build, observed);
        self.access(build, observed, &hosted_cluster);
        self.addons(build, observed, &hosted_cluster, default_pool.as_ref());
    }

    /// The pull secret, the encryption key and the SSH key.
    fn secrets(&self, build: &mut Build<'_, Part>) {
        let mut pull = Secret::new(
            self.meta(&self.names.pull_secret),
            [(
                hypershift::PULL_SECRET_KEY.to_owned(),
                Base64(Cow::Borrowed(self.pull_secret)),
            )],
        );
        pull.type_ = Some("kubernetes.io/dockerconfigjson");
        build.add_existing(names::PULL_SECRET, Part::ControlPlane, &pull);
        let key = Secret::new(
            self.meta(&self.names.encryption_key),
            [(
                hypershift::ENCRYPTION_KEY.to_owned(),
                Base64::from(self.encryption_key.value.as_str()),
            )],
        )
        .opaque();
        build.add_existing(names::ENCRYPTION_KEY, Part::ControlPlane, &key);
        let client_secret = Secret::new(
            self.meta(&self.names.oidc_client_secret),
            [(
                hypershift::CLIENT_SECRET_KEY.to_owned(),
                Base64::from(self.client_secret.value.as_str()),
            )],
        )
        .opaque();
        build.add_existing(
            names::OIDC_CLIENT_SECRET,
            Part::ControlPlane,
            &client_secret,
        );
        if let Some(ca) = &self.platform.token_validation.issuer_certificate_authority {
            let config_map = ConfigMap::new(
                self.meta(&self.names.oidc_ca),
                [(hypershift::CA_KEY.to_owned(), ca.clone())],
            );
            build.add_existing(names::OIDC_CA, Part::ControlPlane, &config_map);
        }
        if let Some(ssh) = &self.settings.ssh_public_key {
            let secret = Secret::new(
                self.meta(&self.names.ssh_key),
                [("id_rsa.pub".to_owned(), Base64::from(ssh.as_str()))],
            );
            build.add_existing(names::SSH_KEY, Part::ControlPlane, &secret);
        }
    }

    /// Whether the HostedCluster names the custom API server name and its certificate's
    /// Secret: once cert-manager reports the Certificate `Ready` (so the Secret exists), and
    /// from then on. HyperShift's HostedCluster reconciler copies every Secret the
    /// configuration references into the control plane's namespace and stops, with "failed
    /// to get referenced secret", while one is missing, so naming it earlier would hold the
    /// whole control plane (creation, upgrades) until it is issued.
    fn serves_api_certificate(
        &self,
        build: &Build<'_, Part>,
        observed: &ObservedHostedCluster,
    ) -> bool {
        self.api_dns_name().is_some()
            && (observed.kube_api_server_dns_name().is_some() || certificate_issued(build))
    }

    /// The HostedCluster; with `serve_api_certificate`, its custom API server name and
    /// named certificate.
    fn hosted_cluster(&self, serve_api_certificate: bool) -> HostedCluster {
        let api_dns_name = self.api_dns_name().filter(|_| serve_api_certificate);
        let im = &self.immutable;
        let private = self.params.networking.mode == Mode::Private;
        let address = &im.node_port_address;
        let services = ServiceKind::ALL
            .into_iter()
            .map(|service| ServicePublishing {
                service,
                service_publishing_strategy: match (private, service) {
                    (true, _) => Publishing::NodePort {
                        address: address.clone(),
                        port: None,
                    },
                    (false, ServiceKind::ApiServer) => Publishing::LoadBalancer { hostname: None },
                    (false, _) => Publishing::Route { hostname: None },
                },
            })
            .collect();
        let mut networking = Networking::ovn(
            im.cluster_network.clone(),
            im.service_network.clone(),
            im.machine_network.clone(),
        );
        if private {
            networking.api_server =
                im.api_allowed_cidrs
                    .clone()
                    .map(|allowed_cidr_blocks| ApiServerNetworking {
                        allowed_cidr_blocks,
                    });
        }
        HostedCluster::new(
            self.meta(&self.names.hosted_cluster),
            HostedClusterSpec {
                release: Release {
                    image: self.release_image.to_owned(),
                },
                pull_secret: LocalRef::to(&self.names.pull_secret),
                ssh_key: self
                    .settings
                    .ssh_public_key
                    .as_ref()
                    .map(|_| LocalRef::to(&self.names.ssh_key)),
                dns: Dns {
                    base_domain: im.base_domain.clone(),
                },
                etcd: Etcd::managed(im.etcd_size.clone(), im.etcd_storage_class.as_deref()),
                networking,
                platform: im.platform.clone(),
                services,
                controller_availability_policy: im.availability,
                secret_encryption: SecretEncryption::aescbc(&self.names.encryption_key),
                configuration: Some(Configuration {
                    oauth: Some(OAuth {
                        identity_providers: vec![IdentityProvider::openid(OpenIdProvider {
                            name: &im.identity_provider_name,
                            issuer: &self.issuer,
                            client_id: &self.client_id(),
                            client_secret: &self.names.oidc_client_secret,
                            ca: self
                                .platform
                                .token_validation
                                .issuer_certificate_authority
                                .as_ref()
                                .map(|_| self.names.oidc_ca.as_str()),
                        })],
                    }),
                    api_server: api_dns_name.clone().map(|name| ApiServerConfiguration {
                        serving_certs: ServingCerts {
                            named_certificates: vec![NamedCertificate {
                                names: vec![name],
                                serving_certificate: LocalRef::to(&self.api_tls_secret()),
                            }],
                        },
                    }),
                }),
                kube_api_server_dns_name: api_dns_name,
            },
        )
    }

    /// The apps domain: observed, else derived from the base domain or the management
    /// cluster's apps domain.
    fn apps_domain(&self, observed: &ObservedHostedCluster) -> Option<String> {
        let cluster = &self.names.hosted_cluster;
        if let Some(domain) = observed.ingress_domain() {
            return Some(domain.to_owned());
        }
        if !self.immutable.base_domain.is_empty() {
            return Some(format!("apps.{cluster}.{}", self.immutable.base_domain));
        }
        match &self.immutable.platform.type_ {
            PlatformType::KubeVirt => self
                .settings
                .management_apps_domain
                .as_ref()
                .map(|d| format!("apps.{cluster}.{d}")),
            _ => None,
        }
    }

    /// The console's URL, once the control plane is available, and from then on: once a
    /// release has completed (`status.version.history`), a control plane that is unavailable
    /// for a while does not take the URL out of the connection Secret and the status.
    fn console_url(&self, observed: &ObservedHostedCluster) -> Option<String> {
        if !(observed.is_available() || observed.version().is_some()) {
            return None;
        }
        self.apps_domain(observed)
            .map(|d| format!("https://console-openshift-console.{d}"))
    }

    /// The CA of the admin kubeconfig HyperShift wrote, base64 (as kubeconfigs carry it).
    fn ca(&self, build: &Build<'_, Part>) -> Option<String> {
        let secret = build
            .required(names::ADMIN_KUBECONFIG_REQUIREMENT)?
            .first()
            .and_then(|s| serde_json::from_value::<ObservedSecret>(s.clone()).ok())?;
        let bytes = secret.data?.remove(hypershift::KUBECONFIG_KEY)?;
        let admin = Kubeconfig::parse(&bytes.0).ok()?;
        admin
            .clusters
            .into_iter()
            .next()?
            .cluster
            .get("certificate-authority-data")?
            .as_str()
            .map(str::to_owned)
    }

    /// The consumer's connection Secret, once the API endpoint is observed.
    fn connection(&self, build: &mut Build<'_, Part>, observed: &ObservedHostedCluster) {
        let Some(api) = observed.api_endpoint() else {
            build.wait(
                "WaitingForControlPlane",
                format!(
                    "HostedCluster {}/{} has no control plane endpoint yet; the connection Secret {} is written then",
                    self.namespace, self.names.hosted_cluster, self.names.connection
                ),
            );
            return;
        };
        use base64::Engine as _;
        let ca = self.ca(build);
        let mut data = vec![("apiEndpoint".to_owned(), Base64::from(api.clone()))];
        if let Some(console) = self.console_url(observed) {
            data.push(("consoleUrl".to_owned(), Base64::from(console)));
        }
        if let Some(ca) = &ca
            && let Ok(pem) = base64::engine::general_purpose::STANDARD.decode(ca)
        {
            data.push(("ca.crt".to_owned(), Base64(Cow::Owned(pem))));
        }
        data.push((
            "kubeconfig".to_owned(),
            Base64::from(self.consumer_kubeconfig(&api, ca).to_yaml()),
        ));
        let secret = Secret::new(self.meta(&self.names.connection), data);
        build.add_existing(names::CONNECTION, Part::Connection, &secret);
    }

    /// A kubeconfig with the server and CA, and a user without credentials.
    fn consumer_kubeconfig(&self, api: &str, ca: Option<String>) -> Kubeconfig {
        let mut cluster = Map::new();
        cluster.insert("server".into(), Value::String(api.to_owned()));
        if let Some(ca) = ca {
            cluster.insert("certificate-authority-data".into(), Value::String(ca));
        }
        let name = self.names.hosted_cluster.clone();
        Kubeconfig {
            api_version: "v1".into(),
            kind: "Config".into(),
            clusters: vec![NamedCluster {
                name: name.clone(),
                cluster,
            }],
            contexts: vec![NamedContext {
                name: name.clone(),
                context: KubeContext {
                    cluster: name.clone(),
                    user: "oauth".into(),
                    namespace: None,
                },
            }],
            current_context: name,
            users: vec![NamedUser {
                name: "oauth".into(),
                user: Map::new(),
            }],
        }
    }

    /// The Keycloak client ID of this cluster: `openshift-<project>-<clusterName>`, unique in
    /// the organisation's realm.
    fn client_id(&self) -> String {
        match &self.tenancy {
            Tenancy::Known { project, .. } => {
                format!("openshift-{project}-{}", self.names.hosted_cluster)
            }
            Tenancy::Pending => format!("openshift-{}", self.names.hosted_cluster),
        }
    }

    fn org(&self) -> &str {
        match &self.tenancy {
            Tenancy::Known { org, .. } => org,
            Tenancy::Pending => "",
        }
    }

    /// The confidential OIDC client in the organisation's realm and its groups mapper, once
    /// HyperShift reports the OAuth callback URL.
    fn keycloak(&self, build: &mut Build<'_, Part>, observed: &ObservedHostedCluster) {
        // HyperShift copies the callback template from the control plane's status, which is
        // empty again while a control plane is recreated (a restore): the client that exists
        // keeps the redirect URIs it has rather than being deleted and made anew with
        // another ID.
        let Some(redirect_uris) = observed
            .oauth_callback_url(&self.immutable.identity_provider_name)
            .map(|callback| vec![callback])
            .or_else(|| {
                build
                    .read::<keycloak::ObservedClient>(names::KEYCLOAK_CLIENT)
                    .map(keycloak::ObservedClient::into_redirect_uris)
                    .filter(|uris| !uris.is_empty())
            })
        else {
            build.wait(
                "WaitingForOAuthCallback",
                format!(
                    "HostedCluster {}/{} reports no OAuth callback URL yet; the Keycloak client in realm {} is created with it",
                    self.namespace,
                    self.names.hosted_cluster,
                    self.org()
                ),
            );
            return;
        };
        let config = ProviderConfig::Platform(self.platform.provider_configs.keycloak.clone());
        let realm = RealmId::existing(self.org());
        let client = Managed::new(
            self.meta(&names::object(&self.names.hosted_cluster, "oidc")),
            ConfidentialClientParameters::new(
                realm.clone(),
                &self.client_id(),
                SecretKeySelector::new(
                    &self.namespace,
                    &self.names.oidc_client_secret,
                    hypershift::CLIENT_SECRET_KEY,
                    Some(&self.namespace),
                ),
                redirect_uris,
            ),
            &config,
        );
        build.add_keycloak(names::KEYCLOAK_CLIENT, Part::Identity, &client);
        let mapper = Managed::new(
            self.meta(&names::object(&self.names.hosted_cluster, "oidc-groups")),
            keycloak::GroupMembershipProtocolMapperParameters {
                realm,
                client_id_ref: Reference::to(client.metadata.name.clone()),
                name: "groups".into(),
                claim_name: "groups".into(),
                full_path: false,
                add_to_id_token: true,
                add_to_access_token: true,
                add_to_userinfo: true,
            },
            &config,
        );
        build.add_keycloak(names::KEYCLOAK_GROUPS_MAPPER, Part::Identity, &mapper);
        if let Some(problem) = observed.identity_provider_problem() {
            build.wait(
                "InvalidIdentityProvider",
                format!(
                    "HyperShift cannot use realm {} as the cluster's identity provider, so nobody can sign in: {problem}; the cluster's nodes must reach {}",
                    self.org(),
                    self.issuer,
                ),
            );
        }
    }

    /// The provider config on the admin kubeconfig HyperShift reports, and through it the
    /// `sco-customer-admin` ClusterRole and a ClusterRoleBinding per role used, created once
    /// the cluster is available and kept from then on.
    fn access(
        &self,
        build: &mut Build<'_, Part>,
        observed: &ObservedHostedCluster,
        hosted_cluster: &HostedCluster,
    ) {
        let Some(kubeconfig) = observed.kubeconfig_secret() else {
            return;
        };
        let provider_config = pk::ProviderConfig::kubeconfig(
            self.meta(&self.names.provider_config),
            &self.namespace,
            kubeconfig,
            hypershift::KUBECONFIG_KEY,
        );
        build.add_existing(names::PROVIDER_CONFIG, Part::Access, &provider_config);
        self.usage(
            build,
            names::USAGE_HOSTED_CLUSTER_BY_PROVIDER_CONFIG,
            hosted_cluster,
            &provider_config,
        );
        let objects = self.access_objects();
        if objects.is_empty() {
            return;
        }
        let kept = objects.iter().map(|(composed, _)| composed.as_str());
        if !(build.exists(names::PROVIDER_CONFIG) && available_or_kept(build, observed, kept)) {
            build.wait(
                "WaitingForProviderConfig",
                format!(
                    "the provider config {} on the hosted cluster's admin kubeconfig does not exist yet, or the cluster is not available; the access bindings follow",
                    self.names.provider_config
                ),
            );
            return;
        }
        let pc = ProviderConfig::Composed(self.names.provider_config.clone());
        for (composed, object) in objects {
            self.in_cluster(
                build,
                &composed,
                object,
                &pc,
                hosted_cluster,
                &provider_config,
            );
        }
    }

    /// The access objects on the hosted cluster, by composition resource name: the
    /// `sco-customer-admin` ClusterRole when that role is used, and a ClusterRoleBinding per
    /// role used (customer-admin also binds `admin`).
    fn access_objects(&self) -> Vec<(String, AccessObject)> {
        let mut roles: std::collections::BTreeMap<Role, Vec<Subject>> = Default::default();
        for group in &self.params.access.groups {
            roles
                .entry(group.role)
                .or_default()
                .push(Subject::group(group.name.clone()));
        }
        let mut objects = Vec::new();
        if roles.contains_key(&Role::CustomerAdmin) {
            let role = ClusterRole::new(
                resources::meta(CUSTOMER_ADMIN_ROLE, None, &self.labels()),
                customer_admin_rules(),
            );
            objects.push((
                names::CUSTOMER_ADMIN_ROLE.to_owned(),
                AccessObject::Role(role),
            ));
        }
        for (role, mut subjects) in roles {
            subjects.sort_by(|a, b| a.name.cmp(&b.name));
            subjects.dedup_by(|a, b| a.name == b.name);
            let binding = ClusterRoleBinding::new(
                resources::meta(&format!("sco-{}", role.as_str()), None, &self.labels()),
                cluster_role(role),
                subjects.clone(),
            );
            objects.push((
                names::binding(role.as_str()),
                AccessObject::Binding(binding),
            ));
            if role == Role::CustomerAdmin {
                // customer-admin is admin in every namespace plus sco-customer-admin's
                // cluster-scoped rights.
                let binding = ClusterRoleBinding::new(
                    resources::meta("sco-customer-admin-admin", None, &self.labels()),
                    cluster_role(Role::Admin),
                    subjects,
                );
                objects.push((
                    names::binding("customer-admin-admin"),
                    AccessObject::Binding(binding),
                ));
            }
        }
        objects
    }

    /// An Object on the hosted cluster, kept by Usages until it is gone: the HostedCluster
    /// and the provider config outlive it.
    fn in_cluster<M: serde::Serialize>(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        manifest: M,
        pc: &ProviderConfig,
        hosted_cluster: &HostedCluster,
        provider_config: &pk::ProviderConfig,
    ) -> Object<M> {
        let object = Object::new(
            self.meta(&names::object(&self.names.hosted_cluster, composed)),
            manifest,
            pc,
            Readiness::SuccessfulCreate,
        );
        build.add_managed(composed, Part::Access, &object);
        self.usage(
            build,
            &names::usage(names::HOSTED_CLUSTER, composed),
            hosted_cluster,
            &object,
        );
        self.usage(
            build,
            &names::usage(names::PROVIDER_CONFIG, composed),
            provider_config,
            &object,
        );
        object
    }

    /// A Usage (in the XR's namespace) keeping `used` until `user` is gone.
    fn usage(
        &self,
        build: &mut Build<'_, Part>,
        composed: &str,
        used: &impl resources::Referable,
        user: &impl resources::Referable,
    ) {
        let name = names::object(
            &self.names.hosted_cluster,
            composed.trim_start_matches("usage-"),
        );
        build.usage(composed, Part::DeletionOrder, self.meta(&name), used, user);
    }

    fn status(&self, build: &Build<'_, Part>) -> OpenShiftClusterStatus {
        let observed = &self.seen;
        let ready = build.all_ready();
        let phase = if self.tenancy == Tenancy::Pending || !observed.is_available() {
            Phase::Initializing
        } else if ready {
            Phase::Ready
        } else {
            Phase::RegistrationPending
        };
        let message = match (phase, build.waiting()) {
            (Phase::Ready, _) => format!("cluster {} is ready", self.names.hosted_cluster),
            (_, Some(w)) => w.message.clone(),
            (Phase::Initializing, None) => observed.available_message().map_or_else(
                || "waiting for the hosted control plane to become available".to_owned(),
                |m| format!("waiting for the hosted control plane: {m}"),
            ),
            (Phase::RegistrationPending, None) => {
                let parts = [
                    (Part::Nodes, "the node pool's nodes to join"),
                    (Part::Identity, "the Keycloak client"),
                    (Part::Access, "the access bindings"),
                    (Part::Addons, "the add-ons (backup, DNS, TLS, bootstrap)"),
                    (Part::Connection, "the connection Secret"),
                    (Part::DeletionOrder, "the deletion-order Usages"),
                ];
                let pending: Vec<&str> = parts
                    .iter()
                    .filter(|(part, _)| {
                        !build.part_ready(*part)
                            && (*part != Part::Nodes || self.nodes.is_some())
                            && (*part != Part::Access || !self.params.access.groups.is_empty())
                            && (*part != Part::Addons || self.has_addons(build))
                    })
                    .map(|(_, what)| *what)
                    .collect();
                format!(
                    "the control plane is available; waiting for {}",
                    pending.join(", ")
                )
            }
        };
        OpenShiftClusterStatus {
            phase: Some(phase),
            ready,
            message: Some(message),
            version: observed.version().map(str::to_owned),
            console_url: self.console_url(observed),
            api_endpoint: observed.api_endpoint(),
        }
    }
}

/// A NodePool of `replicas` nodes for HostedCluster `cluster`, upgraded by `upgrade_type`,
/// KubeVirt root volumes of `storage_class` (else the default class).
pub fn node_pool(
    metadata: Meta,
    cluster: &str,
    replicas: u32,
    release_image: &str,
    nodes: &Nodes,
    storage_class: Option<&str>,
    upgrade_type: hypershift::UpgradeType,
) -> NodePool {
    let platform = match nodes {
        Nodes::KubeVirt {
            cores,
            memory,
            root_volume,
        } => NodePoolPlatform::kubevirt(KubevirtNode {
            cores: *cores,
            memory,
            root_volume,
            storage_class,
        }),
        Nodes::Agent(labels) => NodePoolPlatform::agent(labels.clone()),
        Nodes::None => NodePoolPlatform::none(),
    };
    NodePool::new(
        metadata,
        NodePoolSpec {
            cluster_name: cluster.to_owned(),
            replicas,
            release: Release {
                image: release_image.to_owned(),
            },
            management: Management { upgrade_type },
            platform,
        },
    )
}

/// Whether cert-manager reports the API server's Certificate `Ready`.
fn certificate_issued(build: &Build<'_, Part>) -> bool {
    build
        .read::<ObservedCertificate>(names::API_CERTIFICATE)
        .is_some_and(|c| c.is_ready())
}

/// Whether what waits for the cluster to be available may be composed: it is created once
/// HyperShift reports the cluster `Available`, and kept from then on (any of `composed`
/// observed), also while the cluster is reported unavailable (a control plane restart, an
/// upgrade): Crossplane deletes every composed resource a function leaves out.
fn available_or_kept<'n>(
    build: &Build<'_, Part>,
    observed: &ObservedHostedCluster,
    composed: impl IntoIterator<Item = &'n str>,
) -> bool {
    observed.is_available() || composed.into_iter().any(|name| build.exists(name))
}

/// An object of the cluster's access, as it is written into its Object.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum AccessObject {
    Role(ClusterRole),
    Binding(ClusterRoleBinding),
}

/// The OpenShift ClusterRole a role binds.
fn cluster_role(role: Role) -> &'static str {
    match role {
        Role::View => "view",
        Role::Edit => "edit",
        Role::Admin => "admin",
        Role::CustomerAdmin => CUSTOMER_ADMIN_ROLE,
    }
}

/// `sco-customer-admin`: what a customer's administrators need beyond `admin` in every
/// namespace (bound beside it): read the cluster-scoped state, create and delete namespaces
/// and projects, and install operators. No RBAC, node, storage or cluster-configuration
/// writes of its own; the cluster-wide `admin` beside it already amounts to cluster-admin
/// (see the module docs).
pub fn customer_admin_rules() -> Vec<PolicyRule> {
    const READ: &[&str] = &["get", "list", "watch"];
    const ALL: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    vec![
        PolicyRule::resources(&[""], &["nodes", "namespaces", "persistentvolumes"], READ),
        PolicyRule::resources(&[""], &["namespaces"], &["create", "delete"]),
        PolicyRule::resources(&["project.openshift.io"], &["projectrequests"], &["create"]),
        PolicyRule::resources(&["storage.k8s.io"], &["storageclasses"], READ),
        PolicyRule::resources(
            &["apiextensions.k8s.io"],
            &["customresourcedefinitions"],
            READ,
        ),
        PolicyRule::resources(
            &["config.openshift.io"],
            &["clusterversions", "clusteroperators"],
            READ,
        ),
        PolicyRule::resources(
            &["operators.coreos.com"],
            &[
                "subscriptions",
                "installplans",
                "operatorgroups",
                "clusterserviceversions",
            ],
            ALL,
        ),
        PolicyRule::resources(
            &["operators.coreos.com"],
            &["catalogsources", "operatorhubs"],
            READ,
        ),
        PolicyRule::resources(
            &["packages.operators.coreos.com"],
            &["packagemanifests"],
            READ,
        ),
    ]
}

/// This module's readers of observed state, with the kind each reads (checked against the
/// upstream schemas by [`crate::resources::readers`]).
#[cfg(test)]
pub(crate) fn readers() -> Vec<crate::resources::readers::Reader> {
    use crate::resources::hypershift;
    use crate::resources::readers::{Upstream, pointer, reader};
    let hosted = || Upstream::Kind(hypershift::API_VERSION.into(), "HostedCluster");
    vec![
        reader::<NamespaceLabels>("v1", "Namespace"),
        reader::<shape::ObservedShape>(hypershift::API_VERSION, "HostedCluster"),
        pointer(Upstream::Kind("v1".into(), "Namespace"), "/metadata/labels"),
        pointer(hosted(), "/metadata/name"),
        pointer(hosted(), "/metadata/namespace"),
    ]
}
