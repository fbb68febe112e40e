//! Tests of `network.rs`.

use super::*;

#[test]
fn juju_output_reads_into_a_typed_network() {
    let net = Network::from_json(
        r#"{"bind-addresses":[{"mac-address":"00:16:3e:aa:bb:cc","interface-name":"eth0",
            "addresses":[{"hostname":"","value":"10.0.0.5","cidr":"10.0.0.0/24"}]},
            {"interface-name":"eth1","addresses":[{"address":"fe80::1","cidr":"fe80::/64"}]}],
            "egress-subnets":["10.0.0.5/32"],"ingress-addresses":["10.0.0.5","lb.example.com"]}"#,
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(net.bind_address(), "10.0.0.5".parse().ok());
    assert_eq!(
        net.interfaces[0].mac_address.as_deref(),
        Some("00:16:3e:aa:bb:cc")
    );
    assert_eq!(net.interfaces[0].addresses[0].hostname, None);
    // Juju < 2.9 says `address` instead of `value`.
    assert_eq!(
        net.interfaces[1].addresses[0].address,
        "fe80::1".parse::<IpAddr>().unwrap_or(IpAddr::from([0; 4]))
    );
    assert_eq!(
        net.ingress_addresses[1],
        Host::Name("lb.example.com".into())
    );
    assert_eq!(
        net.ingress_address().map(ToString::to_string).as_deref(),
        Some("10.0.0.5")
    );
    assert_eq!(net.egress_subnets[0].to_string(), "10.0.0.5/32");
    // Missing sections are empty, not errors.
    let empty = Network::from_json("{}").unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(empty.bind_address(), None);
}

#[test]
fn bad_values_are_errors_naming_them() {
    for (text, what) in [
        (
            r#"{"ingress-addresses":["--output=/etc/passwd"]}"#,
            "ingress",
        ),
        (r#"{"ingress-addresses":["a b"]}"#, "ingress"),
        (r#"{"egress-subnets":["10.0.0.0/33"]}"#, "egress"),
        (r#"{"egress-subnets":["10.0.0.0"]}"#, "egress"),
        (r#"{"egress-subnets":["10.0.0.0/+8"]}"#, "egress"),
        (
            r#"{"bind-addresses":[{"addresses":[{"value":"not-an-ip"}]}]}"#,
            "bind",
        ),
        (
            r#"{"bind-addresses":[{"addresses":[{"value":"10.0.0.1","cidr":"x"}]}]}"#,
            "cidr",
        ),
        (
            r#"{"bind-addresses":[{"addresses":[{"value":"10.0.0.1","hostname":"-x"}]}]}"#,
            "hostname",
        ),
        (r#"{"ingress-addresses":"10.0.0.1"}"#, "sequence"),
        ("not json", "expected"),
    ] {
        match Network::from_json(text) {
            Err(e) => assert!(e.contains(what), "{text}: {e}"),
            Ok(n) => unreachable!("{text} read as {n:?}"),
        }
    }
}

#[test]
fn subnets_contain_their_addresses() {
    let net = Subnet::parse("10.1.0.0/16").unwrap_or_else(|| unreachable!());
    assert!(net.contains("10.1.200.3".parse().unwrap_or(IpAddr::from([0; 4]))));
    assert!(!net.contains("10.2.0.1".parse().unwrap_or(IpAddr::from([0; 4]))));
    let all = Subnet::parse("0.0.0.0/0").unwrap_or_else(|| unreachable!());
    assert!(all.contains("192.168.1.1".parse().unwrap_or(IpAddr::from([0; 4]))));
    let v6 = Subnet::parse("fd00::/8").unwrap_or_else(|| unreachable!());
    assert!(v6.contains("fd12::1".parse().unwrap_or(IpAddr::from([0; 4]))));
    assert!(!v6.contains("10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))));
    assert_eq!(Subnet::parse("::1/129"), None);
}
