//! A binding's network as `network-get` reports it: the address to bind to, the addresses
//! others reach this unit on, the subnets its traffic leaves from, and the interfaces.
//!
//! Every value is checked when the tool's output is read: an address that is not an IP address
//! (or, for ingress, a host name), a subnet that is not `<ip>/<prefix>`, are bad tool output,
//! never passed on to a charm as text it might put in a config file or a command line.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A binding's network (`network-get --format=json <binding>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The interfaces the binding's space reaches on this unit's machine (`bind-addresses`).
    pub interfaces: Vec<NetworkInterface>,
    /// Addresses other units use to reach this unit, preferred first (`ingress-addresses`).
    pub ingress_addresses: Vec<Host>,
    /// Subnets this unit's outgoing traffic comes from (`egress-subnets`).
    pub egress_subnets: Vec<Subnet>,
}

impl Network {
    /// The address to bind a listener to: the first address of the first interface.
    pub fn bind_address(&self) -> Option<IpAddr> {
        self.interfaces
            .iter()
            .flat_map(|i| i.addresses.iter())
            .map(|a| a.address)
            .next()
    }

    /// The address to advertise: the first ingress address.
    pub fn ingress_address(&self) -> Option<&Host> {
        self.ingress_addresses.first()
    }

    /// Reads `network-get --format=json` output; `Err` says what is wrong with it.
    pub fn from_json(text: &str) -> Result<Network, String> {
        let raw: RawNetwork = serde_json::from_str(text).map_err(|e| e.to_string())?;
        raw.check()
    }
}

/// One network interface of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// MAC address, when Juju knows it.
    pub mac_address: Option<String>,
    /// Its addresses in the binding's space.
    pub addresses: Vec<InterfaceAddress>,
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceAddress {
    /// The address.
    pub address: IpAddr,
    /// The subnet it is in, when Juju knows it.
    pub cidr: Option<Subnet>,
    /// A host name for it, when Juju knows one.
    pub hostname: Option<String>,
}

/// An ingress address: an IP address, or (on Kubernetes, behind a load balancer) a host name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Host {
    /// An IP address.
    Ip(IpAddr),
    /// A DNS name (letters, digits, `-` and `.`).
    Name(String),
}

impl Host {
    /// Reads an IP address or a DNS name; anything else is `None`.
    pub fn parse(text: &str) -> Option<Host> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(Host::Ip(ip));
        }
        valid_hostname(text).then(|| Host::Name(text.to_string()))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => ip.fmt(f),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// A subnet in CIDR notation, e.g. `10.0.0.0/24`; host bits are allowed (`10.0.0.5/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    /// The address part.
    pub address: IpAddr,
    /// The prefix length (at most 32 for IPv4, 128 for IPv6).
    pub prefix: u8,
}

impl Subnet {
    /// Reads `<ip>/<prefix>`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Subnet> {
        let (addr, prefix) = text.split_once('/')?;
        let address: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Subnet { address, prefix })
    }

    /// Whether `ip` is in this subnet.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// RFC 1123 host names: labels of letters, digits and inner `-`, joined by `.`.
fn valid_hostname(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `network-get --format=json` as Juju prints it.
#[derive(Deserialize)]
struct RawNetwork {
    #[serde(default, rename = "bind-addresses")]
    bind_addresses: Option<Vec<RawInterface>>,
    #[serde(default, rename = "ingress-addresses")]
    ingress_addresses: Option<Vec<String>>,
    #[serde(default, rename = "egress-subnets")]
    egress_subnets: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawInterface {
    #[serde(default, rename = "interface-name")]
    interface_name: String,
    #[serde(default, rename = "mac-address")]
    mac_address: Option<String>,
    #[serde(default)]
    addresses: Option<Vec<RawAddress>>,
}

#[derive(Deserialize)]
struct RawAddress {
    /// Juju >= 2.9.
    #[serde(default)]
    value: Option<String>,
    /// Juju < 2.9.
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    cidr: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
}

/// At most 80 characters of a bad value, quoted.
fn shown(text: &str) -> String {
    format!("{:?}", text.chars().take(80).collect::<String>())
}

impl RawNetwork {
    fn check(self) -> Result<Network, String> {
        let mut interfaces = Vec::new();
        for raw in self.bind_addresses.unwrap_or_default() {
            let mut addresses = Vec::new();
            for a in raw.addresses.unwrap_or_default() {
                let text = a.value.or(a.address).unwrap_or_default();
                let address = text
                    .parse::<IpAddr>()
                    .map_err(|_| format!("bad bind address {}", shown(&text)))?;
                let cidr = match a.cidr.as_deref() {
                    None | Some("") => None,
                    Some(c) => {
                        Some(Subnet::parse(c).ok_or_else(|| format!("bad cidr {}", shown(c)))?)
                    }
                };
                let hostname = a.hostname.filter(|h| !h.is_empty());
                if let Some(h) = &hostname
                    && !valid_hostname(h)
                {
                    return Err(format!("bad hostname {}", shown(h)));
                }
                addresses.push(InterfaceAddress {
                    address,
                    cidr,
                    hostname,
                });
            }
            interfaces.push(NetworkInterface {
                name: raw.interface_name,
                mac_address: raw.mac_address.filter(|m| !m.is_empty()),
                addresses,
            });
        }
        let ingress_addresses = self
            .ingress_addresses
            .unwrap_or_default()
            .iter()
            .map(|a| Host::parse(a).ok_or_else(|| format!("bad ingress address {}", shown(a))))
            .collect::<Result<_, _>>()?;
        let egress_subnets = self
            .egress_subnets
            .unwrap_or_default()
            .iter()
            .map(|s| Subnet::parse(s).ok_or_else(|| format!("bad egress subnet {}", shown(s))))
            .collect::<Result<_, _>>()?;
        Ok(Network {
            interfaces,
            ingress_addresses,
            egress_subnets,
        })
    }
}

#[cfg(test)]
#[path = "network_test.rs"]
mod tests;

impl crate::meta::Metadata {
    /// The `extra-bindings` names (bindings that are not endpoints).
    pub fn extra_bindings(&self) -> Vec<String> {
        match self.other.get("extra-bindings") {
            Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `name` is a binding: an endpoint, the implicit `juju-info`, or an extra-binding.
    pub fn is_binding(&self, name: &str) -> bool {
        name == "juju-info"
            || self.endpoint(name).is_some()
            || self.extra_bindings().iter().any(|b| b == name)
    }
}
