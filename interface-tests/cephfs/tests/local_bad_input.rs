//! Providers that do not use the library, through the local Juju model: a shell-script charm
//! (`interface-tests/cephfs/raw-provider`) writes `share_info`, `auth` and `auth-rev` verbatim
//! with `relation-set`, as an old reactive provider (`auth=plain:...`) or a broken one would.
//! The real cephfs-client binary mounts what is usable and is Blocked, naming the problem, by
//! what is not; no hook fails and no key is ever shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod local;

use cephfs_contract::{KEY, NEW_KEY, PATH, SHARE_INFO, USERNAME};
use interface_tests_common::{assert_never_an_option, tool_calls};
use juju_local::timeline::HookRecord;
use local::*;
use serde_json::json;

const UNIT: &str = "cephfs-client/0";

/// The client next to one principal unit, related to the shell provider (which sends nothing
/// until configured).
fn related(name: &str) -> (Local, u64) {
    let local = Local::new(name, 1).with_raw_provider();
    let rel = local.relate(RAW);
    (local, rel)
}

fn plain(username: &str, key: &str) -> String {
    format!(r#"plain:{{"username": "{username}", "key": "{key}"}}"#)
}

fn client_records(records: Vec<HookRecord>) -> Vec<HookRecord> {
    records.into_iter().filter(|r| r.unit == UNIT).collect()
}

/// Sends `values` from the provider; the client must end up Blocked saying `expected` (and
/// naming the relation and the provider), with every hook succeeding.
fn assert_blocked_by(local: &Local, rel: u64, values: &[(&str, &str)], expected: &str) {
    let mark = local.mark();
    local.config(RAW, values);
    let records = local.since(mark);
    assert!(
        records
            .iter()
            .any(|r| r.unit == UNIT && r.hook.name == "cephfs-share-relation-changed"),
        "the client was not told about {values:?}"
    );
    assert!(records.iter().all(|r| r.outcome == "ok"));
    let (status, message) = local.status(UNIT);
    assert_eq!(status, "blocked", "{values:?}: {message}");
    assert!(
        message.contains(expected),
        "{values:?}: {message:?} should say {expected:?}"
    );
    assert!(
        message.contains(&format!("relation cephfs-share:{rel}")) && message.contains(RAW),
        "{message} should name the relation and the provider"
    );
    assert!(!message.contains(KEY), "{message}");
    assert_never_logged(&client_records(records), KEY);
}

#[test]
fn a_plain_auth_provider_is_mounted() {
    let (local, rel) = related("bi-plain");
    assert_eq!(
        local.status(UNIT),
        (
            "waiting".into(),
            format!(
                "waiting for the CephFS server to share {}",
                local.sb.mountpoint()
            )
        )
    );
    let mark = local.mark();
    local.config(
        RAW,
        &[("share_info", SHARE_INFO), ("auth", &plain(USERNAME, KEY))],
    );
    let records = local.since(mark);

    let st = local.state();
    assert_eq!(
        bag(&st, rel, CLIENT),
        [("name".to_string(), local.sb.mountpoint())].into()
    );
    assert!(st.secrets.is_empty(), "no secrets with plain auth");
    let mount_events = events(&records, "cephfs_share.mount_share");
    assert_eq!(mount_events.len(), 1);
    assert_eq!(mount_events[0].1["changed"], json!(["share_info", "auth"]));
    assert_eq!(
        local.mounts(),
        format!(
            "{}\nsecretfile: 600 {}\n",
            mount_line(&local.sb, PATH, USERNAME, UNIT),
            local.sb.cksum(KEY)
        )
    );
    assert_eq!(
        local.status(UNIT),
        (
            "active".into(),
            format!("mounted filesystem:{PATH} at {}", local.sb.mountpoint())
        )
    );
    assert_never_logged(&client_records(records), KEY);

    // A reactive provider rotates by rewriting the plain auth: the client remounts.
    local.config(RAW, &[("auth", &plain(USERNAME, NEW_KEY))]);
    assert_eq!(local.umounts().matches("argv:").count(), 1);
    assert!(
        local
            .mounts()
            .ends_with(&format!("secretfile: 600 {}\n", local.sb.cksum(NEW_KEY))),
        "{}",
        local.mounts()
    );
}

#[test]
fn malformed_auth_and_share_info_block_the_client_naming_the_problem() {
    let (local, rel) = related("bi-malformed");
    let good_auth = plain(USERNAME, KEY);
    local.config(RAW, &[("share_info", SHARE_INFO)]);
    for (auth, expected) in [
        (
            "nokind",
            "auth has no kind (expected secret:<id> or plain:<json>)",
        ),
        ("token:abc", r#"auth has unknown kind "token""#),
        ("secret:", "auth names a secret but gives no secret id"),
        ("plain:{not json", "plain auth is not valid JSON"),
        (r#"plain:["user"]"#, "plain auth is not a JSON object"),
        (
            r#"plain:{"username": "user"}"#,
            r#"auth info has no "key" field"#,
        ),
        (
            r#"plain:{"username": "user", "key": 7}"#,
            r#"auth info field "key" is not a string"#,
        ),
    ] {
        assert_blocked_by(&local, rel, &[("auth", auth)], expected);
    }
    for (share_info, expected) in [
        ("not json", "share_info is not valid JSON"),
        ("[]", "share_info is not a JSON object"),
        (
            r#"{"fsid": "f", "name": "n", "path": "/p"}"#,
            r#"share_info has no "monitor_hosts" field"#,
        ),
        (
            r#"{"fsid": 1, "name": "n", "path": "/p", "monitor_hosts": []}"#,
            r#"share_info field "fsid" is not"#,
        ),
    ] {
        assert_blocked_by(
            &local,
            rel,
            &[("share_info", share_info), ("auth", &good_auth)],
            expected,
        );
    }
    // Values the wire format allows but a mount line cannot take safely.
    assert_blocked_by(
        &local,
        rel,
        &[("share_info", SHARE_INFO), ("auth", &plain("user,rw", KEY))],
        r#"cannot mount the share from raw"#,
    );
    assert_eq!(local.mounts(), "", "nothing was mounted");

    // Good data again: the client mounts and is active.
    local.config(RAW, &[("auth", &good_auth)]);
    assert_eq!(local.status(UNIT).0, "active");
    assert_eq!(local.mounts().matches("argv:").count(), 1);
}

#[test]
fn secrets_that_are_malformed_ungranted_or_removed_block_the_client() {
    let (local, rel) = related("bi-secret");
    let raw_secret = |local: &Local| secret(&local.state(), "raw-auth").cloned();

    // A granted secret without a key.
    local.config(RAW, &[("share_info", SHARE_INFO)]);
    assert_blocked_by(
        &local,
        rel,
        &[
            ("auth", "secret"),
            ("secret-content", "username=user"),
            ("auth-rev", "1"),
        ],
        r#"auth info has no "key" field"#,
    );
    let first = raw_secret(&local).unwrap();
    assert!(first.granted_to(UNIT, CLIENT));

    // Removed, but still named in `auth`.
    assert_blocked_by(
        &local,
        rel,
        &[("remove-secret", "true"), ("auth-rev", "2")],
        &format!("auth secret {} does not exist", first.uri()),
    );
    assert!(raw_secret(&local).is_none());

    // A new secret the provider forgot to grant.
    assert_blocked_by(
        &local,
        rel,
        &[
            ("remove-secret", "false"),
            ("grant", "false"),
            ("secret-content", &format!("username={USERNAME} key={KEY}")),
            ("auth-rev", "3"),
        ],
        "is not granted to this application",
    );
    let second = raw_secret(&local).unwrap();
    assert!(second.grants.is_empty());
    assert_eq!(
        bag(&local.state(), rel, RAW)["auth"],
        second.uri(),
        "auth names the new secret"
    );

    // Granted: the client mounts with its key.
    local.config(RAW, &[("grant", "true"), ("auth-rev", "4")]);
    assert_eq!(local.status(UNIT).0, "active");
    assert_eq!(
        local.mounts(),
        format!(
            "{}\nsecretfile: 600 {}\n",
            mount_line(&local.sb, PATH, USERNAME, UNIT),
            local.sb.cksum(KEY)
        )
    );

    // The mounted share's secret is removed: Blocked, and the mount is left alone.
    assert_blocked_by(
        &local,
        rel,
        &[("remove-secret", "true"), ("auth-rev", "5")],
        &format!("auth secret {} does not exist", second.uri()),
    );
    assert_eq!(local.umounts(), "");
    assert!(exists(&local.sb.secretfile()));
    assert_never_shown(&client_records(local.since(0)), KEY);
}

/// A `share_info` with these fields, as JSON.
fn share(fsid: &str, name: &str, path: &str, hosts: &[&str]) -> String {
    json!({"fsid": fsid, "name": name, "path": path, "monitor_hosts": hosts}).to_string()
}

/// Issue 10: every share field that reaches the mount command line, option-shaped. None becomes
/// an option of anything (the argv the local model recorded shows each only after `--`, in a
/// status message), nothing is mounted, and the client is Blocked naming the field.
#[test]
fn option_shaped_share_values_never_reach_a_command() {
    let (local, rel) = related("bi-options");
    let good_auth = plain(USERNAME, KEY);
    let output = format!("--output={}", local.sb.path("leak"));
    let hosts = ["192.168.1.1:6789"];
    let fsid = cephfs_contract::FSID;
    for (share_info, auth, value, expected) in [
        (
            share(fsid, "fs", "/data", &[output.as_str()]),
            good_auth.clone(),
            output.as_str(),
            "monitor host \"--output=",
        ),
        (
            share(fsid, "fs", "/data", &["192.168.1.1:6789", "-o"]),
            good_auth.clone(),
            "-o",
            r#"monitor host "-o" starts with '-'"#,
        ),
        (
            share("--fsid=evil", "fs", "/data", &hosts),
            good_auth.clone(),
            "--fsid=evil",
            r#"fsid "--fsid=evil" starts with '-'"#,
        ),
        (
            share(fsid, "-n", "/data", &hosts),
            good_auth.clone(),
            "-n",
            r#"filesystem name "-n" starts with '-'"#,
        ),
        (
            share(fsid, "fs", "--bind", &hosts),
            good_auth.clone(),
            "--bind",
            r#"path "--bind" starts with '-'"#,
        ),
        (
            share(fsid, "fs", "/data", &hosts),
            plain("-v", KEY),
            "-v",
            r#"user name "-v" starts with '-'"#,
        ),
        // A secret id goes to secret-get: only ids Juju produces get there.
        (
            share(fsid, "fs", "/data", &hosts),
            format!("secret:{output}"),
            output.as_str(),
            "auth names a secret but its id is not one Juju produces",
        ),
    ] {
        let mark = local.mark();
        local.config(RAW, &[("share_info", &share_info), ("auth", &auth)]);
        let records = local.since(mark);
        assert!(
            records.iter().any(|r| r.unit == UNIT),
            "the client was not told about {value}"
        );
        assert!(records.iter().all(|r| r.outcome == "ok"), "{value}");
        let (status, message) = local.status(UNIT);
        assert_eq!(status, "blocked", "{value}: {message}");
        assert!(
            message.contains(expected) && message.contains(&format!("relation cephfs-share:{rel}")),
            "{value}: {message}"
        );
        assert_never_an_option(&records, UNIT, value);
        let calls = tool_calls(&records, UNIT);
        let set = calls.iter().rfind(|c| c[0] == "status-set").unwrap();
        assert_eq!(
            set[..],
            [
                "status-set",
                "--application=False",
                "blocked",
                "--",
                message.as_str()
            ]
        );
        assert_eq!(local.mounts(), "", "nothing was mounted for {value}");
        assert!(calls.iter().all(|c| c[0] != "secret-get"), "{calls:?}");
    }
    assert!(!exists(&local.sb.path("leak")));
}

/// Issue 10: a megabyte of remote data in a field a status quotes. The status message is bounded
/// (it used to be the whole value, and status-set failed with an argument-list error on every
/// retry, leaving the unit in error); every hook succeeds.
#[test]
fn a_megabyte_of_remote_data_gives_a_bounded_status_not_a_failing_hook() {
    let (local, rel) = related("bi-huge");
    let huge_host = format!("{},evil:6789", "m".repeat(1 << 20));
    let mark = local.mark();
    local.config(
        RAW,
        &[
            (
                "share_info",
                &share(cephfs_contract::FSID, "fs", "/data", &[&huge_host]),
            ),
            ("auth", &plain(USERNAME, KEY)),
        ],
    );
    let records = local.since(mark);
    assert!(records.iter().any(|r| r.unit == UNIT));
    assert!(records.iter().all(|r| r.outcome == "ok"));
    let (status, message) = local.status(UNIT);
    assert_eq!(status, "blocked");
    assert!(
        message.len() <= charm::status::MAX_STATUS_MESSAGE,
        "{}",
        message.len()
    );
    assert!(
        message.starts_with(&format!(
            "cannot mount the share from {RAW} (relation cephfs-share:{rel}): monitor host \"mmmm"
        )),
        "{message}"
    );
    // No hook tool got the megabyte.
    for call in tool_calls(&records, UNIT) {
        assert!(
            call.iter().all(|a| a.len() < 64 * 1024),
            "{} got {} bytes",
            call[0],
            call.iter().map(String::len).max().unwrap_or(0)
        );
    }
    assert_eq!(local.mounts(), "");
}
