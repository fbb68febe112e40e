//! The real backend's tools for the rest of the model (the escape hatch, networks, storage,
//! resources, credentials, reboot, goal state, status) against stub hook tools: exact argv,
//! output parsing, errors and bad output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::backend::{HookToolError, HookTools, ProcessBackend, ToolName};
use charm_testing::StubTools;

fn stubs() -> StubTools {
    StubTools::new().unwrap()
}

fn backend(s: &StubTools) -> ProcessBackend {
    ProcessBackend::new("app").with_tools_dir(s.bin())
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn escape_hatch_runs_the_named_tool_with_the_argv_as_given() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("unit-get", "10.0.0.7\n").unwrap();
    let tool = ToolName::new("unit-get").unwrap();
    let out = t
        .run_tool(&tool, &argv(&["--format=json", "--", "private-address"]))
        .unwrap();
    assert_eq!(out, "10.0.0.7\n");
    assert_eq!(
        s.last(),
        argv(&["unit-get", "--format=json", "--", "private-address"])
    );
    // Failures are classified like any other tool's.
    s.fail(
        "unit-get",
        2,
        "ERROR option provided but not defined: --x\n",
    )
    .unwrap();
    match t.run_tool(&tool, &argv(&["--x"])) {
        Err(HookToolError::Failed { tool, code, stderr }) => {
            assert_eq!((tool.as_str(), code), ("unit-get", 2));
            assert!(stderr.contains("--x"));
        }
        other => panic!("{other:?}"),
    }
    // A tool that is not there is a spawn error, not a panic.
    let missing = ToolName::new("no-such-tool").unwrap();
    assert!(matches!(
        t.run_tool(&missing, &[]),
        Err(HookToolError::Spawn { .. })
    ));
}

