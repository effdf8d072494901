//! OVN-Kubernetes `ClusterUserDefinedNetwork` (`k8s.ovn.org/v1`, cluster-scoped): the
//! project network, a primary Layer2 network over exactly the project's namespaces.
//!
//! From `ovn-kubernetes/ovn-kubernetes@8871cd9c`
//! `helm/ovn-kubernetes/crds/k8s.ovn.org_clusteruserdefinednetworks.yaml`:
//! - `spec.namespaceSelector` (a label selector) and `spec.network` are required;
//!   `network.topology` is `Layer2` | `Layer3` | `Localnet`, and `layer2` is required with
//!   `Layer2` and forbidden otherwise.
//! - `layer2.role` (`Primary` | `Secondary`) is required; `layer2.subnets` is 1–2 CIDRs (one
//!   per family), required unless `ipam.mode: Disabled` (Secondary only);
//!   `layer2.ipam.lifecycle: Persistent` keeps a VM's address across restarts and migration
//!   (only with `ipam.mode` `Enabled` or unset). The whole `layer2` is immutable.
//! - `status.conditions[]` carries `NetworkCreated`: `True` with reason
//!   `NetworkAttachmentDefinitionCreated` and the message `NetworkAttachmentDefinition has been
//!   created in following namespaces: [a, b]`, `False` with
//!   `NetworkAttachmentDefinitionDeleted` (a NAD being deleted),
//!   `NetworkAttachmentDefinitionSyncError` or `VTEPNotFound`
//!   (`go-controller/pkg/clustermanager/userdefinednetwork/controller.go`,
//!   `newClusterNetworkCreatedCondition`; `SyncError` is the namespaced `UserDefinedNetwork`'s).
//!   The controller lists only namespaces that exist, and reports `True` with `[]` before any
//!   does: the network is created before MTO creates the project's namespaces, so it counts as
//!   ready only once every one of them is listed. OVN-Kubernetes' own e2e check
//!   (`test/e2e/network_segmentation.go`, `validateClusterUDNStatusReportsActiveNamespacesFunc`)
//!   reads the condition the same way and accepts the type `NetworkReady` too, which this
//!   module does likewise.
//!
//! The namespace label [`PRIMARY_UDN_LABEL`] marks a namespace whose pods get a primary user
//! defined network instead of the cluster default network. It counts only when the namespace
//! is created: with network segmentation enabled a ValidatingAdmissionPolicy
//! `user-defined-networks-namespace-label` rejects every namespace UPDATE that adds or removes
//! it ("cannot be added/removed after the namespace was created"); the template is gated on
//! `OVN_NETWORK_SEGMENTATION_ENABLE`, and OVN-Kubernetes' network-segmentation e2e tests
//! assert that message (file path of the template not pinned: see the research note).
//! So the label must be in the Tenant's namespace metadata before MTO creates the namespaces,
//! and a network cannot be added to or removed from a project's existing namespaces.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Meta;
use super::condition::{self, Condition};
use super::net::Cidr;

/// apiVersion of the user-defined network kinds.
pub const API_VERSION: &str = "k8s.ovn.org/v1";
/// The namespace label (value `""`) asking for a primary user-defined network.
pub const PRIMARY_UDN_LABEL: &str = "k8s.ovn.org/primary-user-defined-network";
/// Whether an observed Namespace carries [`PRIMARY_UDN_LABEL`]: its pods (and VMs) are on a
/// primary user-defined network. OVN-Kubernetes reads it at creation only.
pub fn has_primary_udn_label(namespace: &serde_json::Value) -> bool {
    namespace
        .pointer("/metadata/labels")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|labels| labels.contains_key(PRIMARY_UDN_LABEL))
}

/// The label every namespace carries with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The condition reporting that the network exists in the selected namespaces.
pub const NETWORK_CREATED: &str = "NetworkCreated";
/// The same condition's other name, which OVN-Kubernetes' e2e tests accept too.
pub const NETWORK_READY: &str = "NetworkReady";

/// provider-kubernetes CEL readiness query for a wrapped ClusterUserDefinedNetwork: the
/// network condition is `True` and its message lists every one of `namespaces` (DNS labels:
/// no quoting needed, and none contains the list's delimiters).
pub fn network_created_query<S: AsRef<str>>(namespaces: &[S]) -> String {
    let listed: Vec<String> = namespaces
        .iter()
        .map(|ns| {
            let ns = ns.as_ref();
            format!(
                "(c.message.contains('[{ns}]') || c.message.contains('[{ns},') || c.message.contains(' {ns},') || c.message.contains(' {ns}]'))"
            )
        })
        .collect();
    let mut query = format!(
        "has(object.status) && has(object.status.conditions) && object.status.conditions.exists(c, (c.type == '{NETWORK_CREATED}' || c.type == '{NETWORK_READY}') && c.status == 'True'"
    );
    if !listed.is_empty() {
        query.push_str(" && has(c.message) && ");
        query.push_str(&listed.join(" && "));
    }
    query.push(')');
    query
}

