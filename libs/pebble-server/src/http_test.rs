//! Tests of `http.rs.rs`.

use super::*;

#[test]
fn decodes_queries() {
    assert_eq!(
        parse_query("names=a%2Cb&names=c&x=1+2&flag"),
        vec![
            ("names".into(), "a,b".into()),
            ("names".into(), "c".into()),
            ("x".into(), "1 2".into()),
            ("flag".into(), String::new()),
        ]
    );
    assert_eq!(percent_decode("/a%20b%zz%", false), "/a b%zz%");
}
