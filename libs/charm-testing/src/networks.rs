//! Networks per binding: what `network-get` answers in a test.

use crate::state::State;
use charm::backend::HookToolError;
use charm::meta::Metadata;
use charm::network::{Host, InterfaceAddress, Network, NetworkInterface, Subnet};
use std::net::{IpAddr, Ipv4Addr};

/// The network of a declared binding the test does not describe: one interface `eth0` with
/// `192.0.2.0` (TEST-NET-1, as ops' Scenario uses), the same ingress address, egress from
/// `192.0.2.0/24`.
pub fn default_network() -> Network {
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0));
    let subnet = Subnet {
        address: ip,
        prefix: 24,
    };
    Network {
        interfaces: vec![NetworkInterface {
            name: "eth0".into(),
            mac_address: None,
            addresses: vec![InterfaceAddress {
                address: ip,
                cidr: Some(subnet),
                hostname: None,
            }],
        }],
        ingress_addresses: vec![Host::Ip(ip)],
        egress_subnets: vec![subnet],
    }
}

impl State {
    /// Describes the network of `binding` (an endpoint or an extra-binding).
    pub fn network(mut self, binding: &str, network: Network) -> Self {
        self.networks.insert(binding.to_string(), network);
        self
    }
}

/// `network-get <binding>`: the test's network, the default for a declared binding, Juju's
/// error otherwise.
pub(crate) fn network(
    state: &State,
    meta: &Metadata,
    binding: &str,
) -> Result<Network, HookToolError> {
    if let Some(net) = state.networks.get(binding) {
        return Ok(net.clone());
    }
    if meta.is_binding(binding) {
        return Ok(default_network());
    }
    Err(HookToolError::classify(
        "network-get",
        1,
        &format!("ERROR no network config found for binding {binding:?}"),
        false,
    ))
}
