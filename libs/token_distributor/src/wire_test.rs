//! Tests of `wire.rs`.

use super::*;
use charm_testing::bag;

#[test]
fn entries_are_read_by_prefix_and_other_keys_ignored() {
    let b = bag([
        ("hostname", "node-1"),
        ("mirror", "up"),
        ("mirror-node-2", "tok2"),
        ("mirror-node-3", "empty"),
        ("xmirror-node-4", "ignored"),
        ("mirror-", "no node"),
        ("egress-subnets", "10.0.0.1/32"),
    ]);
    let c = ConsumerUnitBag::decode(&b).unwrap();
    assert_eq!(c.hostname.as_deref(), Some("node-1"));
    assert_eq!(c.mirror, Some(MirrorFlag::Up));
    let nodes: Vec<&str> = c.entries.0.keys().map(String::as_str).collect();
    assert_eq!(nodes, ["node-2", "node-3"]);
    assert_eq!(c.entries.get("node-3"), Some(&MirrorValue::Empty));
    assert_eq!(c.entries.get("node-2").unwrap().as_wire(), "tok2");
    let p = ProviderUnitBag::decode(&b).unwrap();
    assert_eq!(p.entries, c.entries);
}

#[test]
fn encode_writes_prefixed_keys_and_the_placeholder() {
    let mut entries = BTreeMap::new();
    entries.insert("a".to_string(), MirrorValue::Empty);
    entries.insert("b".to_string(), MirrorValue::from_wire("T"));
    let p = ProviderUnitBag {
        mirror: Some(MirrorFlag::Up),
        entries: MirrorEntries(entries),
    };
    assert_eq!(
        p.encode().unwrap(),
        bag([("mirror", "up"), ("mirror-a", "empty"), ("mirror-b", "T")])
    );
    assert_eq!(ProviderUnitBag::decode(&p.encode().unwrap()).unwrap(), p);
}

#[test]
fn a_bad_mirror_flag_is_a_typed_error_naming_the_key() {
    let b = bag([
        ("mirror", "sideways"),
        ("hostname", "n1"),
        ("mirror-n2", "T"),
    ]);
    let err = ConsumerUnitBag::decode(&b).unwrap_err();
    assert_eq!(err.key(), Some("mirror"));
    let (lenient, problems) = ConsumerUnitBag::decode_lenient(&b);
    assert_eq!(problems.len(), 1);
    assert_eq!(lenient.mirror, None);
    assert_eq!(lenient.hostname.as_deref(), Some("n1"));
    assert_eq!(lenient.entries.len(), 1);
    let (p, problems) = ProviderUnitBag::decode_lenient(&bag([("mirror", "UP")]));
    assert_eq!((p.mirror, problems.len()), (None, 1));
}

#[test]
fn bad_hostnames_are_rejected() {
    for bad in ["-rf", "a b", "x=y", "node/0", "ünï"] {
        let b = bag([("hostname", bad)]);
        assert!(
            matches!(ConsumerUnitBag::decode(&b), Err(WireError::NodeName { .. })),
            "{bad}"
        );
        let (v, problems) = ConsumerUnitBag::decode_lenient(&b);
        assert_eq!((v.hostname, problems.len()), (None, 1), "{bad}");
    }
    assert!(check_node_name("juju-1a2b3c-0").is_ok());
    assert!(check_node_name(&"a".repeat(254)).is_err());
}

#[test]
fn tokens_are_redacted_and_checked() {
    let t = Token::new("  eyJzZWNyZXQiOiJzM2NyM3QifQ==\n");
    assert_eq!(t.expose(), "eyJzZWNyZXQiOiJzM2NyM3QifQ==");
    assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    let v = MirrorValue::Token(t.clone());
    assert!(!format!("{v:?}").contains("eyJ"));
    assert!(t.check().is_ok());
    assert!(Token::new("").check().is_err());
    assert!(Token::new("empty").check().is_err());
    assert!(Token::new("--force").check().is_err());
    assert!(Token::new("a b").check().is_err());
}

#[test]
fn bootstrap_app_must_be_an_application_name() {
    let ok = ProviderAppBag::decode(&bag([("bootstrap-app", "microovn")])).unwrap();
    assert_eq!(ok.bootstrap_app.as_deref(), Some("microovn"));
    assert_eq!(
        ProviderAppBag::decode(&BagData::new()).unwrap(),
        ProviderAppBag::default()
    );
    for bad in ["Microovn", "a b", "-x", "x-", "1abc", "app-1"] {
        let r = ProviderAppBag::decode(&bag([("bootstrap-app", bad)]));
        assert!(r.is_err(), "{bad}");
    }
    assert!(valid_app_name("ovn-agents-2x"));
}
