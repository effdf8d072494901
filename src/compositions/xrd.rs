//! CompositeResourceDefinitions generated from the typed XRs, so the schema published to
//! tenants, the validation it performs and the code that reads the XR cannot drift apart.
//!
//! Each XR is a `#[derive(CustomResource, JsonSchema)]` type; kube turns its doc comments,
//! serde defaults, enums and `#[schemars(...)]` validation into a structural OpenAPI schema,
//! which becomes the XRD's `openAPIV3Schema`.

use kube::core::CustomResourceExt;
use serde_json::{Value, json};

/// The Crossplane v2 XRD for the custom resource `K`.
pub fn definition<K: CustomResourceExt>() -> Value {
    let crd = serde_json::to_value(K::crd()).expect("CRDs serialise");
    let spec = &crd["spec"];
    let version = &spec["versions"][0];
    let mut served = json!({
        "name": version["name"],
        "served": true,
        "referenceable": true,
        "schema": {"openAPIV3Schema": version["schema"]["openAPIV3Schema"]},
    });
    if let Some(columns) = version
        .get("additionalPrinterColumns")
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
    {
        served["additionalPrinterColumns"] = columns.clone();
    }
    let mut names = json!({"kind": spec["names"]["kind"], "plural": spec["names"]["plural"]});
    for key in ["singular", "shortNames", "categories"] {
        if let Some(v) = spec["names"].get(key).filter(|v| !v.is_null()) {
            names[key] = v.clone();
        }
    }
    json!({
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": {
            "group": spec["group"],
            "names": names,
            "scope": spec["scope"],
            "versions": [served],
        },
    })
}

/// The XRD for the cluster-scoped custom resource `K` offering a claim `claim_kind`
/// (`claim_plural`). Crossplane v2 XRDs (`apiextensions.crossplane.io/v2`) refuse
/// `claimNames`, and only `LegacyCluster` XRs can be claimed, so this is an
/// `apiextensions.crossplane.io/v1` XRD with `scope: LegacyCluster`. The claim shares the
/// XR's categories (Crossplane adds `claim` to them), so `kubectl get sco` in a namespace
/// lists its claims beside the namespaced XRs.
pub fn definition_with_claim<K: CustomResourceExt>(claim_kind: &str, claim_plural: &str) -> Value {
    let mut xrd = definition::<K>();
    xrd["apiVersion"] = json!("apiextensions.crossplane.io/v1");
    xrd["spec"]["scope"] = json!("LegacyCluster");
    let mut claim = json!({
        "kind": claim_kind,
        "plural": claim_plural,
        "singular": claim_kind.to_ascii_lowercase(),
    });
    if let Some(categories) = xrd["spec"]["names"].get("categories") {
        claim["categories"] = categories.clone();
    }
    xrd["spec"]["claimNames"] = claim;
    xrd
}