/// A `ClusterUserDefinedNetwork`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterUserDefinedNetwork {
    /// `k8s.ovn.org/v1`.
    pub api_version: &'static str,
    /// `ClusterUserDefinedNetwork`.
    pub kind: &'static str,
    /// Metadata (cluster-scoped).
    pub metadata: Meta,
    /// Spec.
    pub spec: ClusterUserDefinedNetworkSpec,
}

/// `spec` of a ClusterUserDefinedNetwork.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterUserDefinedNetworkSpec {
    /// The namespaces the network is for.
    pub namespace_selector: NamespaceSelector,
    /// The network.
    pub network: Network,
}

/// A label selector over namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Requirements (ANDed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
    /// Labels that must all match.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: &'static str,
    /// The values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl NamespaceSelector {
    /// Exactly the namespaces called `names` (by `kubernetes.io/metadata.name In [...]`),
    /// sorted so the selector is stable.
    pub fn names<S: AsRef<str>>(names: &[S]) -> Self {
        let mut values: Vec<String> = names.iter().map(|n| n.as_ref().to_owned()).collect();
        values.sort();
        values.dedup();
        Self {
            match_expressions: vec![Requirement {
                key: NAMESPACE_NAME_LABEL.to_owned(),
                operator: "In",
                values,
            }],
            match_labels: BTreeMap::new(),
        }
    }

    /// The namespaces with all these labels.
    pub fn labels(labels: BTreeMap<String, String>) -> Self {
        Self {
            match_expressions: Vec::new(),
            match_labels: labels,
        }
    }
}

/// `spec.network` of a ClusterUserDefinedNetwork, Layer2 only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    /// `Layer2`.
    pub topology: &'static str,
    /// The Layer2 settings.
    pub layer2: Layer2,
}

/// `spec.network.layer2`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer2 {
    /// `Primary` or `Secondary`.
    pub role: Role,
    /// One subnet per IP family.
    pub subnets: Vec<Cidr>,
    /// Address management.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
}

/// `layer2.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// The pods' default network in the selected namespaces.
    Primary,
    /// An extra network pods attach to by annotation.
    Secondary,
}

/// `layer2.ipam`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipam {
    /// `Persistent`: addresses survive VM restarts and live migration.
    pub lifecycle: &'static str,
}

impl ClusterUserDefinedNetwork {
    /// A primary Layer2 network over `subnets` with persistent IPAM.
    pub fn primary_layer2(
        metadata: Meta,
        namespace_selector: NamespaceSelector,
        subnets: Vec<Cidr>,
    ) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "ClusterUserDefinedNetwork",
            metadata,
            spec: ClusterUserDefinedNetworkSpec {
                namespace_selector,
                network: Network {
                    topology: "Layer2",
                    layer2: Layer2 {
                        role: Role::Primary,
                        subnets,
                        ipam: Some(Ipam {
                            lifecycle: "Persistent",
                        }),
                    },
                },
            },
        }
    }
}

referable! {
    impl for ClusterUserDefinedNetwork;
}

/// What OVN-Kubernetes reports about a ClusterUserDefinedNetwork: `status.conditions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedClusterUserDefinedNetwork {
    status: Option<ObservedStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
}

impl ObservedClusterUserDefinedNetwork {
    /// The `NetworkCreated` (or `NetworkReady`) condition, once reported.
    pub fn network_created(&self) -> Option<&Condition> {
        let conditions = self.status.as_ref().map_or(&[][..], |s| &s.conditions);
        condition::find(conditions, NETWORK_CREATED)
            .or_else(|| condition::find(conditions, NETWORK_READY))
    }

