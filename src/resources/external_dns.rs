//! external-dns: the `DNSEndpoint` (`externaldns.k8s.io/v1alpha1`, namespaced) that asks
//! external-dns's CRD source to publish DNS records.
//!
//! Fields follow `kubernetes-sigs/external-dns@2bf1bf8a`
//! `config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml` and, as read at `@00fde1e5`,
//! `endpoint/endpoint.go` (`Endpoint{DNSName, Targets, RecordType, SetIdentifier, RecordTTL,
//! Labels, ProviderSpecific}`): `recordTTL` is in seconds and only counts when above 0 (0 or
//! omitted leaves the provider's default); `NewEndpoint` refuses a name with a label longer than
//! 63 characters and trims trailing dots. external-dns reads DNSEndpoints only when started with
//! `--source=crd`, and owns records through its TXT registry, so a deleted DNSEndpoint's records
//! are removed. Only A and CNAME records are built here: an A record's targets are IPv4
//! addresses, a CNAME has one hostname.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::Meta;

/// apiVersion of the `DNSEndpoint`.
pub const API_VERSION: &str = "externaldns.k8s.io/v1alpha1";

/// The record types the compositions publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordType {
    /// An IPv4 address record.
    A,
    /// An alias to another hostname.
    #[serde(rename = "CNAME")]
    Cname,
}

/// A `DNSEndpoint`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsEndpoint {
    /// `externaldns.k8s.io/v1alpha1`.
    pub api_version: &'static str,
    /// `DNSEndpoint`.
    pub kind: &'static str,
    /// Metadata (namespaced).
    pub metadata: Meta,
    /// Spec.
    pub spec: DnsEndpointSpec,
}

/// `spec` of a DNSEndpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsEndpointSpec {
    /// The records.
    pub endpoints: Vec<Endpoint>,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The hostname (`api.dev.example.com`, `*.apps.dev.example.com`).
    pub dns_name: String,
    /// The record type.
    pub record_type: RecordType,
    /// IPv4 addresses (A) or the one hostname (CNAME).
    pub targets: Vec<String>,
    /// TTL in seconds; `None` leaves the provider's default (external-dns ignores 0).
    #[serde(rename = "recordTTL", skip_serializing_if = "Option::is_none")]
    pub record_ttl: Option<NonZeroU32>,
}

impl Endpoint {
    /// An A record for `dns_name` to `addresses` (sorted and deduplicated, so the output does
    /// not depend on the order addresses were observed in).
    pub fn a(dns_name: &str, addresses: &[String], record_ttl: Option<NonZeroU32>) -> Self {
        let mut targets = addresses.to_vec();
        targets.sort();
        targets.dedup();
        Self {
            dns_name: dns_name.to_owned(),
            record_type: RecordType::A,
            targets,
            record_ttl,
        }
    }

    /// A CNAME record for `dns_name` to `hostname`.
    pub fn cname(dns_name: &str, hostname: &str, record_ttl: Option<NonZeroU32>) -> Self {
        Self {
            dns_name: dns_name.to_owned(),
            record_type: RecordType::Cname,
            targets: vec![hostname.to_owned()],
            record_ttl,
        }
    }
}

impl DnsEndpoint {
    /// A DNSEndpoint publishing `endpoints`.
    pub fn new(metadata: Meta, endpoints: Vec<Endpoint>) -> Self {
        Self {
            api_version: API_VERSION,
            kind: "DNSEndpoint",
            metadata,
            spec: DnsEndpointSpec { endpoints },
        }
    }
}

referable! {
    impl for DnsEndpoint;
}

/// What external-dns reports about a DNSEndpoint: `status.observedGeneration`, the CRD's only
/// status field, which the CRD source (`source/crd.go` `Endpoints`) writes while it lists the
/// objects, before the plan is computed and before any provider call (`controller/controller.go`
/// `RunOnce`), and even when it drops an invalid endpoint. It says nothing about the DNS
/// provider having taken the records (external-dns#2941 asks for that), so it means accepted,
/// not published: callers treat it as progress, not as proof the names resolve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ObservedDnsEndpoint {
    metadata: Option<ObservedMeta>,
    status: Option<ObservedDnsStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedMeta {
    generation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedDnsStatus {
    observed_generation: Option<i64>,
}

impl ObservedDnsEndpoint {
    /// Whether external-dns has read (accepted) the current generation.
    pub fn is_accepted(&self) -> bool {
        let generation = self.metadata.as_ref().and_then(|m| m.generation);
        let observed = self.status.as_ref().and_then(|s| s.observed_generation);
        generation.is_some() && generation == observed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, Referable, meta};
    use serde_json::json;

    #[test]
    fn api_and_apps_records() {
        let endpoint = DnsEndpoint::new(
            meta("dev-dns", Some("ws-shop-clusters"), &Labels::default()),
            vec![
                Endpoint::a(
                    "api.dev.example.com",
                    &[
                        "192.0.2.20".into(),
                        "192.0.2.10".into(),
                        "192.0.2.20".into(),
                    ],
                    NonZeroU32::new(300),
                ),
                Endpoint::cname("*.apps.dev.example.com", "lb.example.net", None),
            ],
        );
        assert_eq!(
            (endpoint.api_version(), endpoint.kind()),
            (API_VERSION, "DNSEndpoint")
        );
        assert_eq!(
            serde_json::to_value(&endpoint).unwrap()["spec"],
            json!({"endpoints": [
                {"dnsName": "api.dev.example.com", "recordType": "A", "targets": ["192.0.2.10", "192.0.2.20"], "recordTTL": 300},
                {"dnsName": "*.apps.dev.example.com", "recordType": "CNAME", "targets": ["lb.example.net"]},
            ]})
        );
    }

    #[test]
    fn synced_once_the_generation_is_observed() {
        let read = |v| serde_json::from_value::<ObservedDnsEndpoint>(v).unwrap();
        assert!(
            read(json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2}}))
                .is_accepted()
        );
        assert!(
            !read(json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}}))
                .is_accepted()
        );
        assert!(!read(json!({"metadata": {"generation": 1}})).is_accepted());
        assert!(!read(json!({})).is_accepted());
    }
}
