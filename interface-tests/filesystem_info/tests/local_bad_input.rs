//! Providers that do not use the library, through the local Juju model: a shell-script charm
//! (`interface-tests/filesystem_info/raw-provider`) writes `endpoint` verbatim with
//! `relation-set`, as the Python nfs and lustre proxies, a reactive CephFS provider, or a broken
//! or hostile one would. The real filesystem-client binary mounts what is usable and is Blocked,
//! naming the problem, by what is not; no hook fails, nothing hostile reaches a hook tool or a
//! command line, and no key is ever shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod local;

use filesystem_info_contract::KEY;
use juju_local::timeline::HookRecord;
use local::*;
use std::path::Path;

const UNIT: &str = "filesystem-client/0";

/// The client next to one principal unit, related to the shell provider (which sends nothing
/// until configured).
fn related(name: &str) -> (Local, u64) {
    let local = Local::new(name, 1).with_raw_provider();
    let rel = local.relate(CLIENT, RAW);
    (local, rel)
}

fn client_records(records: Vec<HookRecord>) -> Vec<HookRecord> {
    records.into_iter().filter(|r| r.unit == UNIT).collect()
}

/// Sends `values` from the provider; the client must end up Blocked saying `expected` (and
/// naming the provider), with every hook succeeding and nothing mounted by it.
fn assert_blocked_by(local: &Local, values: &[(&str, &str)], expected: &str) -> Vec<HookRecord> {
    let mounts_before = local.fake_log(UNIT).len();
    let mark = local.mark();
    local.config(RAW, values);
    let records = local.since(mark);
    assert!(
        records
            .iter()
            .any(|r| r.unit == UNIT && r.hook.name == "filesystem-relation-changed"),
        "the client was not told about {values:?}"
    );
    assert!(records.iter().all(|r| r.outcome == "ok"), "{values:?}");
    let (status, message) = local.status(UNIT);
    assert_eq!(status, "blocked", "{values:?}: {message}");
    assert!(
        message.contains(expected),
        "{values:?}: {message:?} should say {expected:?}"
    );
    assert!(message.contains(RAW), "{message} should name the provider");
    assert!(message.chars().count() <= 240, "{message}");
    assert_eq!(local.fake_log(UNIT).len(), mounts_before, "nothing mounted");
    assert_never_logged(&client_records(records.clone()), KEY);
    records
}

#[test]
fn an_nfs_provider_in_shell_is_mounted_and_unmounted() {
    let (local, _) = related("fsbad-nfs");
    assert_eq!(
        local.status(UNIT),
        (
            "waiting".into(),
            format!("waiting for {RAW} to publish its filesystem")
        )
    );
    local.config(
        RAW,
        &[("endpoint", "nfs://(%5Bfe80%3A%3A1%5D%3A2049)/srv/data")],
    );
    assert_eq!(
        local.fake_log(UNIT),
        [format!(
            "mount -t nfs -o dev,exec,port=2049,rw,suid -- [fe80::1]:/srv/data {MOUNTPOINT}"
        )]
    );
    assert_eq!(
        local.status(UNIT),
        (
            "active".into(),
            format!("mounted the nfs filesystem from {RAW} at {MOUNTPOINT}")
        )
    );
    // Flags from config: one remount with the new options.
    local.config(CLIENT, &[("nosuid", "true"), ("read-only", "true")]);
    assert_eq!(
        local.fake_log(UNIT)[1..],
        [
            format!("umount -- {MOUNTPOINT}"),
            format!(
                "mount -t nfs -o dev,exec,nosuid,port=2049,ro -- [fe80::1]:/srv/data {MOUNTPOINT}"
            ),
        ]
    );
    local
        .model
        .remove_relation(&format!("{CLIENT}:filesystem"), Some(RAW))
        .unwrap();
    local.settle();
    assert_eq!(
        local.fake_log(UNIT).last().unwrap(),
        &format!("umount -- {MOUNTPOINT}")
    );
    assert!(local.fake_mounted(UNIT).is_empty());
}

#[test]
fn a_lustre_endpoint_needs_a_lustre_client() {
    let (local, _) = related("fsbad-lustre");
    let uri = "lustre://(192.168.227.11%40tcp1%2C192.168.227.12%40tcp1)/?fs-name=lustre";
    if Path::new("/sbin/mount.lustre").exists() || Path::new("/usr/sbin/mount.lustre").exists() {
        local.config(RAW, &[("endpoint", uri)]);
        assert_eq!(
            local.fake_log(UNIT),
            [format!(
                "mount -t lustre -o dev,exec,rw,suid -- 192.168.227.11@tcp1:192.168.227.12@tcp1:/lustre {MOUNTPOINT}"
            )]
        );
        return;
    }
    assert_blocked_by(
        &local,
        &[("endpoint", uri)],
        "this machine has no Lustre client (mount.lustre is not installed)",
    );
}

