//! Tests of `glob.rs.rs`.

use super::*;

#[test]
fn matches_like_go_path_match() {
    let yes = [
        ("*.conf", "app.conf"),
        ("a?c", "abc"),
        ("[a-c]x", "bx"),
        ("[^a-c]x", "dx"),
        ("\\*", "*"),
        ("*", ""),
        ("a*b*c", "aXXbYYc"),
        ("[\\]]", "]"),
    ];
    for (p, n) in yes {
        assert_eq!(matches(p, n), Ok(true), "{p} {n}");
    }
    let no = [
        ("*.conf", "app.yaml"),
        ("a?c", "ac"),
        ("[^a-c]x", "ax"),
        ("a*b", "a/b"),
    ];
    for (p, n) in no {
        assert_eq!(matches(p, n), Ok(false), "{p} {n}");
    }
    for bad in ["[", "[a-", "\\", "[]", "[z-a]", "[a"] {
        assert_eq!(matches(bad, "a"), Err(BAD_PATTERN), "{bad}");
    }
}

#[test]
fn many_stars_stay_linear() {
    let name = "a".repeat(200);
    assert_eq!(matches("*a*a*a*a*a*a*a*a*b", &name), Ok(false));
}
