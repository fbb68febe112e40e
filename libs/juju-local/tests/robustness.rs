//! Bad input never corrupts the model; the CLI, scenarios, timeline and metrics work end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::process::Command;

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_state_is_reported_and_left_alone() {
    let (m, base) = model("malformed");
    let db = charm(&base, "db", DB_META, None, None, &[]);
    deploy(&m, &db, "db", 1);
    m.settle(50).unwrap();
    // A hook whose tools find a corrupted state file: clear error, non-zero exit, file untouched.
    let state_path = m.dir().join("state.json");
    let good = std::fs::read_to_string(&state_path).unwrap();
    let script = format!(
        "cp \"{p}\" \"{p}.bak\"\necho '{{not json' > \"{p}\"\nrelation-ids cluster > \"$JUJU_CHARM_DIR/out\" 2>&1; echo $? >> \"$JUJU_CHARM_DIR/out\"\nmv \"{p}.bak\" \"{p}\"\n",
        p = state_path.display()
    );
    on(&m, "db/0", "update-status", Some(&script));
    m.run_hook("db/0", juju_local::state::HookSpec::simple("update-status"))
        .unwrap();
    let out = std::fs::read_to_string(unit_dir(&m, "db/0").join("out")).unwrap();
    assert!(out.starts_with("ERROR malformed model state"), "{out}");
    assert!(out.ends_with("\n1\n"), "{out}");
    // The driver refuses a malformed state file and does not rewrite it.
    std::fs::write(&state_path, "{\"version\": 1, \"name\": 5}").unwrap();
    let dir = m.dir().to_string_lossy().into_owned();
    let (code, _, err) = cli(&["--model", &dir, "settle"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("ERROR malformed model state"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&state_path).unwrap(),
        "{\"version\": 1, \"name\": 5}"
    );
    std::fs::write(&state_path, &good).unwrap();
    assert_eq!(cli(&["--model", &dir, "status"]).0, 0);
}

#[test]
fn tools_outside_a_hook_and_bad_context() {
    let tmp = tmp("noctx");
    let link = tmp.join("relation-get");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let out = Command::new(&link)
        .env_remove("JUJU_LOCAL_CONTEXT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("ERROR JUJU_LOCAL_CONTEXT is not set")
    );
    std::fs::write(tmp.join("ctx.json"), "[]").unwrap();
    let out = Command::new(&link)
        .env("JUJU_LOCAL_CONTEXT", tmp.join("ctx.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERROR malformed hook context"));
    let out = Command::new(&link)
        .env("JUJU_LOCAL_CONTEXT", tmp.join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cli_end_to_end() {
    let base = tmp("cli");
    let db = charm(
        &base,
        "db",
        DB_META,
        Some("options:\n  port: {type: int, default: 5432}\n"),
        Some("ping: {}\n"),
        &[
            (
                "start",
                "status-set active ready\napplication-version-set 1.2.3\n",
            ),
            ("ping", "action-set pong=yes\n"),
            (
                "db-relation-changed",
                "echo 'CHARM_EVENT {\"event\":\"DatabaseRequested\",\"fields\":{\"by\":\"'$JUJU_REMOTE_UNIT'\"}}'\n",
            ),
        ],
    );
    let app = charm(&base, "app", APP_META, None, None, &[]);
    let model = base.join("m").to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let mut full = vec!["--model", model.as_str()];
        full.extend_from_slice(args);
        let r = cli(&full);
        assert_eq!(r.0, 0, "{args:?}: {}", r.2);
        r.1
    };
    run(&["init"]);
    assert_eq!(
        cli(&["--model", &model, "init"]).0,
        1,
        "second init refused"
    );
    run(&[
        "deploy",
        &db.to_string_lossy(),
        "db",
        "-n",
        "2",
        "--config",
        "port=6000",
    ]);
    run(&["deploy", &app.to_string_lossy()]);
    run(&["relate", "app:db", "db:db"]);
    assert!(run(&["settle"]).starts_with("settled after"));
    let status = run(&["status"]);
    assert!(
        status.contains("db/0*") && status.contains("1.2.3") && status.contains("ready"),
        "{status}"
    );
    let show: serde_json::Value =
        serde_json::from_str(&run(&["show", "--format", "json"])).unwrap();
    assert_eq!(show["applications"]["db"]["config"]["port"], 6000);
    let action = run(&["action", "db/0", "ping", "--format=json"]);
    assert!(action.contains("\"pong\": \"yes\""), "{action}");
    let timeline = run(&["timeline"]);
    assert!(
        timeline.contains("event DatabaseRequested {\"by\":\"app/0\"}"),
        "{timeline}"
    );
    let metrics = run(&["metrics"]);
    assert!(
        metrics.starts_with("SEQ") && metrics.contains("total"),
        "{metrics}"
    );
    let mj: serde_json::Value = serde_json::from_str(&run(&["metrics", "--format=json"])).unwrap();
    assert!(mj["total"]["tool_calls"].as_u64().unwrap() > 0);
    assert!(mj["total"]["max_rss_kb"].as_u64().unwrap() > 0);
    // Usage errors exit 2; model errors exit 1 and leave the state as it was.
    let before = std::fs::read_to_string(base.join("m/state.json")).unwrap();
    assert_eq!(cli(&["--model", &model, "frobnicate"]).0, 2);
    assert_eq!(cli(&["--model", &model, "config", "db", "port=abc"]).0, 1);
    assert_eq!(cli(&["--model", &model, "relate", "app", "db"]).0, 1);
    assert_eq!(cli(&["--model", &model, "settle", "--bogus"]).0, 2);
    assert_eq!(
        std::fs::read_to_string(base.join("m/state.json")).unwrap(),
        before
    );
    assert_eq!(
        cli(&["--model", &base.join("nothing").to_string_lossy(), "status"]).0,
        1
    );
}

#[test]
fn scenario_files() {
    let base = tmp("scenario");
    charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[
            ("start", "status-set active ready\n"),
            (
                "db-relation-changed",
                "if [ \"$(is-leader)\" = True ]; then relation-set --app host=db.local; fi\necho 'CHARM_EVENT {\"event\":\"Requested\",\"fields\":{\"n\":1}}'\n",
            ),
        ],
    );
    charm(&base, "app", APP_META, None, None, &[]);
    let good = base.join("good.yaml");
    std::fs::write(
        &good,
        r#"name: handshake
steps:
  - deploy: {charm: charm-db, app: db, units: 2}
  - deploy: {charm: charm-app}
  - relate: [app:db, db:db]
  - expect:
      leader: {db: db/0}
      status: {db/0: active, db/1: {status: active, message: ready}}
      bags:
        - {relation: "app:db db:db", bag: db, equals: {host: db.local}}
        - {relation: [app, db], bag: db/1, contains: {private-address: 10.1.1.11}}
      events: [{event: Requested, unit: db/0, fields: {n: 1}}]
      no_events: [Nope]
  - leader: db/1
  - expect: {leader: {db: db/1}}
"#,
    )
    .unwrap();
    let res =
        juju_local::scenario::run_file_with(&good, juju_local::ModelOptions::new(bin()), None)
            .unwrap();
    assert!(res.passed, "{:?}", res.failure());
    assert!(res.hooks_run > 10);
    let bad = base.join("bad.yaml");
    std::fs::write(
        &bad,
        "steps:\n  - deploy: {charm: charm-db, app: db}\n  - expect: {status: {db/0: blocked}}\n",
    )
    .unwrap();
    let res = juju_local::scenario::run_file_with(&bad, juju_local::ModelOptions::new(bin()), None)
        .unwrap();
    assert!(!res.passed);
    assert!(
        res.failure().unwrap().contains("status of db/0 is active"),
        "{:?}",
        res.failure()
    );
    // The CLI exits non-zero on a failing scenario.
    assert_eq!(cli(&["scenario", &good.to_string_lossy()]).0, 0);
    assert_eq!(cli(&["scenario", &bad.to_string_lossy()]).0, 1);
}

#[test]
fn story_mode_narrates_redacts_and_shows_action_results() {
    let base = tmp("story");
    charm(
        &base,
        "db",
        DB_META,
        None,
        Some("show:\n  description: shows things\n"),
        &[
            (
                "db-relation-changed",
                "if [ \"$(is-leader)\" = True ]; then relation-set --app host=db.local secret-key=hunter2 node-token=t0ps3cret; fi\n",
            ),
            ("show", "action-set answer=42 secret-key=hunter2\n"),
        ],
    );
    charm(&base, "app", APP_META, None, None, &[]);
    let story = base.join("story.yaml");
    std::fs::write(
        &story,
        r#"name: a small story
redact: [host]
steps:
  - say: Deploy and relate
  - deploy: {charm: charm-db, app: db}
  - deploy: {charm: charm-app}
  - relate: [app:db, db:db]
  - say: Ask the database
  - action: {unit: db/0, name: show}
"#,
    )
    .unwrap();
    let mut out = Vec::new();
    let res = juju_local::scenario::run_file_story(
        &story,
        juju_local::ModelOptions::new(bin()),
        &base.join("model"),
        &mut out,
    )
    .unwrap();
    assert!(res.passed, "{:?}", res.failure());
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("### a small story\n"), "{text}");
    assert!(text.contains("\n== Deploy and relate\n"), "{text}");
    assert!(text.contains("+host=<redacted, 8 chars>"), "{text}");
    assert!(text.contains("+secret-key=<redacted, 7 chars>"), "{text}");
    assert!(text.contains("+node-token=<redacted, 9 chars>"), "{text}");
    assert!(text.contains("result answer: 42"), "{text}");
    assert!(
        text.contains("result secret-key: <redacted, 7 chars>"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("t0ps3cret"),
        "{text}"
    );
    // The final status table closes the story.
    assert!(text.contains("Unit "), "{text}");
}

#[test]
fn timeline_redacts_credentials_unless_revealed() {
    let base = tmp("redact");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        Some("show: {}\n"),
        &[
            (
                "db-relation-changed",
                // A reactive cephfs provider's `plain:` auth, a library's cache of a bag holding an
                // s3 key, and a harmless value.
                "if [ \"$(is-leader)\" = True ]; then relation-set --app 'auth=plain:{\"username\": \"u\", \"key\": \"AQBxCEPHKEY==\"}' 'cache={\"secret-key\": \"S3CRETS3KEY\"}' bucket=b1; fi\n",
            ),
            (
                "show",
                "action-set answer=42 creds.secret-key=hunter2\necho 'CHARM_EVENT {\"event\":\"Creds\",\"fields\":{\"access-key\":\"AKIAACCESS\",\"bucket\":\"b1\"}}'\n",
            ),
        ],
    );
    let app = charm(&base, "app", APP_META, None, None, &[]);
    let model = base.join("m").to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let mut full = vec!["--model", model.as_str()];
        full.extend_from_slice(args);
        let r = cli(&full);
        assert_eq!(r.0, 0, "{args:?}: {}", r.2);
        r.1
    };
    run(&["init"]);
    run(&["deploy", &db.to_string_lossy(), "db"]);
    run(&["deploy", &app.to_string_lossy()]);
    run(&["relate", "app:db", "db:db"]);
    run(&["settle"]);
    run(&["action", "db/0", "show"]);
    let secrets = ["AQBxCEPHKEY", "S3CRETS3KEY", "hunter2", "AKIAACCESS"];
    for args in [
        vec!["timeline"],
        vec!["timeline", "--verbose"],
        vec!["timeline", "--format", "json"],
        vec!["run", "db/0", "update-status", "--format", "json"],
    ] {
        let text = run(&args);
        for secret in secrets {
            assert!(!text.contains(secret), "{args:?} shows {secret}:\n{text}");
        }
    }
    let verbose = run(&["timeline", "--verbose"]);
    assert!(verbose.contains("bucket=b1"), "{verbose}");
    assert!(verbose.contains("+bucket=\"b1\""), "{verbose}");
    assert!(verbose.contains("+auth=<redacted, "), "{verbose}");
    assert!(verbose.contains("+cache=<redacted, "), "{verbose}");
    assert!(verbose.contains("answer=42"), "{verbose}");
    assert!(
        verbose.contains("creds.secret-key=<redacted, 7 chars>"),
        "{verbose}"
    );
    assert!(
        verbose.contains(r#""access-key":"<redacted, 10 chars>""#),
        "{verbose}"
    );
    // --reveal shows everything, in text and JSON.
    for args in [
        vec!["timeline", "--verbose", "--reveal"],
        vec!["timeline", "--format", "json", "--reveal"],
    ] {
        let text = run(&args);
        for secret in secrets {
            assert!(text.contains(secret), "{args:?} hides {secret}:\n{text}");
        }
    }
}

#[test]
fn model_files_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (m, base) = model("private");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        // The hook's context and journal exist only while it runs: record their modes then
        // (after one tool call, so that the journal exists).
        &[(
            "install",
            "status-set maintenance installing\nstat -c '%a %n' \"$(dirname \"$JUJU_LOCAL_CONTEXT\")\"/* > \"$JUJU_CHARM_DIR/modes\"\n",
        )],
    );
    deploy(&m, &db, "db", 1);
    m.settle(50).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(m.dir()), 0o700);
    let mut files = Vec::new();
    for dir in [m.dir().to_path_buf(), m.dir().join("run")] {
        if dir != m.dir() {
            assert_eq!(mode(&dir), 0o700, "{dir:?}");
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                files.push(entry.path());
            }
        }
    }
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["state.json", "timeline.jsonl", "lock"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{file:?}");
    }
    let during = std::fs::read_to_string(unit_dir(&m, "db/0").join("modes")).unwrap();
    assert!(during.contains(".context.json"), "{during}");
    assert!(during.contains(".journal.jsonl"), "{during}");
    for line in during.lines() {
        assert!(line.starts_with("600 "), "{during}");
    }
}
