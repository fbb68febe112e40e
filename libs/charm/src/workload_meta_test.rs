//! Tests of `workload_meta.rs`.

use super::*;

const GOOD: &str = r#"{"name": "web-k8s",
    "containers": {
        "web": {"resource": "web-image", "mounts": [{"storage": "data", "location": "/srv/data"}]},
        "sidecar": {"resource": "web-image", "uid": 0, "gid": 170}},
    "resources": {
        "web-image": {"type": "oci-image", "upstream-source": "ghcr.io/x/web:1"},
        "bundle": {"type": "file", "filename": "bundle.tgz", "description": "d"},
        "plain": {"filename": "x.bin"}}}"#;

#[test]
fn reads_containers_and_resources() {
    let meta = Metadata::from_json(GOOD).unwrap();
    let web = &meta.containers["web"];
    assert_eq!(web.resource.as_deref(), Some("web-image"));
    assert_eq!(
        web.mounts,
        vec![Mount {
            storage: "data".into(),
            location: "/srv/data".into()
        }]
    );
    assert_eq!(meta.containers["sidecar"].gid, Some(170));
    assert_eq!(meta.resources["web-image"].kind, ResourceKind::OciImage);
    assert_eq!(
        meta.resources["web-image"].upstream_source.as_deref(),
        Some("ghcr.io/x/web:1")
    );
    assert_eq!(meta.resources["bundle"].kind, ResourceKind::File);
    // Juju's default resource type is file.
    assert_eq!(meta.resources["plain"].kind, ResourceKind::File);
    assert!(!meta.other.contains_key("containers"));
    assert!(!meta.other.contains_key("resources"));
    // Round trip: what the harness and tools write back reads the same.
    let again = Metadata::from_json(&serde_json::to_string(&meta).unwrap()).unwrap();
    assert_eq!(again, meta);
}

#[test]
fn no_containers_is_fine_and_writes_nothing() {
    let meta = Metadata::from_json(r#"{"name": "x"}"#).unwrap();
    assert!(meta.containers.is_empty() && meta.resources.is_empty());
    let json = serde_json::to_string(&meta).unwrap();
    assert!(!json.contains("containers") && !json.contains("resources"));
}

fn error_of(json: &str) -> String {
    Metadata::from_json(json).unwrap_err().to_string()
}

#[test]
fn bad_shapes_are_errors() {
    // A mount needs both keys.
    let e = error_of(r#"{"name": "x", "containers": {"c": {"mounts": [{"location": "/srv"}]}}}"#);
    assert!(e.contains("storage"), "{e}");
    let e = error_of(r#"{"name": "x", "containers": {"c": {"mounts": [{"storage": "d"}]}}}"#);
    assert!(e.contains("location"), "{e}");
    // The storage name is a string, not a map.
    let e = error_of(
        r#"{"name": "x", "containers": {"c": {"mounts": [{"storage": {"d": 1}, "location": "/s"}]}}}"#,
    );
    assert!(e.contains("invalid type"), "{e}");
    let e = error_of(r#"{"name": "x", "resources": {"r": {"type": "docker"}}}"#);
    assert!(e.contains("unknown variant `docker`"), "{e}");
    let e = error_of(r#"{"name": "x", "containers": ["web"]}"#);
    assert!(e.contains("invalid type"), "{e}");
    let e = error_of(r#"{"name": "x", "containers": {"c": {"uid": -1}}}"#);
    assert!(e.contains("invalid value"), "{e}");
}

#[test]
fn juju_rules_are_errors_naming_the_culprit() {
    let cases = [
        (
            r#"{"name": "x", "containers": {"c": {"resource": "img"}}}"#,
            r#"container "c": resource "img" is not declared in resources"#,
        ),
        (
            r#"{"name": "x", "containers": {"c": {"resource": "f"}},
                "resources": {"f": {"type": "file", "filename": "f.bin"}}}"#,
            r#"container "c": resource "f" is not of type oci-image"#,
        ),
        (
            r#"{"name": "x", "resources": {"f": {"type": "file"}}}"#,
            r#"resource "f": a file resource needs a filename"#,
        ),
        (
            r#"{"name": "x", "containers": {"Web": {}}}"#,
            r#"container "Web": not a valid container name"#,
        ),
        (
            r#"{"name": "x", "containers": {"c": {"mounts": [{"storage": "", "location": "/s"}]}}}"#,
            r#"container "c": mount 0: storage is empty"#,
        ),
        (
            r#"{"name": "x", "containers": {"c": {"mounts": [{"storage": "d", "location": "srv"}]}}}"#,
            r#"container "c": mount 0: location "srv" is not absolute"#,
        ),
        (
            r#"{"name": "x", "containers": {"c": {"uid": 1000}}}"#,
            r#"container "c": uid 1000 is reserved (1000-9999)"#,
        ),
        (
            r#"{"name": "x", "containers": {"c": {"uid": 0, "gid": 9999}}}"#,
            r#"container "c": gid 9999 is reserved (1000-9999)"#,
        ),
    ];
    for (json, expected) in cases {
        let e = error_of(json);
        assert!(e.contains(expected), "{json}: {e}");
    }
}

#[test]
fn container_names() {
    for good in ["web", "a", "web-2", &"a".repeat(63)] {
        assert!(is_container_name(good), "{good}");
    }
    for bad in [
        "",
        "-web",
        "web-",
        "Web",
        "we_b",
        "../x",
        "a/b",
        &"a".repeat(64),
    ] {
        assert!(!is_container_name(bad), "{bad}");
    }
}