#[test]
fn a_reactive_plain_key_is_mounted_and_never_logged() {
    let (local, _) = related("fsbad-plain");
    let uri = "cephfs://fsuser@(10.0.0.1%3A6789)/vol?fsid=123-abc&name=fs1&auth=plain%3AR%2F%2Fappdqz4NP4Bxcc5XWrg%3D%3D";
    let mark = local.mark();
    local.config(RAW, &[("endpoint", uri)]);
    let log = local.fake_log(UNIT);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[0].ends_with(&format!("-- fsuser@123-abc.fs1=/vol {MOUNTPOINT}")),
        "{log:?}"
    );
    assert_eq!(log[1], key_file_line(KEY));
    assert_never_logged(&client_records(local.since(mark)), KEY);
}

#[test]
fn a_secret_from_a_shell_provider_is_read_once_granted() {
    let (local, _) = related("fsbad-secret");
    let uri =
        "cephfs://fsuser@(10.0.0.1%3A6789)/vol?fsid=123-abc&name=fs1&auth={secret}&auth-rev=1";
    let content = format!("key={KEY}");
    assert_blocked_by(
        &local,
        &[
            ("grant", "false"),
            ("secret-content", &content),
            ("endpoint", uri),
        ],
        "is not granted to this application",
    );
    // A grant changes no bag, so the client hears nothing; its next update-status mounts.
    local.config(RAW, &[("grant", "true")]);
    assert!(local.fake_log(UNIT).is_empty());
    let record = local
        .model
        .run_hook(UNIT, juju_local::state::HookSpec::simple("update-status"))
        .unwrap();
    assert_eq!(record.outcome, "ok", "{record:?}");
    assert_eq!(local.fake_log(UNIT)[1], key_file_line(KEY));
    assert_eq!(local.status(UNIT).0, "active");
}

#[test]
fn hostile_and_malformed_endpoints_block_without_reaching_a_command() {
    let (local, rel) = related("fsbad-hostile");
    let cases = [
        ("nfs://(-oexec)/srv", "nfs host `-oexec` starts with '-'"),
        (
            "lustre://(n%40tcp)/?fs-name=--help",
            "fs-name `--help` starts with '-'",
        ),
        (
            "cephfs://-ofoo@(10.0.0.1)/vol?fsid=f&name=n&auth=plain%3Ak",
            "ceph user `-ofoo` starts with '-'",
        ),
        ("nfs://(h)/a%00b", "path contains a control character"),
        ("nfs://(192.168.1.1:65535)/export", "invalid list of hosts"),
        ("nfs://(h%3A99999)/x", "port 99999 is out of range"),
        (
            "CEPHFS://u@(h)/?fsid=f&name=n&auth=plain%3Ak",
            "unsupported filesystem type `CEPHFS`",
        ),
        (
            "cephfs://u@(h)/?fsid=f&name=n&auth=secret%3A--reveal",
            "auth is not a Juju secret id",
        ),
        (
            "cephfs://u@(h)/?fsid=f&name=n&auth=secret%3Acq1rbd5vbd1c78vvhv30",
            "does not exist",
        ),
        ("cephfs://u@(h)/?fsid=f&name=n", "missing auth in uri"),
        (
            "cephfs://u@(h,a%2Cb)/v?fsid=f&name=n&auth=plain%3A%21bad",
            "not base64",
        ),
    ];
    for (uri, expected) in cases {
        let records = assert_blocked_by(&local, &[("endpoint", uri)], expected);
        // Nothing hostile was passed to a hook tool by the client.
        for r in client_records(records) {
            for t in &r.tools {
                assert!(
                    !t.args
                        .iter()
                        .any(|a| a.contains("--reveal") || a.starts_with("-o")),
                    "#{} {} {:?}",
                    r.seq,
                    t.tool,
                    t.args
                );
            }
        }
    }
    assert!(local.fake_log(UNIT).is_empty());
    let _ = rel;
}

#[test]
fn a_bad_endpoint_after_a_good_one_keeps_the_mount() {
    let (local, _) = related("fsbad-keep");
    local.config(RAW, &[("endpoint", "nfs://(10.0.0.5)/srv")]);
    assert_eq!(local.fake_mounted(UNIT), [MOUNTPOINT]);
    assert_blocked_by(&local, &[("endpoint", "nfs://(-x)/srv")], "nfs host `-x`");
    assert_eq!(
        local.fake_mounted(UNIT),
        [MOUNTPOINT],
        "what is mounted stays"
    );
    // The provider fixes it: the client remounts the new export.
    local.config(RAW, &[("endpoint", "nfs://(10.0.0.6)/srv")]);
    assert_eq!(
        local.fake_log(UNIT)[1..],
        [
            format!("umount -- {MOUNTPOINT}"),
            format!("mount -t nfs -o dev,exec,rw,suid -- 10.0.0.6:/srv {MOUNTPOINT}"),
        ]
    );
}