#[test]
fn network_get_argv_and_typed_binding() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer(
        "network-get",
        r#"{"bind-addresses":[{"mac-address":"","interface-name":"ens3","addresses":[{"hostname":"","value":"10.5.0.9","cidr":"10.5.0.0/16"}]}],"egress-subnets":["10.5.0.9/32"],"ingress-addresses":["10.5.0.9"]}"#,
    )
    .unwrap();
    let net = t.network_get("admin", None).unwrap();
    assert_eq!(
        s.last(),
        argv(&["network-get", "--format=json", "--", "admin"])
    );
    assert_eq!(net.bind_address(), "10.5.0.9".parse().ok());
    assert_eq!(net.interfaces[0].name, "ens3");
    assert_eq!(net.interfaces[0].mac_address, None);
    assert_eq!(net.egress_subnets[0].prefix, 32);
    // A binding name that looks like an option stays a positional value.
    t.network_get("--help", Some(&charm::RelationId::new("db", 3)))
        .unwrap();
    assert_eq!(
        s.last(),
        argv(&["network-get", "--format=json", "-r", "3", "--", "--help"])
    );
    // Output that is not a network is bad output naming the value.
    s.answer("network-get", r#"{"ingress-addresses":["$(reboot)"]}"#)
        .unwrap();
    match t.network_get("admin", None) {
        Err(HookToolError::BadOutput { tool, detail }) => {
            assert_eq!(tool, "network-get");
            assert!(detail.contains("$(reboot)"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Juju's refusal of an unknown binding is a failure, and a forgotten relation is typed.
    s.fail(
        "network-get",
        1,
        "ERROR no network config found for binding \"nope\"\n",
    )
    .unwrap();
    assert!(matches!(
        t.network_get("nope", None),
        Err(HookToolError::Failed { code: 1, .. })
    ));
    s.fail("network-get", 1, "ERROR relation 3 not found\n")
        .unwrap();
    assert!(matches!(
        t.network_get("db", Some(&charm::RelationId::new("db", 3))),
        Err(HookToolError::RelationNotFound { .. })
    ));
}

#[test]
fn storage_tools_argv_parsing_and_errors() {
    use charm::storage::{StorageId, StorageKind};
    let s = stubs();
    let mut t = backend(&s);
    let data0 = StorageId::parse("data/0").unwrap();
    s.answer(
        "storage-get",
        r#"{"kind":"filesystem","location":"/srv/data/0"}"#,
    )
    .unwrap();
    let info = t.storage_get(&data0).unwrap();
    assert_eq!(
        s.last(),
        argv(&["storage-get", "--format=json", "-s", "data/0"])
    );
    assert_eq!(info.kind, StorageKind::Filesystem);
    assert_eq!(info.location, std::path::PathBuf::from("/srv/data/0"));

    s.answer("storage-list", r#"["data/0","data/3"]"#).unwrap();
    let ids = t.storage_list("data").unwrap();
    assert_eq!(
        s.last(),
        argv(&["storage-list", "--format=json", "--", "data"])
    );
    assert_eq!(ids[1], StorageId::parse("data/3").unwrap());
    s.answer("storage-list", "null").unwrap();
    assert!(t.storage_list("data").unwrap().is_empty());

    t.storage_add("data", 2).unwrap();
    assert_eq!(s.last(), argv(&["storage-add", "--", "data=2"]));

    // Names that are not storage names never reach a tool.
    let before = s.calls().len();
    for bad in ["--help", "data=1", "", "a/b"] {
        assert!(matches!(
            t.storage_list(bad),
            Err(HookToolError::InvalidArgument { .. })
        ));
        assert!(matches!(
            t.storage_add(bad, 1),
            Err(HookToolError::InvalidArgument { .. })
        ));
    }
    assert!(matches!(
        t.storage_add("data", 0),
        Err(HookToolError::InvalidArgument { .. })
    ));
    assert_eq!(s.calls().len(), before);

    // Bad output: another storage's id, garbage, a relative location.
    s.answer("storage-list", r#"["logs/0"]"#).unwrap();
    assert!(matches!(
        t.storage_list("data"),
        Err(HookToolError::BadOutput { .. })
    ));
    s.answer("storage-list", r#"["data/-1"]"#).unwrap();
    assert!(matches!(
        t.storage_list("data"),
        Err(HookToolError::BadOutput { .. })
    ));
    s.answer("storage-get", r#"{"kind":"filesystem","location":"srv"}"#)
        .unwrap();
    assert!(matches!(
        t.storage_get(&data0),
        Err(HookToolError::BadOutput { .. })
    ));

    // A missing instance is typed.
    s.fail(
        "storage-get",
        1,
        "ERROR storage instance \"data/9\" not found\n",
    )
    .unwrap();
    assert!(matches!(
        t.storage_get(&StorageId::parse("data/9").unwrap()),
        Err(HookToolError::NotFound { .. })
    ));
}

#[test]
fn resource_get_argv_path_and_errors() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer(
        "resource-get",
        "/var/lib/juju/agents/unit-app-0/resources/blob/blob.tgz\n",
    )
    .unwrap();
    let path = t.resource_get("blob").unwrap();
    assert_eq!(s.last(), argv(&["resource-get", "--", "blob"]));
    assert_eq!(
        path,
        std::path::PathBuf::from("/var/lib/juju/agents/unit-app-0/resources/blob/blob.tgz")
    );
    // Not a path, or more than one line: bad output.
    for bad in ["relative/file\n", "/a\n/b\n", "", "/x\0y"] {
        s.answer("resource-get", bad).unwrap();
        assert!(
            matches!(t.resource_get("blob"), Err(HookToolError::BadOutput { .. })),
            "{bad:?}"
        );
    }
    // Names that are options or paths never reach the tool.
    let before = s.calls().len();
    for bad in ["-o", "", "a b", "../x"] {
        assert!(matches!(
            t.resource_get(bad),
            Err(HookToolError::InvalidArgument { .. })
        ));
    }
    assert_eq!(s.calls().len(), before);
    // A resource never uploaded is typed as not found.
    s.fail(
        "resource-get",
        1,
        "ERROR could not download resource: HTTP request failed: resource#app/blob not found\n",
    )
    .unwrap();
    assert!(matches!(
        t.resource_get("blob"),
        Err(HookToolError::NotFound { .. })
    ));
}

#[test]
fn status_credential_reboot_and_goal_state_tools() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer(
        "status-get",
        r#"{"application-status":{"status":"active","message":"3 units","status-data":{},"units":{"app/0":{"status":"active","message":""},"app/1":{"status":"waiting","message":"joining"}}}}"#,
    )
    .unwrap();
    let report = t.app_status_report().unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "status-get",
            "--include-data",
            "--format=json",
            "--application=True"
        ])
    );
    assert_eq!(report.app, charm::Status::active("3 units"));
    assert_eq!(report.units["app/1"], charm::Status::waiting("joining"));
    s.answer(
        "status-get",
        r#"{"application-status":{"status":"sleepy"}}"#,
    )
    .unwrap();
    assert!(matches!(
        t.app_status_report(),
        Err(HookToolError::BadOutput { .. })
    ));
    // A follower is refused: a real denial.
    s.fail(
        "status-get",
        1,
        "ERROR finding application status: permission denied\n",
    )
    .unwrap();
    assert!(matches!(
        t.app_status_report(),
        Err(HookToolError::PermissionDenied { .. })
    ));

    s.answer(
        "credential-get",
        r#"{"type":"lxd","name":"localhost","credential":{"auth-type":"certificate","attrs":{"client-key":"KEY"}}}"#,
    )
    .unwrap();
    let spec = t.credential_get().unwrap();
    assert_eq!(s.last(), argv(&["credential-get", "--format=json"]));
    assert_eq!(spec.kind, "lxd");
    assert!(!format!("{spec:?}").contains("KEY"));
    s.answer(
        "credential-get",
        r#"{"type":"lxd","name":"x","credential":{"attrs":{"k":"KEY"}}}"#,
    )
    .unwrap();
    match t.credential_get() {
        Err(HookToolError::BadOutput { detail, .. }) => assert!(!detail.contains("KEY")),
        other => panic!("{other:?}"),
    }
    s.fail(
        "credential-get",
        1,
        "ERROR cannot access cloud credentials: permission denied\n",
    )
    .unwrap();
    assert!(matches!(
        t.credential_get(),
        Err(HookToolError::NotTrusted { .. })
    ));

    t.juju_reboot(false).unwrap();
    assert_eq!(s.last(), argv(&["juju-reboot"]));
    t.juju_reboot(true).unwrap();
    assert_eq!(s.last(), argv(&["juju-reboot", "--now"]));

    s.answer(
        "goal-state",
        r#"{"units":{"app/0":{"status":"active","since":"2025-01-01 00:00:00Z"},"app/1":{"status":"dying"}},"relations":{"db":{"pg":{"status":"joined"},"pg/0":{"status":"active"}}}}"#,
    )
    .unwrap();
    let goal = t.goal_state().unwrap();
    assert_eq!(s.last(), argv(&["goal-state", "--format=json"]));
    assert_eq!(goal.planned_units(), 1);
    assert_eq!(goal.planned_remote_units("db"), vec!["pg/0"]);
    s.answer("goal-state", r#"{"units":{"app/0":"active"}}"#)
        .unwrap();
    assert!(matches!(
        t.goal_state(),
        Err(HookToolError::BadOutput { .. })
    ));
}
