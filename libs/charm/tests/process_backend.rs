//! The real backend against stub hook tools: exact argv, stdin, output parsing and error mapping.
//!
//! Each stub is a tiny shell script that records its argv (and stdin) and prints a canned answer,
//! so these tests pin the wire protocol of `juju-protocol.md` §2.2 without a Juju.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::backend::{HookToolError, HookTools, LogLevel, ProcessBackend};
use charm::secret::{
    NewSecret, RotatePolicy, SecretContent, SecretId, SecretOwner, SecretRead, SecretUpdate,
};
use charm::{Port, RelationId, Status};
use charm_testing::{HOOK_TOOLS, StubTools};
use std::collections::BTreeMap;
use std::path::Path;

fn stubs() -> StubTools {
    StubTools::new().unwrap()
}

fn backend(s: &StubTools) -> ProcessBackend {
    ProcessBackend::new("app").with_tools_dir(s.bin())
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn db() -> RelationId {
    RelationId::new("db", 7)
}

fn abc() -> SecretId {
    SecretId::parse("secret:abc00000000000000000").unwrap()
}

#[test]
fn relation_tools_argv_and_parsing() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("relation-ids", r#"["db:7","db:12"]"#).unwrap();
    assert_eq!(
        t.relation_ids("db").unwrap(),
        vec![db(), RelationId::new("db", 12)]
    );
    assert_eq!(
        s.last(),
        argv(&["relation-ids", "--format=json", "--", "db"])
    );

    s.answer("relation-list", r#"["pg/0","pg/1"]"#).unwrap();
    assert_eq!(t.relation_list(&db()).unwrap(), vec!["pg/0", "pg/1"]);
    assert_eq!(
        s.last(),
        argv(&["relation-list", "--format=json", "-r", "db:7"])
    );

    s.answer("relation-list", r#""pg""#).unwrap();
    assert_eq!(t.relation_remote_app(&db()).unwrap().as_deref(), Some("pg"));
    assert_eq!(
        s.last(),
        argv(&["relation-list", "--format=json", "--app", "-r", "db:7"])
    );

    s.answer("relation-get", r#"{"a":"1","b":"two"}"#).unwrap();
    let bag = t.relation_get(&db(), "pg", true).unwrap();
    assert_eq!(bag.get("b").map(String::as_str), Some("two"));
    assert_eq!(
        s.last(),
        argv(&[
            "relation-get",
            "--format=json",
            "-r",
            "db:7",
            "--app",
            "--",
            "-",
            "pg"
        ])
    );
    t.relation_get(&db(), "pg/1", false).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "relation-get",
            "--format=json",
            "-r",
            "db:7",
            "--",
            "-",
            "pg/1"
        ])
    );

    let mut changes = BTreeMap::new();
    changes.insert("k".to_string(), "v with spaces".to_string());
    changes.insert("gone".to_string(), String::new());
    t.relation_set(&db(), true, &changes).unwrap();
    assert_eq!(
        s.last(),
        argv(&["relation-set", "-r", "db:7", "--app", "--file", "-"])
    );
    // Data travels on stdin as JSON, never in argv.
    assert_eq!(s.stdin().trim(), r#"{"gone":"","k":"v with spaces"}"#);

    // Nothing to write: no process at all.
    let before = s.calls().len();
    t.relation_set(&db(), false, &BTreeMap::new()).unwrap();
    assert_eq!(s.calls().len(), before);

    s.answer("relation-model-get", r#"{"uuid":"abc-123"}"#)
        .unwrap();
    assert_eq!(t.relation_model_get(&db()).unwrap(), "abc-123");
    assert_eq!(
        s.last(),
        argv(&["relation-model-get", "--format=json", "-r", "db:7"])
    );
    assert_eq!(t.stats().calls as usize, s.calls().len());
}

#[test]
fn unit_tools_argv_and_parsing() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("config-get", r#"{"port": 80, "name": "x", "debug": true}"#)
        .unwrap();
    let config = t.config_get().unwrap();
    assert_eq!(config["port"], 80);
    assert_eq!(s.last(), argv(&["config-get", "--format=json"]));

    s.answer("is-leader", "true\n").unwrap();
    assert!(t.is_leader().unwrap());
    assert_eq!(s.last(), argv(&["is-leader", "--format=json"]));

    s.answer(
        "status-get",
        r#"{"status":"blocked","message":"why","status-data":{}}"#,
    )
    .unwrap();
    assert_eq!(t.status_get(false).unwrap(), Status::blocked("why"));
    assert_eq!(
        s.last(),
        argv(&[
            "status-get",
            "--include-data",
            "--format=json",
            "--application=False"
        ])
    );
    s.answer(
        "status-get",
        r#"{"application-status":{"status":"active","message":"ok"},"units":{}}"#,
    )
    .unwrap();
    assert_eq!(t.status_get(true).unwrap(), Status::active("ok"));

    t.status_set(false, &Status::active("all good")).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "status-set",
            "--application=False",
            "active",
            "--",
            "all good"
        ])
    );
    t.status_set(true, &Status::waiting("")).unwrap();
    assert_eq!(
        s.last(),
        argv(&["status-set", "--application=True", "waiting"])
    );
    // A message that looks like a flag is safe after "--".
    t.status_set(false, &Status::blocked("--help")).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "status-set",
            "--application=False",
            "blocked",
            "--",
            "--help"
        ])
    );

    t.application_version_set("1.2").unwrap();
    assert_eq!(s.last(), argv(&["application-version-set", "--", "1.2"]));

    t.juju_log(LogLevel::Warning, "careful").unwrap();
    assert_eq!(
        s.last(),
        argv(&["juju-log", "--log-level", "WARNING", "--", "careful"])
    );

    t.open_port(Port::Tcp(80)).unwrap();
    assert_eq!(s.last(), argv(&["open-port", "--", "80/tcp"]));
    t.close_port(Port::UdpRange(1000, 1010)).unwrap();
    assert_eq!(s.last(), argv(&["close-port", "--", "1000-1010/udp"]));
    s.answer(
        "opened-ports",
        r#"["80/tcp","8000-8999/udp","icmp","443/tcp (ep1,ep2)"]"#,
    )
    .unwrap();
    assert_eq!(
        t.opened_ports().unwrap(),
        vec![
            Port::Tcp(80),
            Port::UdpRange(8000, 8999),
            Port::Icmp,
            Port::Tcp(443)
        ]
    );

    s.answer("network-get", r#"{"ingress-addresses":["10.0.0.1"]}"#)
        .unwrap();
    let net = t.network_get("db", Some(&db())).unwrap();
    assert_eq!(
        net.ingress_address().map(ToString::to_string).as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(
        s.last(),
        argv(&["network-get", "--format=json", "-r", "7", "--", "db"])
    );
    s.answer("goal-state", r#"{"units":{}}"#).unwrap();
    assert!(t.goal_state().unwrap().units.is_empty());
    assert_eq!(s.last(), argv(&["goal-state", "--format=json"]));
}

#[test]
fn long_log_lines_are_split_by_bytes() {
    let s = stubs();
    let mut t = backend(&s);
    let long = "x".repeat(131_071 + 5);
    t.juju_log(LogLevel::Info, &long).unwrap();
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0][4].len(), 131_071);
    assert_eq!(calls[1][4], "xxxxx");
    // 100,000 three-byte characters: fewer than ops' 131071-character cut, but 300,000 bytes,
    // more than one argument can hold. Cut by bytes, never inside a character.
    let wide = "€".repeat(100_000);
    t.juju_log(LogLevel::Info, &wide).unwrap();
    let calls = s.calls();
    let lines: Vec<&String> = calls[2..].iter().map(|c| &c[4]).collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l.len() <= 131_071 && l.chars().all(|c| c == '€'))
    );
    assert_eq!(lines.iter().map(|l| l.len()).sum::<usize>(), 300_000);
}

