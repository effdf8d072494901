//! Names of the OpenShiftCluster's composed resources (stable: Crossplane matches desired to
//! observed resources by them) and of the objects, derived from the XR and `clusterName`.

use crate::compositions::conventions;
use crate::sdk::resource::DNS_LABEL_MAX;

/// The HostedCluster.
pub const HOSTED_CLUSTER: &str = "hosted-cluster";
/// The default NodePool.
pub const DEFAULT_NODE_POOL: &str = "node-pool-default";
/// The pull secret copied from the step's credential.
pub const PULL_SECRET: &str = "pull-secret";
/// The etcd encryption key Secret.
pub const ENCRYPTION_KEY: &str = "etcd-encryption-key";
/// The SSH key Secret.
pub const SSH_KEY: &str = "ssh-key";
/// The consumer connection Secret.
pub const CONNECTION: &str = "connection";
/// The requirement fetching the XR's namespace (its MTO labels).
pub const NAMESPACE_REQUIREMENT: &str = "namespace";
/// The requirement fetching the admin kubeconfig Secret HyperShift writes.
pub const ADMIN_KUBECONFIG_REQUIREMENT: &str = "admin-kubeconfig";
/// Requirement: the namespace HyperShift will put the control plane in, before it does.
pub const CONTROL_PLANE_NAMESPACE_REQUIREMENT: &str = "control-plane-namespace";
/// Requirement: the HostedClusters SCO composed in the XR's namespace (the etcd backup's).
pub const NAMESPACE_HOSTED_CLUSTERS_REQUIREMENT: &str = "namespace-hosted-clusters";
/// The OIDC client secret Secret (key `clientSecret`) the identity provider reads.
pub const OIDC_CLIENT_SECRET: &str = "oidc-client-secret";
/// The CA ConfigMap (key `ca.crt`) the identity provider reads, when Keycloak's CA is private.
pub const OIDC_CA: &str = "oidc-ca";
/// The Keycloak OIDC client in the organisation's realm.
pub const KEYCLOAK_CLIENT: &str = "keycloak-client";
/// Its groups mapper.
pub const KEYCLOAK_GROUPS_MAPPER: &str = "keycloak-groups-mapper";
/// The provider-kubernetes ProviderConfig on the hosted cluster's admin kubeconfig.
pub const PROVIDER_CONFIG: &str = "provider-config";
/// The `sco-customer-admin` ClusterRole on the hosted cluster (an Object).
pub const CUSTOMER_ADMIN_ROLE: &str = "role-customer-admin";
/// The OADP/Velero Schedule backing up the control plane (an Object).
pub const BACKUP: &str = "etcd-backup";
/// The DNSEndpoint of the names under the base domain.
pub const DNS: &str = "dns";
/// The guest's router NodePort Service, observed on the hosted cluster (an Object).
pub const GUEST_ROUTER: &str = "guest-router-nodeports";
/// The LoadBalancer Service in the control plane namespace forwarding to the guest's router
/// (an Object; KubeVirt with a base domain).
pub const INGRESS_SERVICE: &str = "ingress-service";
/// The Certificate of the custom API server name.
pub const API_CERTIFICATE: &str = "api-certificate";
/// The provider-helm ProviderConfig on the admin kubeconfig.
pub const HELM_PROVIDER_CONFIG: &str = "helm-provider-config";
/// Usage: the HostedCluster outlives the helm provider config.
pub const USAGE_HOSTED_CLUSTER_BY_HELM_PROVIDER_CONFIG: &str =
    "usage-hosted-cluster-by-helm-provider-config";

/// A bootstrap Helm release.
pub fn release(name: &str) -> String {
    format!("release-{name}")
}

/// A bootstrap namespace (an Object).
pub fn namespace(name: &str) -> String {
    format!("namespace-{name}")
}

/// Usage: the HostedCluster outlives the provider config built from its kubeconfig.
pub const USAGE_HOSTED_CLUSTER_BY_PROVIDER_CONFIG: &str = "usage-hosted-cluster-by-provider-config";

/// The access binding (an Object) of role `role`.
pub fn binding(role: &str) -> String {
    format!("binding-{role}")
}

/// The Usage keeping `used` until `user` is gone.
pub fn usage(used: &str, user: &str) -> String {
    format!("usage-{used}-by-{user}")
}

/// Usage: the HostedCluster outlives the default NodePool.
pub const USAGE_HOSTED_CLUSTER_BY_NODE_POOL: &str = "usage-hosted-cluster-by-node-pool-default";

/// The name of a composed object of the cluster: `<clusterName>-<suffix>`.
pub fn object(cluster: &str, suffix: &str) -> String {
    conventions::name(&[cluster, suffix])
}

/// Helm's limit for release names (`maxReleaseNameLen` in `helm/helm`
/// `pkg/chartutil/validate_name.go`); provider-helm names a release after its object.
pub const HELM_RELEASE_NAME_MAX: usize = 53;

/// The `Release` object of bootstrap chart `chart`: `<cluster>-<chart>`, cut to Helm's 53
/// characters with a hash suffix when longer (a longer name is refused on every install).
pub fn release_object(cluster: &str, chart: &str) -> String {
    crate::sdk::resource::child_name(&[cluster, chart], HELM_RELEASE_NAME_MAX)
}

/// Object names, derived from `clusterName` (objects in the XR's namespace that HyperShift
/// reads by reference) and the XR's name (the consumer's Secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The HostedCluster (`clusterName`).
    pub hosted_cluster: String,
    /// The hosted control plane's namespace `<namespace>-<clusterName>`.
    pub control_plane_namespace: String,
    /// The default NodePool.
    pub node_pool: String,
    /// The pull secret.
    pub pull_secret: String,
    /// The etcd encryption key Secret.
    pub encryption_key: String,
    /// The SSH key Secret.
    pub ssh_key: String,
    /// The connection Secret.
    pub connection: String,
    /// The OIDC client secret Secret.
    pub oidc_client_secret: String,
    /// The CA ConfigMap.
    pub oidc_ca: String,
    /// The provider config on the hosted cluster.
    pub provider_config: String,
}

impl Names {
    /// The names for cluster `cluster` of XR `xr` in `namespace`; `Err` with the length
    /// when the control plane namespace would exceed a DNS label.
    pub fn of(xr: &str, namespace: &str, cluster: &str) -> Result<Self, usize> {
        let control_plane_namespace = format!("{namespace}-{cluster}");
        if control_plane_namespace.len() > DNS_LABEL_MAX {
            return Err(control_plane_namespace.len());
        }
        Ok(Self {
            hosted_cluster: cluster.to_owned(),
            control_plane_namespace,
            node_pool: conventions::name(&[cluster, "default"]),
            pull_secret: conventions::name(&[cluster, "pull-secret"]),
            encryption_key: conventions::name(&[cluster, "etcd-encryption-key"]),
            ssh_key: conventions::name(&[cluster, "ssh-key"]),
            connection: conventions::name(&[xr, "connection"]),
            oidc_client_secret: conventions::name(&[cluster, "oidc-client"]),
            oidc_ca: conventions::name(&[cluster, "oidc-ca"]),
            provider_config: conventions::name(&[cluster, "admin"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_objects_fit_helm_release_names() {
        assert_eq!(release_object("prod", "argocd"), "prod-argocd");
        let long = release_object(&"c".repeat(43), "crossplane");
        assert!(long.len() <= HELM_RELEASE_NAME_MAX, "{long}");
        assert_ne!(long, release_object(&"c".repeat(43), "crossplane-x"));
    }
}
