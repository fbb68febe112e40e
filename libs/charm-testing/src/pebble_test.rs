//! Tests of `pebble.rs`'s helpers (the fake itself is tested through the harness, in
//! `tests/containers.rs`).

use super::*;

#[test]
fn paths_are_normalized_and_relative_ones_refused() {
    assert_eq!(normalize("/a/b/").as_deref(), Some("/a/b"));
    assert_eq!(normalize("//a/./b/../c").as_deref(), Some("/a/c"));
    assert_eq!(normalize("/").as_deref(), Some("/"));
    assert_eq!(normalize("/.."), Some("/".into()));
    assert_eq!(normalize("a/b"), None);
    assert_eq!(normalize(""), None);
}

#[test]
fn globs_match_names_like_the_shell() {
    for (pattern, name, expected) in [
        ("*.conf", "a.conf", Some(true)),
        ("*.conf", "a.txt", Some(false)),
        ("a?c", "abc", Some(true)),
        ("a?c", "ac", Some(false)),
        ("[ab]*", "bx", Some(true)),
        ("[!ab]*", "bx", Some(false)),
        ("[a-c]", "b", Some(true)),
        ("[a-c]", "d", Some(false)),
        ("*", "", Some(true)),
        ("[abc", "a", None),
    ] {
        assert_eq!(
            glob(pattern.as_bytes(), name.as_bytes()),
            expected,
            "{pattern} {name}"
        );
    }
}

#[test]
fn notice_keys_follow_pebbles_rule() {
    for good in ["example.com/a", "a-b.c.io/x/y-z", "x.y/1"] {
        assert!(valid_notice_key(good), "{good}");
    }
    let long = format!("example.com/{}", "a".repeat(250));
    for bad in [
        "example/a",
        "Example.com/a",
        "example.com",
        "example.com/",
        "-a.b/c",
        "a.b/c-",
        &long,
    ] {
        assert!(!valid_notice_key(bad), "{bad}");
    }
}