    /// The namespaces a `True` condition lists as having the network.
    pub fn created_in(&self) -> Vec<&str> {
        self.network_created()
            .filter(|c| c.is_true())
            .and_then(|c| c.message.rsplit_once('['))
            .and_then(|(_, list)| list.strip_suffix(']'))
            .map(|list| list.split(", ").filter(|ns| !ns.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Whether the condition is `True` and lists every one of `namespaces`.
    pub fn is_ready<S: AsRef<str>>(&self, namespaces: &[S]) -> bool {
        let created = self.created_in();
        self.network_created().is_some_and(Condition::is_true)
            && namespaces.iter().all(|ns| created.contains(&ns.as_ref()))
    }

    /// Why the network is not created, when `NetworkCreated` is `False` (reason: message).
    pub fn failure(&self) -> Option<String> {
        let created = self.network_created().filter(|c| c.status == "False")?;
        Some(format!("{}: {}", created.reason, created.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::{Value, json};

    #[test]
    fn primary_layer2_over_named_namespaces() {
        let cudn = ClusterUserDefinedNetwork::primary_layer2(
            meta("shop", None, &Labels::default()),
            NamespaceSelector::names(&["ws-shop-vms", "ws-shop-clusters", "ws-shop-vms"]),
            vec!["10.0.0.0/16".parse().unwrap()],
        );
        assert_eq!(
            serde_json::to_value(&cudn).unwrap(),
            json!({
                "apiVersion": "k8s.ovn.org/v1",
                "kind": "ClusterUserDefinedNetwork",
                "metadata": {"name": "shop"},
                "spec": {
                    "namespaceSelector": {"matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ws-shop-clusters", "ws-shop-vms"]},
                    ]},
                    "network": {"topology": "Layer2", "layer2": {
                        "role": "Primary",
                        "subnets": ["10.0.0.0/16"],
                        "ipam": {"lifecycle": "Persistent"},
                    }},
                },
            })
        );
        assert_eq!(cudn.kind(), "ClusterUserDefinedNetwork");
        let by_label = NamespaceSelector::labels(BTreeMap::from([(
            "stakater.com/tenant".to_owned(),
            "shop".to_owned(),
        )]));
        assert_eq!(
            serde_json::to_value(by_label).unwrap(),
            json!({"matchLabels": {"stakater.com/tenant": "shop"}})
        );
    }

    fn conditioned(type_: &str, status: &str, reason: &str, message: &str) -> Value {
        json!({"status": {"conditions": [
            {"type": type_, "status": status, "reason": reason, "message": message},
        ]}})
    }

    #[test]
    fn network_created_condition() {
        let read = |v| serde_json::from_value::<ObservedClusterUserDefinedNetwork>(v).unwrap();
        let message = |list: &str| {
            format!(
                "NetworkAttachmentDefinition has been created in following namespaces: [{list}]"
            )
        };
        let both = ["ws-shop-vms", "ws-shop-clusters"];
        let ok = "NetworkAttachmentDefinitionCreated";
        let created = read(conditioned(
            "NetworkCreated",
            "True",
            ok,
            &message("ws-shop-clusters, ws-shop-vms"),
        ));
        assert!(created.is_ready(&both));
        assert_eq!(created.created_in(), ["ws-shop-clusters", "ws-shop-vms"]);
        assert_eq!(created.failure(), None);
        // Before MTO creates the namespaces the controller reports True over none of them.
        let before = read(conditioned("NetworkCreated", "True", ok, &message("")));
        assert!(before.created_in().is_empty());
        assert!(!before.is_ready(&both) && before.is_ready::<&str>(&[]));
        let partly = read(conditioned(
            "NetworkCreated",
            "True",
            ok,
            &message("ws-shop-vms"),
        ));
        assert!(!partly.is_ready(&both));
        // A name that only contains an expected one does not count for it.
        let longer = read(conditioned(
            "NetworkCreated",
            "True",
            ok,
            &message("ws-shop-vms2, ws-shop-clusters"),
        ));
        assert!(!longer.is_ready(&both));
        let other_type = read(conditioned(
            "NetworkReady",
            "True",
            ok,
            &message("ws-shop-clusters, ws-shop-vms"),
        ));
        assert!(other_type.is_ready(&both));
        let failed = read(conditioned(
            "NetworkCreated",
            "False",
            "NetworkAttachmentDefinitionSyncError",
            "namespace not labelled",
        ));
        assert!(!failed.is_ready::<&str>(&[]));
        assert_eq!(
            failed.failure().as_deref(),
            Some("NetworkAttachmentDefinitionSyncError: namespace not labelled")
        );
        let pending = ObservedClusterUserDefinedNetwork::default();
        assert_eq!(
            (pending.is_ready::<&str>(&[]), pending.failure()),
            (false, None)
        );
    }

    #[test]
    fn readiness_query_names_every_namespace() {
        let query = network_created_query(&["ws-shop-vms"]);
        assert!(query.contains("c.type == 'NetworkCreated' || c.type == 'NetworkReady'"));
        for token in [
            "'[ws-shop-vms]'",
            "'[ws-shop-vms,'",
            "' ws-shop-vms,'",
            "' ws-shop-vms]'",
        ] {
            assert!(query.contains(token), "{token} in {query}");
        }
        assert!(!network_created_query::<&str>(&[]).contains("message"));
    }
}
