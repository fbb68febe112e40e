//! Tests of `users.rs.rs`.

use super::*;

#[test]
fn root_resolves_and_mismatches_are_refused() {
    assert_eq!(
        normalize(None, Some("root"), None, None),
        Ok(Owner { ids: Some((0, 0)) })
    );
    assert_eq!(
        normalize(Some(0), None, None, None),
        Ok(Owner { ids: Some((0, 0)) })
    );
    assert_eq!(
        normalize(Some(5), Some("root"), None, None),
        Err("user \"root\" UID (0) does not match user-id (5)".into())
    );
    assert_eq!(
        normalize(None, None, Some(0), None),
        Err("must specify user, not just group".into())
    );
    assert_eq!(
        normalize(None, Some("no-such-user-here"), None, None),
        Err("user: unknown user no-such-user-here".into())
    );
    assert_eq!(
        normalize(None, Some(""), None, Some("")),
        Ok(Owner::default())
    );
}
