//! Ports a unit opens (`open-port`, `close-port`, `opened-ports`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A port or range a unit can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Port {
    /// One TCP port.
    Tcp(u16),
    /// One UDP port.
    Udp(u16),
    /// A TCP range, both ends included.
    TcpRange(u16, u16),
    /// A UDP range, both ends included.
    UdpRange(u16, u16),
    /// ICMP.
    Icmp,
}

impl Port {
    /// Parses the hook tools' form: `80/tcp`, `8000-8999/udp`, `icmp`.
    pub fn parse(text: &str) -> Option<Port> {
        if text == "icmp" {
            return Some(Port::Icmp);
        }
        let (ports, proto) = text.split_once('/')?;
        let range = match ports.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => None,
        };
        match (proto, range) {
            ("tcp", None) => Some(Port::Tcp(ports.parse().ok()?)),
            ("udp", None) => Some(Port::Udp(ports.parse().ok()?)),
            ("tcp", Some((a, b))) if a <= b => Some(Port::TcpRange(a, b)),
            ("udp", Some((a, b))) if a <= b => Some(Port::UdpRange(a, b)),
            _ => None,
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Tcp(p) => write!(f, "{p}/tcp"),
            Port::Udp(p) => write!(f, "{p}/udp"),
            Port::TcpRange(a, b) => write!(f, "{a}-{b}/tcp"),
            Port::UdpRange(a, b) => write!(f, "{a}-{b}/udp"),
            Port::Icmp => f.write_str("icmp"),
        }
    }
}

#[cfg(test)]
#[path = "port_test.rs"]
mod tests;
