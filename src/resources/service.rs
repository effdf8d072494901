//! Services as the compositions compose them: metadata, type, one selector label and TCP
//! ports (k8s-openapi's `Service` would own a copy of each and of the labels).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::Meta;

/// A core/v1 Service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service<'a> {
    api_version: &'static str,
    kind: &'static str,
    /// metadata.
    pub metadata: Meta,
    /// spec.
    pub spec: ServiceSpec<'a>,
}

impl<'a> Service<'a> {
    /// A Service of `type_` sending `ports` to the pods labelled `selector`.
    pub fn new(
        metadata: Meta,
        type_: ServiceType,
        selector: (&'a str, &'a str),
        ports: Vec<ServicePort<'a>>,
    ) -> Self {
        Self {
            api_version: "v1",
            kind: "Service",
            metadata,
            spec: ServiceSpec {
                type_,
                selector: Selector(selector),
                ports,
            },
        }
    }
}

/// `spec` of a Service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec<'a> {
    /// How the Service is exposed.
    #[serde(rename = "type")]
    pub type_: ServiceType,
    /// The label selecting the Service's pods.
    pub selector: Selector<'a>,
    /// The ports.
    pub ports: Vec<ServicePort<'a>>,
}

/// `spec.type` of a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServiceType {
    /// A cluster-internal virtual IP.
    ClusterIP,
    /// A cluster IP plus an external load balancer.
    LoadBalancer,
}

/// A selector of one label, written as the map `{key: value}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector<'a>(pub (&'a str, &'a str));

impl Serialize for Selector<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0.0, self.0.1)?;
        map.end()
    }
}

/// A TCP port of a Service, sent to the same port number on the pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort<'a> {
    /// The port's name.
    pub name: &'a str,
    /// `TCP`.
    protocol: &'static str,
    /// The port number.
    pub port: u16,
    /// The pods' port number.
    target_port: u16,
}

impl<'a> ServicePort<'a> {
    /// TCP port `port` named `name`, to the same port on the pods.
    pub fn tcp(name: &'a str, port: u16) -> Self {
        Self::tcp_to(name, port, port)
    }

    /// TCP port `port` named `name`, to port `target` on the pods.
    pub fn tcp_to(name: &'a str, port: u16, target: u16) -> Self {
        Self {
            name,
            protocol: "TCP",
            port,
            target_port: target,
        }
    }
}

/// An address of a Service: an IP, a host name, or both (a load balancer ingress point has
/// this shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Address {
    /// The IP address.
    pub ip: Option<String>,
    /// The host name.
    pub hostname: Option<String>,
}

impl Address {
    /// The IP, else the host name.
    pub fn host(&self) -> &str {
        self.ip
            .as_deref()
            .or(self.hostname.as_deref())
            .unwrap_or_default()
    }
}

/// What is read of an observed Service: its cluster IP and its load balancer's ingress
/// points, nothing else.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObservedService {
    spec: Option<ObservedServiceSpec>,
    status: Option<ObservedServiceStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedServiceSpec {
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(default)]
    ports: Vec<ObservedPort>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedPort {
    #[serde(default)]
    name: String,
    node_port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
struct ObservedServiceStatus {
    load_balancer: Option<ObservedLoadBalancer>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
struct ObservedLoadBalancer {
    ingress: Option<Vec<Address>>,
}

fn present(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

impl ObservedService {
    /// The cluster IP, once assigned (a headless Service's `None` is none).
    pub fn cluster_ip(&self) -> Option<Address> {
        let ip = self
            .spec
            .as_ref()
            .and_then(|s| present(&s.cluster_ip))
            .filter(|ip| ip != "None")?;
        Some(Address {
            ip: Some(ip),
            hostname: None,
        })
    }

    /// The node port of the port named `name`, once allocated.
    pub fn node_port(&self, name: &str) -> Option<u16> {
        self.spec
            .as_ref()?
            .ports
            .iter()
            .find(|p| p.name == name)?
            .node_port
            .filter(|p| *p > 0)
    }

    /// The first load balancer ingress point with an IP or host name.
    pub fn load_balancer(&self) -> Option<Address> {
        self.status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            .map(|ingress| Address {
                ip: present(&ingress.ip),
                hostname: present(&ingress.hostname),
            })
            .find(|a| a.ip.is_some() || a.hostname.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Labels, meta};
    use k8s_openapi::api::core::v1 as k8s;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use std::collections::BTreeMap;

    #[test]
    fn it_writes_what_k8s_openapi_writes() {
        let labels = Labels::from(BTreeMap::from([("app".to_owned(), "web".to_owned())]));
        let metadata = meta("web-ssh", Some("team"), &labels);
        let ours = Service::new(
            metadata.clone(),
            ServiceType::LoadBalancer,
            ("vm", "web"),
            vec![ServicePort::tcp("ssh", 22)],
        );
        let theirs = k8s::Service {
            metadata: metadata.into(),
            spec: Some(k8s::ServiceSpec {
                type_: Some("LoadBalancer".to_owned()),
                selector: Some(BTreeMap::from([("vm".to_owned(), "web".to_owned())])),
                ports: Some(vec![k8s::ServicePort {
                    name: Some("ssh".to_owned()),
                    protocol: Some("TCP".to_owned()),
                    port: 22,
                    target_port: Some(IntOrString::Int(22)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&ours).unwrap(),
            serde_json::to_value(&theirs).unwrap()
        );
    }

    #[test]
    fn addresses_come_from_the_cluster_ip_or_the_load_balancer() {
        let service = |v: serde_json::Value| serde_json::from_value::<ObservedService>(v).unwrap();
        let private = service(
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "spec": {"clusterIP": "172.30.1.2"}}),
        );
        assert_eq!(private.cluster_ip().unwrap().host(), "172.30.1.2");
        assert_eq!(private.load_balancer(), None);
        let headless = service(
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "spec": {"clusterIP": "None"}}),
        );
        assert_eq!(headless.cluster_ip(), None);
        let lb = |ingress: serde_json::Value| {
            service(
                serde_json::json!({"apiVersion": "v1", "kind": "Service", "status": {"loadBalancer": {"ingress": ingress}}}),
            )
        };
        let by_name = lb(serde_json::json!([{"hostname": "vm.lb.example.com"}]))
            .load_balancer()
            .unwrap();
        assert_eq!(
            (by_name.host(), by_name.ip.as_deref()),
            ("vm.lb.example.com", None)
        );
        let both = lb(serde_json::json!([{"ip": "203.0.113.7", "hostname": "vm.lb.example.com"}]))
            .load_balancer()
            .unwrap();
        assert_eq!(both.host(), "203.0.113.7");
        assert_eq!(lb(serde_json::json!([])).load_balancer(), None);
    }

    #[test]
    fn a_zero_node_port_is_not_allocated() {
        let s: ObservedService = serde_json::from_value(serde_json::json!({"spec": {"ports": [
            {"name": "http", "nodePort": 0}, {"name": "https", "nodePort": 30443}]}}))
        .unwrap();
        assert_eq!(s.node_port("http"), None);
        assert_eq!(s.node_port("https"), Some(30443));
    }
}
