//! Core ResourceQuotas as the Project composes them: the per-namespace marker that has KubeVirt
//! give virt-launcher pods resource limits.
//!
//! A quota that constrains `limits.cpu` or `limits.memory` makes the API server refuse every pod
//! without such a limit ("must specify limits.cpu for: compute"). A VirtualMachine that takes
//! its size from an instance type may not carry limits (KubeVirt's admitter refuses
//! `domain.resources.limits` next to an instance type: `pkg/instancetype/apply` `cpu.go`,
//! `memory.go`; kubevirt/kubevirt#12720), so its `compute` container has none unless
//! virt-controller adds them. It does so, with AutoResourceLimits (GA and always on since
//! KubeVirt 1.5.0; before that the `AutoResourceLimitsGate` feature gate), only when a
//! *namespaced* ResourceQuota in the VM's namespace has the key in `spec.hard`
//! (`pkg/virt-controller/services/template.go`, `doesVMIRequireAutoResourceLimits`; the values
//! are not read): CPU limit = vCPUs, memory limit = request × 2 (or the namespace label
//! `alpha.kubevirt.io/auto-memory-limits-ratio`; `renderresources.go`, `WithAutoMemoryLimits`).
//! On OpenShift MTO enforces a Quota through a ClusterResourceQuota, which the API server applies
//! with the same pod constraints (openshift/apiserver-library-go `clusterresourcequota`
//! admission, the upstream quota evaluator) but which KubeVirt never looks at: without a
//! namespaced marker no VM of an instance type without dedicated CPUs starts under such a quota.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Meta;

/// The quota resources virt-controller looks for when it decides to set limits itself.
pub const KUBEVIRT_AUTO_LIMITS: [&str; 2] = ["limits.cpu", "limits.memory"];

/// A core/v1 ResourceQuota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuota {
    api_version: &'static str,
    kind: &'static str,
    /// metadata.
    pub metadata: Meta,
    /// spec.
    pub spec: ResourceQuotaSpec,
}

/// spec of a ResourceQuota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceQuotaSpec {
    /// Hard limits by resource name, as quantities.
    pub hard: BTreeMap<String, String>,
}

impl ResourceQuota {
    /// The KubeVirt marker for a namespace under `tenant_hard` (a tenant-wide quota's `hard`):
    /// its `limits.cpu` and `limits.memory` entries as they are, `None` when it has neither.
    /// The values are the tenant's totals, so in one of the tenant's namespaces this quota never
    /// binds before the tenant-wide one.
    pub fn kubevirt_limits(metadata: Meta, tenant_hard: &BTreeMap<String, String>) -> Option<Self> {
        let hard: BTreeMap<String, String> = KUBEVIRT_AUTO_LIMITS
            .iter()
            .filter_map(|key| Some(((*key).to_owned(), tenant_hard.get(*key)?.clone())))
            .collect();
        (!hard.is_empty()).then_some(Self {
            api_version: "v1",
            kind: "ResourceQuota",
            metadata,
            spec: ResourceQuotaSpec { hard },
        })
    }
}

referable! {
    impl for ResourceQuota;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, meta};
    use serde_json::json;

    fn hard(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_marker_holds_only_the_limits_kubevirt_reads() {
        let quota = ResourceQuota::kubevirt_limits(
            meta(
                "sco-kubevirt-limits",
                Some("ws-shop-vms"),
                &Labels::default(),
            ),
            &hard(&[
                ("requests.cpu", "4"),
                ("requests.memory", "8Gi"),
                ("limits.cpu", "8"),
                ("limits.memory", "16Gi"),
                ("limits.ephemeral-storage", "10Gi"),
            ]),
        )
        .expect("the profile has limits");
        assert_eq!(
            serde_json::to_value(&quota).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "sco-kubevirt-limits", "namespace": "ws-shop-vms"},
                "spec": {"hard": {"limits.cpu": "8", "limits.memory": "16Gi"}},
            })
        );
    }

    #[test]
    fn one_limit_is_enough_and_none_makes_no_marker() {
        let memory_only = ResourceQuota::kubevirt_limits(
            Meta::default(),
            &hard(&[("requests.cpu", "4"), ("limits.memory", "16Gi")]),
        )
        .expect("a memory limit");
        assert_eq!(memory_only.spec.hard, hard(&[("limits.memory", "16Gi")]));
        assert_eq!(
            ResourceQuota::kubevirt_limits(
                Meta::default(),
                &hard(&[("requests.cpu", "4"), ("requests.memory", "8Gi")])
            ),
            None
        );
    }
}
