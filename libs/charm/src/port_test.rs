//! Tests of `port.rs`.

use super::*;

#[test]
fn parse_and_print() {
    for text in ["80/tcp", "53/udp", "8000-8999/tcp", "1-2/udp", "icmp"] {
        assert_eq!(
            Port::parse(text).map(|p| p.to_string()).as_deref(),
            Some(text)
        );
    }
    for bad in ["80", "80/sctp", "x/tcp", "9-1/tcp", "70000/tcp", ""] {
        assert_eq!(Port::parse(bad), None, "{bad}");
    }
}
