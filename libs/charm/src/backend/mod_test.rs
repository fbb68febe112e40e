//! Tests of `mod.rs`.

use super::*;

#[test]
fn classification_follows_ops() {
    let c = HookToolError::classify;
    assert!(matches!(
        c("relation-get", 1, "ERROR relation 42 not found\n", false),
        HookToolError::RelationNotFound { .. }
    ));
    assert!(matches!(
        c(
            "relation-list",
            2,
            "ERROR invalid value \"db:9\" for option -r: relation not found",
            false
        ),
        HookToolError::RelationNotFound { .. }
    ));
    // Juju says "permission denied" about relations it forgot ...
    assert!(matches!(
        c("relation-get", 1, "ERROR permission denied", false),
        HookToolError::RelationNotFound { .. }
    ));
    // ... but for a follower touching its own app bag it means what it says.
    assert!(matches!(
        c("relation-get", 1, "ERROR permission denied", true),
        HookToolError::PermissionDenied { .. }
    ));
    assert!(matches!(
        c(
            "relation-set",
            1,
            "ERROR cannot write relation settings",
            true
        ),
        HookToolError::PermissionDenied { .. }
    ));
    assert!(matches!(
        c(
            "secret-info-get",
            1,
            "ERROR secret \"abc\" not found",
            false
        ),
        HookToolError::SecretNotFound { .. }
    ));
    assert!(matches!(
        c("secret-set", 1, "ERROR permission denied", false),
        HookToolError::PermissionDenied { .. }
    ));
    let e = c(
        "config-get",
        2,
        "ERROR flag provided but not defined: --x",
        false,
    );
    assert!(matches!(e, HookToolError::Failed { code: 2, .. }));
    assert_eq!(e.tool(), "config-get");
    // A "not found" from a tool that looks nothing up is just a failure ...
    assert!(matches!(
        c("unit-get", 1, "ERROR storage not found", false),
        HookToolError::Failed { .. }
    ));
    // ... from the storage and resource tools it names what is missing.
    for tool in ["storage-get", "storage-list", "resource-get"] {
        assert!(matches!(
            c(tool, 1, "ERROR storage \"data/9\" not found", false),
            HookToolError::NotFound { .. }
        ));
    }
    assert!(matches!(
        c(
            "resource-get",
            1,
            "ERROR could not download resource: HTTP 404",
            false
        ),
        HookToolError::NotFound { .. }
    ));
    // credential-get refused: the application is not trusted.
    let e = c(
        "credential-get",
        1,
        "ERROR cannot access cloud credentials: permission denied",
        false,
    );
    assert!(matches!(e, HookToolError::NotTrusted { .. }));
    assert!(e.to_string().contains("juju trust"));
    assert!(!relation_not_found("relation 4x not found"));
    assert!(relation_not_found("the relation not found, sorry"));
}