#[test]
fn action_and_state_tools() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("action-get", r#"{"name":"bob","nested":{"a":1}}"#)
        .unwrap();
    assert_eq!(t.action_get().unwrap()["nested"]["a"], 1);
    assert_eq!(s.last(), argv(&["action-get", "--format=json"]));
    let mut results = BTreeMap::new();
    results.insert("a.b".to_string(), "1".to_string());
    results.insert("msg".to_string(), "hi there".to_string());
    t.action_set(&results).unwrap();
    assert_eq!(
        s.last(),
        argv(&["action-set", "--", "a.b=1", "msg=hi there"])
    );
    t.action_log("working").unwrap();
    assert_eq!(s.last(), argv(&["action-log", "--", "working"]));
    t.action_fail("nope").unwrap();
    assert_eq!(s.last(), argv(&["action-fail", "--", "nope"]));

    s.answer("state-get", "null\n").unwrap();
    assert!(
        t.state_get().unwrap().is_empty(),
        "Juju 4 prints null for empty state"
    );
    s.answer("state-get", r#"{"k":"v"}"#).unwrap();
    assert_eq!(t.state_get().unwrap()["k"], "v");
    let mut data = BTreeMap::new();
    data.insert("k".to_string(), "v".to_string());
    t.state_set(&data).unwrap();
    assert_eq!(s.last(), argv(&["state-set", "--file", "-"]));
    assert!(s.stdin().contains(r#"{"k":"v"}"#));
    t.state_delete("k").unwrap();
    assert_eq!(s.last(), argv(&["state-delete", "--", "k"]));
}

#[test]
fn secret_content_goes_through_private_files_never_argv() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("secret-add", "secret:d1k3m8fbo5jc738pq1ig\n")
        .unwrap();
    let uri = t
        .secret_add(&NewSecret {
            content: SecretContent::new()
                .with("password", "hunter2")
                .with("user", "bob"),
            label: Some("db-creds".into()),
            description: Some("for the db".into()),
            expire: Some("24h".into()),
            rotate: Some(RotatePolicy::Daily),
            owner: SecretOwner::Unit,
        })
        .unwrap();
    assert_eq!(uri.uri(), "secret:d1k3m8fbo5jc738pq1ig");
    let call = s.last();
    assert_eq!(
        call[..7].to_vec(),
        argv(&[
            "secret-add",
            "--label=db-creds",
            "--description=for the db",
            "--expire=24h",
            "--rotate=daily",
            "--owner=unit",
            "--"
        ])
    );
    assert!(call[7].starts_with("password#file="), "{call:?}");
    assert!(call[8].starts_with("user#file="), "{call:?}");
    assert!(
        !format!("{:?}", s.calls()).contains("hunter2"),
        "secret value in argv"
    );
    let files = s.files();
    assert!(files.contains("password 600 hunter2"), "{files}");
    assert!(files.contains("user 600 bob"), "{files}");
    // The temporary files are gone once the call returns.
    let path = call[7].trim_start_matches("password#file=");
    assert!(!Path::new(path).exists());

    t.secret_set(
        &uri,
        &SecretUpdate {
            content: Some(SecretContent::new().with("password", "hunter3")),
            label: Some("new-label".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let call = s.last();
    assert_eq!(
        call[..4].to_vec(),
        argv(&["secret-set", "--label=new-label", "--", &uri.uri()])
    );
    assert!(call[4].starts_with("password#file="));
    assert!(!format!("{:?}", s.calls()).contains("hunter3"));
}

/// The `key#file=<path>` paths of the last call.
fn secret_paths(call: &[String]) -> Vec<std::path::PathBuf> {
    call.iter()
        .filter_map(|a| {
            a.split_once("#file=")
                .map(|(_, p)| Path::new(p).to_path_buf())
        })
        .collect()
}

#[test]
fn secret_content_files_have_unguessable_names_so_squatting_cannot_block_or_capture_them() {
    // A local user who knows the charm's pid pre-creates the directories a predictable scheme
    // (pid plus a counter) would use next. The charm must neither fail nor write into them.
    let squatted: Vec<std::path::PathBuf> = (0..64)
        .map(|n| std::env::temp_dir().join(format!("charm-secret-{}-{n}", std::process::id())))
        .collect();
    for dir in &squatted {
        let _ = std::fs::create_dir(dir);
    }
    let s = stubs();
    let mut t = backend(&s);
    s.answer("secret-add", "secret:d1k3m8fbo5jc738pq1ig\n")
        .unwrap();
    let added = t.secret_add(&NewSecret {
        content: SecretContent::new().with("password", "hunter2"),
        label: None,
        description: None,
        expire: None,
        rotate: None,
        owner: SecretOwner::Application,
    });
    let call = s.last();
    for dir in &squatted {
        let _ = std::fs::remove_dir_all(dir);
    }
    assert_eq!(added.unwrap().as_str(), "secret:d1k3m8fbo5jc738pq1ig");
    let paths = secret_paths(&call);
    assert_eq!(paths.len(), 1, "{call:?}");
    let dir = paths[0].parent().unwrap();
    assert!(!squatted.iter().any(|d| d == dir), "{dir:?}");
    // 128 random bits in the name, nothing derived from the process.
    let name = dir.file_name().unwrap().to_str().unwrap();
    let random = name.strip_prefix("charm-secret-").unwrap();
    assert_eq!(random.len(), 32, "{name}");
    assert!(!random.contains(&std::process::id().to_string()), "{name}");
    assert!(s.files().contains("password 600 hunter2"), "{}", s.files());
}

#[test]
fn secret_content_files_are_written_to_ram_where_there_is_a_tmpfs() {
    let shm = Path::new("/dev/shm");
    let s = stubs();
    let mut t = backend(&s);
    s.answer("secret-add", "secret:d1k3m8fbo5jc738pq1ig\n")
        .unwrap();
    t.secret_add(&NewSecret {
        content: SecretContent::new().with("password", "hunter2"),
        label: None,
        description: None,
        expire: None,
        rotate: None,
        owner: SecretOwner::Application,
    })
    .unwrap();
    let paths = secret_paths(&s.last());
    assert_eq!(paths.len(), 1);
    let dir = paths[0].parent().unwrap();
    let writable = std::fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly());
    if writable {
        assert_eq!(dir.parent(), Some(shm), "{dir:?}");
    } else {
        assert_eq!(
            dir.parent(),
            Some(std::env::temp_dir().as_path()),
            "{dir:?}"
        );
    }
    assert!(s.files().contains("password 600 hunter2"), "{}", s.files());
    assert!(!dir.exists());
}

#[test]
fn secret_content_files_are_removed_when_the_tool_fails() {
    let s = stubs();
    let mut t = backend(&s);
    s.fail("secret-set", 1, "ERROR quota exceeded\n").unwrap();
    let err = t
        .secret_set(
            &SecretId::parse("secret:d1k3m8fbo5jc738pq1ig").unwrap(),
            &SecretUpdate {
                content: Some(SecretContent::new().with("password", "hunter3")),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("quota exceeded"), "{err}");
    let paths = secret_paths(&s.last());
    assert_eq!(paths.len(), 1);
    // The tool saw the file (mode 0600); it and its directory are gone after the error.
    assert!(s.files().contains("password 600 hunter3"), "{}", s.files());
    assert!(!paths[0].exists());
    assert!(!paths[0].parent().unwrap().exists());
    // Keys become file names, so a key that is not Juju's syntax never reaches the disk.
    let err = t
        .secret_add(&NewSecret {
            content: SecretContent::new().with("../escape", "x"),
            label: None,
            description: None,
            expire: None,
            rotate: None,
            owner: SecretOwner::Application,
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid secret content key"),
        "{err}"
    );
    assert!(!std::env::temp_dir().join("escape").exists());
}

#[test]
fn secret_lookups() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("secret-get", r#"{"key":"value"}"#).unwrap();
    let c = t
        .secret_get(Some(&abc()), Some("mine"), SecretRead::Refresh)
        .unwrap();
    assert_eq!(c.get("key"), Some("value"));
    assert_eq!(
        s.last(),
        argv(&[
            "secret-get",
            "--format=json",
            "--label=mine",
            "--refresh",
            "--",
            "secret:abc00000000000000000"
        ])
    );
    t.secret_get(None, Some("mine"), SecretRead::Tracked)
        .unwrap();
    assert_eq!(
        s.last(),
        argv(&["secret-get", "--format=json", "--label=mine"])
    );
    t.secret_get(Some(&abc()), None, SecretRead::Peek).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "secret-get",
            "--format=json",
            "--peek",
            "--",
            "secret:abc00000000000000000"
        ])
    );

    s.answer(
        "secret-info-get",
        r#"{"abc00000000000000000":{"revision":3,"label":"l","owner":"application","rotation":"weekly","expiry":"2030-01-01T00:00:00Z"}}"#,
    ).unwrap();
    let info = t.secret_info_get(None, Some("l")).unwrap();
    assert_eq!(info.id, abc());
    assert_eq!(info.revision, 3);
    assert_eq!(info.owner, SecretOwner::Application);
    assert_eq!(info.rotation, Some(RotatePolicy::Weekly));
    assert_eq!(
        s.last(),
        argv(&["secret-info-get", "--format=json", "--label=l"])
    );

    t.secret_grant(&abc(), &db(), Some("pg/0")).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "secret-grant",
            "--relation=7",
            "--unit=pg/0",
            "--",
            "secret:abc00000000000000000"
        ])
    );
    t.secret_revoke(&abc(), &db(), None).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "secret-revoke",
            "--relation=7",
            "--",
            "secret:abc00000000000000000"
        ])
    );
    t.secret_remove(&abc(), Some(2)).unwrap();
    assert_eq!(
        s.last(),
        argv(&[
            "secret-remove",
            "--revision=2",
            "--",
            "secret:abc00000000000000000"
        ])
    );
    t.secret_remove(&abc(), None).unwrap();
    assert_eq!(
        s.last(),
        argv(&["secret-remove", "--", "secret:abc00000000000000000"])
    );
    s.answer("secret-ids", r#"["secret:abc00000000000000000"]"#)
        .unwrap();
    assert_eq!(t.secret_ids().unwrap(), vec![abc()]);
    // secret-ids printing something that is not a secret id is bad output, never passed on.
    s.answer("secret-ids", r#"["--output=/tmp/x"]"#).unwrap();
    assert!(matches!(
        t.secret_ids(),
        Err(HookToolError::BadOutput { .. })
    ));
}

#[test]
fn exit_codes_and_stderr_become_typed_errors() {
    let s = stubs();
    let mut t = backend(&s);
    s.fail(
        "relation-get",
        2,
        "ERROR invalid value \"db:7\" for option -r: relation not found\n",
    )
    .unwrap();
    assert!(matches!(
        t.relation_get(&db(), "pg", true),
        Err(HookToolError::RelationNotFound { .. })
    ));
    // A follower reading its own app bag: a real denial, not a forgotten relation.
    s.fail("relation-get", 1, "ERROR permission denied\n")
        .unwrap();
    assert!(matches!(
        t.relation_get(&db(), "app", true),
        Err(HookToolError::PermissionDenied { .. })
    ));
    assert!(matches!(
        t.relation_get(&db(), "pg", true),
        Err(HookToolError::RelationNotFound { .. })
    ));
    s.fail("relation-set", 1, "ERROR cannot write relation settings\n")
        .unwrap();
    let mut one = BTreeMap::new();
    one.insert("a".to_string(), "b".to_string());
    assert!(matches!(
        t.relation_set(&db(), true, &one),
        Err(HookToolError::PermissionDenied { .. })
    ));
    s.fail("secret-get", 1, "ERROR secret \"abc\" not found\n")
        .unwrap();
    assert!(matches!(
        t.secret_get(Some(&abc()), None, SecretRead::Tracked),
        Err(HookToolError::SecretNotFound { .. })
    ));
    s.fail("secret-set", 1, "ERROR permission denied\n")
        .unwrap();
    assert!(matches!(
        t.secret_set(&abc(), &SecretUpdate::default()),
        Err(HookToolError::PermissionDenied { .. })
    ));
    s.fail(
        "config-get",
        2,
        "ERROR flag provided but not defined: --x\n",
    )
    .unwrap();
    match t.config_get() {
        Err(HookToolError::Failed { tool, code, stderr }) => {
            assert_eq!((tool.as_str(), code), ("config-get", 2));
            assert_eq!(stderr, "ERROR flag provided but not defined: --x");
        }
        other => panic!("{other:?}"),
    }
    // Every tool's failure is classified, none panics.
    for tool in HOOK_TOOLS {
        s.fail(tool, 1, "ERROR boom\n").unwrap();
    }
    assert!(t.is_leader().is_err());
    assert!(t.status_set(false, &Status::active("")).is_err());
    assert!(t.juju_log(LogLevel::Info, "x").is_err());
    assert!(t.open_port(Port::Icmp).is_err());
    assert!(t.state_get().is_err());
    assert!(t.action_get().is_err());
    assert!(t.secret_ids().is_err());
    assert!(t.relation_ids("db").is_err());
}

#[test]
fn garbage_output_is_a_typed_error() {
    let s = stubs();
    let mut t = backend(&s);
    for (tool, garbage) in [
        ("relation-ids", "not json"),
        ("relation-ids", r#"["db:x"]"#),
        ("relation-get", r#"{"a": 1}"#),
        ("config-get", "[1,2"),
        ("is-leader", "yes"),
        ("status-get", r#"{"status":"sleepy"}"#),
        ("secret-info-get", r#"{"abc":{"revision":"three"}}"#),
        ("secret-info-get", "{}"),
        (
            "secret-info-get",
            r#"{"abc":{"revision":1,"owner":"martians"}}"#,
        ),
        ("opened-ports", r#"["80/sctp"]"#),
        ("secret-add", "\n"),
    ] {
        s.answer(tool, garbage).unwrap();
        let result: Result<(), HookToolError> = match tool {
            "relation-ids" => t.relation_ids("db").map(drop),
            "relation-get" => t.relation_get(&db(), "pg", true).map(drop),
            "config-get" => t.config_get().map(drop),
            "is-leader" => t.is_leader().map(drop),
            "status-get" => t.status_get(false).map(drop),
            "secret-info-get" => t.secret_info_get(Some(&abc()), None).map(drop),
            "opened-ports" => t.opened_ports().map(drop),
            "secret-add" => t
                .secret_add(&NewSecret {
                    content: SecretContent::new().with("key", "v"),
                    ..Default::default()
                })
                .map(drop),
            _ => unreachable!(),
        };
        match result {
            Err(HookToolError::BadOutput { tool: t2, .. }) => assert_eq!(t2, tool),
            other => panic!("{tool} with {garbage:?}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_tool_is_a_spawn_error() {
    let dir = std::env::temp_dir().join("charm-no-tools-here");
    let mut t = ProcessBackend::new("app").with_tools_dir(dir);
    assert!(matches!(t.is_leader(), Err(HookToolError::Spawn { .. })));
}

#[test]
fn juju_state_store_uses_one_key_and_one_call_each_way() {
    use charm::state::{JUJU_STATE_KEY, JujuStore, StateDoc, StateStore};
    let s = stubs();
    let mut t = backend(&s);
    s.answer("state-get", "{}").unwrap();
    let mut store = JujuStore;
    assert_eq!(store.load(&mut t).unwrap(), StateDoc::default());
    let mut doc = StateDoc::default();
    doc.stored.insert("n".into(), serde_json::json!(3));
    store.save(&mut t, &doc).unwrap();
    assert_eq!(s.last(), argv(&["state-set", "--file", "-"]));
    let sent: BTreeMap<String, String> = serde_json::from_str(s.stdin().trim()).unwrap();
    assert_eq!(sent.len(), 1);
    let inner: StateDoc = serde_json::from_str(&sent[JUJU_STATE_KEY]).unwrap();
    assert_eq!(inner, doc);
    // What was saved loads back; garbage is a typed error, not a panic.
    s.answer("state-get", &serde_json::to_string(&sent).unwrap())
        .unwrap();
    assert_eq!(store.load(&mut t).unwrap(), doc);
    s.answer("state-get", r#"{"charm-state": "{not json"}"#)
        .unwrap();
    assert!(matches!(
        store.load(&mut t),
        Err(charm::state::StateError::Corrupt { .. })
    ));
}
