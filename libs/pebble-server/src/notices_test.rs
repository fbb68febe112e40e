//! Tests of `notices.rs.rs`.

use super::*;
use std::time::UNIX_EPOCH;

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_782_900_000 + secs)
}

#[test]
fn repeat_after_gates_last_repeated_but_not_occurrences() {
    let mut n = Notices::default();
    let hour = Some(Duration::from_secs(3600));
    let data = |v: &str| BTreeMap::from([("k".to_string(), v.to_string())]);
    let first = n.record(Some(0), "custom", "a.com/x", data("1"), hour, t(0));
    assert!(first.repeated);
    let second = n.record(Some(0), "custom", "a.com/x", data("2"), hour, t(10));
    assert_eq!(
        (second.id, second.repeated, second.occurrences),
        (first.id, false, 2)
    );
    let shown = n.get(&first.id.to_string(), t(10)).map(Notice::to_json);
    let shown = shown.unwrap_or_default();
    assert_eq!(shown["last-repeated"], timefmt::rfc3339_nanos(t(0)));
    assert_eq!(shown["last-occurred"], timefmt::rfc3339_nanos(t(10)));
    assert_eq!(shown["last-data"]["k"], "2");
    assert_eq!(shown["repeat-after"], "1h0m0s");
    let third = n.record(Some(0), "custom", "a.com/x", BTreeMap::new(), hour, t(3700));
    assert!(third.repeated);
    let shown = n.get(&first.id.to_string(), t(3700)).map(Notice::to_json);
    assert!(shown.unwrap_or_default().get("last-data").is_none());
}

#[test]
fn filters_by_user_type_key_and_strictly_after() {
    let mut n = Notices::default();
    n.record(Some(0), "custom", "a.com/x", BTreeMap::new(), None, t(0));
    n.record(Some(1000), "custom", "a.com/y", BTreeMap::new(), None, t(1));
    n.record(None, "change-update", "7", BTreeMap::new(), None, t(2));
    let keys =
        |f: &Filter| -> Vec<String> { n.query(f, t(3)).iter().map(|x| x.key.clone()).collect() };
    let root = Filter {
        user_id: Some(0),
        ..Filter::default()
    };
    assert_eq!(keys(&root), ["a.com/x", "7"]);
    assert_eq!(keys(&Filter::default()), ["a.com/x", "a.com/y", "7"]);
    let after = Filter {
        after: Some(t(1)),
        ..Filter::default()
    };
    assert_eq!(keys(&after), ["7"]);
    let typed = Filter {
        types: vec!["custom".into()],
        keys: vec!["a.com/y".into()],
        ..Filter::default()
    };
    assert_eq!(keys(&typed), ["a.com/y"]);
}

#[test]
fn notices_expire_after_a_week() {
    let mut n = Notices::default();
    let r = n.record(None, "custom", "a.com/x", BTreeMap::new(), None, t(0));
    assert!(n.get(&r.id.to_string(), t(100)).is_some());
    assert!(n.get(&r.id.to_string(), t(8 * 24 * 3600)).is_none());
}

#[test]
fn custom_keys_follow_the_regex() {
    for ok in ["example.com/path", "a-b.c.d/e-f/g1", "x.y/z"] {
        assert!(valid_custom_key(ok), "{ok}");
    }
    for bad in [
        "example/path",
        "Example.com/p",
        "example.com/",
        "a.com//b",
        "-a.com/b",
        "a.com/b-",
        "a..com/b",
        "example.com",
    ] {
        assert!(!valid_custom_key(bad), "{bad}");
    }
}
