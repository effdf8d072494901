//! IP networks in CIDR notation, for the subnets a project network claims.
//!
//! OVN-Kubernetes checks `layer2.subnets` with CEL `isCIDR(self)` only, and a host-bits-set value
//! such as `10.0.0.1/16` passes that check (the CRD insists on a masked address only for
//! `reservedSubnets` and `infrastructureSubnets`: `ovn-kubernetes/ovn-kubernetes@8871cd9c`
//! `helm/ovn-kubernetes/crds/k8s.ovn.org_clusteruserdefinednetworks.yaml`). A network given
//! by a user is therefore parsed here, refusing host bits, so that two projects' networks can
//! be compared with [`Cidr::overlaps`] and the value written is canonical.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network: a network address and a prefix length, no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    address: IpAddr,
    prefix: u8,
}

/// Why a string is not a network in CIDR notation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// No `/` between address and prefix length.
    #[error("{0:?} is not in CIDR notation (address/prefix)")]
    Notation(String),
    /// The part before `/` is not an IP address.
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    Address(String),
    /// The prefix length is not a number up to 32 (IPv4) or 128 (IPv6).
    #[error("{0:?} is not a prefix length for this address family")]
    Prefix(String),
    /// The address has bits set beyond the prefix; the network address is given.
    #[error("{given} has host bits set; the network is {network}")]
    HostBits {
        /// What was given.
        given: String,
        /// The network it lies in.
        network: Cidr,
    },
}

impl Cidr {
    /// The network address.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether this is an IPv6 network.
    pub fn is_ipv6(&self) -> bool {
        self.address.is_ipv6()
    }

    /// Whether the two networks share an address. Networks of different families never do.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.is_ipv6() != other.is_ipv6() {
            return false;
        }
        let shorter = self.prefix.min(other.prefix);
        let width = self.width();
        mask(bits(self.address), shorter, width) == mask(bits(other.address), shorter, width)
    }

    /// Whether `other` lies inside this network.
    pub fn contains(&self, other: &Cidr) -> bool {
        self.prefix <= other.prefix && self.overlaps(other)
    }

    fn width(&self) -> u8 {
        if self.is_ipv6() { 128 } else { 32 }
    }
}

/// The address as an unsigned integer of its family's width.
fn bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `value` with all but its first `prefix` of `width` bits cleared.
fn mask(value: u128, prefix: u8, width: u8) -> u128 {
    let host = u32::from(width - prefix);
    if host >= 128 {
        0
    } else {
        value >> host << host
    }
}

fn address_of(value: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::from(value.to_be_bytes())
    } else {
        // The value came from a u32 and was only masked.
        IpAddr::from(u32::try_from(value).unwrap_or_default().to_be_bytes())
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = s
            .split_once('/')
            .ok_or_else(|| CidrError::Notation(s.to_owned()))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| CidrError::Address(address.to_owned()))?;
        let width = if address.is_ipv6() { 128 } else { 32 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= width && prefix.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| CidrError::Prefix(prefix.to_owned()))?;
        let network = mask(bits(address), prefix, width);
        let cidr = Cidr {
            address: address_of(network, address.is_ipv6()),
            prefix,
        };
        if network != bits(address) {
            return Err(CidrError::HostBits {
                given: s.to_owned(),
                network: cidr,
            });
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A setting's network: parsed as [`FromStr`] parses it (no host bits), so that what is written
/// is the canonical text Go's `net.IP` would print (HyperShift's typed updates write its
/// networks back that way, and CEL makes them immutable: `fd00:0::/48` stored would be refused
/// as `fd00::/48`).
impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Cidr {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cidr".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_networks_of_both_families() {
        let v4 = cidr("10.0.0.0/16");
        assert_eq!(
            (v4.to_string(), v4.prefix(), v4.is_ipv6()),
            ("10.0.0.0/16".into(), 16, false)
        );
        let v6 = cidr("fd00:10::/64");
        assert_eq!(
            (v6.to_string(), v6.is_ipv6()),
            ("fd00:10::/64".into(), true)
        );
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(cidr("::/0").to_string(), "::/0");
        assert_eq!(cidr("192.168.1.7/32").to_string(), "192.168.1.7/32");
        assert_eq!(serde_json::to_value(v4).unwrap(), "10.0.0.0/16");
    }

    #[test]
    fn refuses_host_bits_and_bad_notation() {
        assert_eq!(
            "10.0.0.1/16".parse::<Cidr>(),
            Err(CidrError::HostBits {
                given: "10.0.0.1/16".into(),
                network: cidr("10.0.0.0/16")
            })
        );
        assert!(matches!(
            "fd00::1/64".parse::<Cidr>(),
            Err(CidrError::HostBits { .. })
        ));
        assert!(matches!(
            "10.0.0.0".parse::<Cidr>(),
            Err(CidrError::Notation(_))
        ));
        assert!(matches!(
            "10.0.0/8".parse::<Cidr>(),
            Err(CidrError::Address(_))
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::Prefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/+8".parse::<Cidr>(),
            Err(CidrError::Prefix(_))
        ));
        assert!(matches!(
            "fd00::/129".parse::<Cidr>(),
            Err(CidrError::Prefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/".parse::<Cidr>(),
            Err(CidrError::Prefix(_))
        ));
    }

    #[test]
    fn overlap_and_containment() {
        let a = cidr("10.0.0.0/16");
        assert!(a.overlaps(&cidr("10.0.128.0/17")));
        assert!(cidr("10.0.128.0/17").overlaps(&a));
        assert!(a.contains(&cidr("10.0.128.0/17")));
        assert!(!cidr("10.0.128.0/17").contains(&a));
        assert!(!a.overlaps(&cidr("10.1.0.0/16")));
        assert!(cidr("0.0.0.0/0").overlaps(&a));
        assert!(a.overlaps(&a));
        assert!(!cidr("::/0").overlaps(&a), "families never overlap");
        assert!(cidr("fd00::/8").overlaps(&cidr("fd00:10::/64")));
        assert!(!cidr("fd00::/16").overlaps(&cidr("fd01::/16")));
    }
}
