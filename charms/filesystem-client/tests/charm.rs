//! Harness tests of the filesystem-client charm, with a recording double of the machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use filesystem_client::command::{CommandOutput, RunError, System};
use filesystem_client::{
    CONFIG, FilesystemMounted, FilesystemUnmounted, METADATA, MOUNTED, NO_RELATION, charm_with,
};
use filesystem_info::{Key, MountFilesystem, UmountFilesystem};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const SECRET_ID: &str = "secret:d0erdgfmp25c762i8np0";
const KEY_PATH: &str = "/nonexistent-charm-dir/cephfs.key";
const NFS_URI: &str = "nfs://(10.0.0.5%3A2049)/srv/data";
const NFS_MOUNT: &str = "mount -t nfs -o dev,exec,port=2049,rw,suid -- 10.0.0.5:/srv/data /data";
const CEPH_URI: &str = "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=1";
const CEPH_MOUNT: &str = "mount -t ceph -o dev,exec,mon_addr=10.0.0.1:6789/10.0.0.2:6789,rw,secretfile=/nonexistent-charm-dir/cephfs.key,suid -- fsuser@123-abc.fs1=/vol/a b /data";
const LUSTRE_URI: &str = "lustre://(192.168.227.11%40tcp1%2C192.168.227.12%40tcp1)/?fs-name=lustre";

/// The machine, in memory: what ran, what is mounted, which key files and helpers exist.
#[derive(Default)]
struct Machine {
    /// Every mount and umount command line (argv joined with spaces).
    log: RefCell<Vec<String>>,
    mounted: RefCell<BTreeSet<String>>,
    keys: RefCell<BTreeMap<PathBuf, String>>,
    dirs: RefCell<BTreeSet<PathBuf>>,
    helpers: RefCell<BTreeSet<String>>,
    /// The next command of this program fails with (code, stderr).
    fail: RefCell<BTreeMap<String, (i32, String)>>,
}

impl System for Machine {
    fn run(&self, argv: &[String]) -> Result<CommandOutput, RunError> {
        let ok = |code: i32| {
            Ok(CommandOutput {
                code: Some(code),
                stderr: String::new(),
            })
        };
        let program = argv[0].as_str();
        if program == "mountpoint" {
            return ok(if self.mounted.borrow().contains(&argv[3]) {
                0
            } else {
                32
            });
        }
        self.log.borrow_mut().push(argv.join(" "));
        if let Some((code, stderr)) = self.fail.borrow_mut().remove(program) {
            return Ok(CommandOutput {
                code: Some(code),
                stderr,
            });
        }
        let target = argv.last().cloned().unwrap_or_default();
        match program {
            "mount" => {
                self.mounted.borrow_mut().insert(target);
                ok(0)
            }
            "umount" => {
                if self.mounted.borrow_mut().remove(&target) {
                    ok(0)
                } else {
                    Ok(CommandOutput {
                        code: Some(32),
                        stderr: format!("umount: {target}: not mounted."),
                    })
                }
            }
            _ => Err(RunError::Spawn {
                program: program.into(),
                detail: "unknown".into(),
            }),
        }
    }

    fn write_key(&self, path: &Path, key: &Key) -> std::io::Result<()> {
        self.keys
            .borrow_mut()
            .insert(path.to_path_buf(), key.expose().to_string());
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.keys.borrow_mut().remove(path);
        Ok(())
    }

    fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        self.dirs.borrow_mut().insert(path.to_path_buf());
        Ok(())
    }

    fn has_mount_helper(&self, fstype: &str) -> bool {
        self.helpers.borrow().contains(fstype)
    }
}

impl Machine {
    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    fn key(&self) -> Option<String> {
        self.keys.borrow().get(Path::new(KEY_PATH)).cloned()
    }
}

fn setup() -> (Rc<Machine>, Harness) {
    let machine = Rc::new(Machine::default());
    let harness = Harness::new(charm_with(machine.clone()), METADATA).config_yaml(CONFIG);
    (machine, harness)
}

fn provider(uri: Option<&str>) -> Relation {
    let rel = Relation::new("filesystem", 3, "nfs-server-proxy").remote_unit(0, [("k", "v")]);
    match uri {
        Some(uri) => rel.remote_app_data([("endpoint", uri)]),
        None => rel,
    }
}

fn state(rel: Relation) -> State {
    State::default()
        .leader(true)
        .config("mountpoint", "/data")
        .relation(rel)
}

fn key_secret(keys: &[&str]) -> Secret {
    let mut secret = Secret::granted(SECRET_ID, SecretContent::new().with("key", keys[0]));
    for key in &keys[1..] {
        secret = secret.revision(SecretContent::new().with("key", *key));
    }
    secret
}

fn unit_status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

fn assert_no_key(out: &Output, machine: &Machine, key: &str) {
    assert!(
        !out.logs.iter().any(|(_, l)| l.contains(key)),
        "key in logs"
    );
    assert!(!unit_status(out).message.contains(key), "key in status");
    assert!(
        !machine.log().iter().any(|l| l.contains(key)),
        "key in argv"
    );
    assert!(
        !serde_json::to_string(&out.state.stored)
            .unwrap()
            .contains(key)
    );
    for e in &out.emitted {
        assert!(!e.data.to_string().contains(key), "key in {}", e.name);
    }
}

#[test]
fn without_a_provider_the_unit_says_so() {
    let (machine, harness) = setup();
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).config("mountpoint", "/data"),
    );
    assert!(out.ok());
    assert_eq!(unit_status(&out), Status::blocked(NO_RELATION));
    assert_eq!(out.state.app_status, Some(Status::blocked(NO_RELATION)));
    assert!(machine.log().is_empty());
    let out = harness.run(Event::ConfigChanged, State::default());
    assert_eq!(
        unit_status(&out),
        Status::blocked("config option mountpoint is not set")
    );
    let out = harness.run(
        Event::ConfigChanged,
        State::default().config("mountpoint", "data"),
    );
    assert_eq!(unit_status(&out).kind, StatusKind::Blocked);
    assert!(unit_status(&out).message.contains("absolute path"));
}

#[test]
fn an_endpoint_not_published_yet_is_waited_for() {
    let (machine, harness) = setup();
    let rel = provider(None);
    let out = harness.run(rel.changed(Some(0)), state(rel));
    assert!(out.ok());
    assert_eq!(out.emitted::<MountFilesystem>().len(), 1);
    assert_eq!(
        unit_status(&out),
        Status::waiting("waiting for nfs-server-proxy to publish its filesystem")
    );
    assert!(machine.log().is_empty());
}

#[test]
fn nfs_is_mounted_once_and_left_alone_after() {
    let (machine, harness) = setup();
    let rel = provider(Some(NFS_URI));
    let out = harness.run(rel.changed(None), state(rel.clone()));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(machine.log(), [NFS_MOUNT]);
    assert!(machine.dirs.borrow().contains(Path::new("/data")));
    assert_eq!(
        unit_status(&out),
        Status::active("mounted the nfs filesystem from nfs-server-proxy at /data")
    );
    assert_eq!(
        out.state.app_status,
        Some(Status::active("Integrated with `nfs` provider"))
    );
    let mounted = out.emitted::<FilesystemMounted>();
    assert_eq!(mounted.len(), 1);
    assert_eq!(mounted[0].command, NFS_MOUNT);
    assert_eq!(mounted[0].relation, rel.rid());
    assert_eq!(out.state.stored[MOUNTED]["source"], "10.0.0.5:/srv/data");

    // Every relation-changed is a mount event; an unchanged, mounted filesystem is left alone.
    let again = harness.run(rel.changed(Some(0)), out.state.clone());
    assert!(again.ok());
    assert_eq!(again.emitted::<MountFilesystem>().len(), 1);
    assert_eq!(machine.log(), [NFS_MOUNT]);
    assert!(again.emitted::<FilesystemMounted>().is_empty());

    // After a reboot (nothing mounted), update-status mounts it again.
    machine.mounted.borrow_mut().clear();
    let after = harness.run(Event::UpdateStatus, out.state);
    assert!(after.ok());
    assert_eq!(machine.log(), [NFS_MOUNT, NFS_MOUNT]);
}

#[test]
fn cephfs_key_goes_to_a_file_and_a_new_key_remounts() {
    let (machine, harness) = setup();
    let rel = provider(Some(CEPH_URI));
    let out = harness.run(
        rel.changed(None),
        state(rel.clone()).secret(key_secret(&[KEY])),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(machine.log(), [CEPH_MOUNT]);
    assert_eq!(machine.key().as_deref(), Some(KEY));
    assert_eq!(
        out.emitted::<FilesystemMounted>()[0].command,
        CEPH_MOUNT.replace(
            "fsuser@123-abc.fs1=/vol/a b",
            "'fsuser@123-abc.fs1=/vol/a b'"
        )
    );
    assert!(
        out.state.stored[MOUNTED]["key_sha256"]
            .as_str()
            .unwrap()
            .len()
            == 64
    );
    assert_no_key(&out, &machine, KEY);

    // The provider rotates: a new revision and a new auth-rev in the URI.
    let mut next = out.state;
    next.secrets = vec![key_secret(&[KEY, NEW_KEY]).tracking(1)];
    next.relations.retain(|r| r.id != 3);
    let rel = provider(Some(&CEPH_URI.replace("auth-rev=1", "auth-rev=2")));
    let out = harness.run(rel.changed(None), next.relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(machine.log(), [CEPH_MOUNT, "umount -- /data", CEPH_MOUNT]);
    assert_eq!(machine.key().as_deref(), Some(NEW_KEY));
    assert_eq!(out.emitted::<FilesystemUnmounted>().len(), 1);
    assert_no_key(&out, &machine, NEW_KEY);
}

#[test]
fn config_changes_remount_with_the_new_options() {
    let (machine, harness) = setup();
    let rel = provider(Some(NFS_URI));
    let out = harness.run(rel.changed(None), state(rel));
    let next = out
        .state
        .config("mountpoint", "/mnt/shared")
        .config("noexec", true)
        .config("read-only", true);
    let out = harness.run(Event::ConfigChanged, next);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        machine.log(),
        [
            NFS_MOUNT,
            "umount -- /data",
            "mount -t nfs -o dev,noexec,port=2049,ro,suid -- 10.0.0.5:/srv/data /mnt/shared"
        ]
    );
}

#[test]
fn relation_removal_unmounts_and_removes_the_key() {
    let (machine, harness) = setup();
    let rel = provider(Some(CEPH_URI));
    let out = harness.run(
        rel.changed(None),
        state(rel.clone()).secret(key_secret(&[KEY])),
    );
    assert!(machine.key().is_some());
    let out = harness.run(rel.broken(), out.state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<UmountFilesystem>().len(), 1);
    assert_eq!(machine.log(), [CEPH_MOUNT, "umount -- /data"]);
    assert_eq!(machine.key(), None);
    assert!(!out.state.stored.contains_key(MOUNTED));
    let unmounted = out.emitted::<FilesystemUnmounted>();
    assert_eq!(unmounted[0].command, "umount -- /data");
    assert_eq!(unit_status(&out), Status::blocked(NO_RELATION));
}

#[test]
fn stop_unmounts() {
    let (machine, harness) = setup();
    let rel = provider(Some(NFS_URI));
    let out = harness.run(rel.changed(None), state(rel));
    let out = harness.run(Event::Stop, out.state);
    assert!(out.ok());
    assert_eq!(machine.log(), [NFS_MOUNT, "umount -- /data"]);
    assert!(!out.state.stored.contains_key(MOUNTED));
}

#[test]
fn lustre_is_mounted_only_with_a_lustre_client() {
    let (machine, harness) = setup();
    let rel = provider(Some(LUSTRE_URI));
    let out = harness.run(rel.changed(None), state(rel.clone()));
    assert!(out.ok(), "no crash on a filesystem it cannot mount");
    assert_eq!(
        unit_status(&out),
        Status::blocked(
            "cannot mount the lustre filesystem from nfs-server-proxy: this machine has no Lustre client (mount.lustre is not installed)"
        )
    );
    assert!(machine.log().is_empty());
    machine.helpers.borrow_mut().insert("lustre".into());
    let out = harness.run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert_eq!(
        machine.log(),
        [
            "mount -t lustre -o dev,exec,rw,suid -- 192.168.227.11@tcp1:192.168.227.12@tcp1:/lustre /data"
        ]
    );
    assert_eq!(unit_status(&out).kind, StatusKind::Active);
}

#[test]
fn bad_endpoints_block_and_keep_what_is_mounted() {
    let (machine, harness) = setup();
    let rel = provider(Some(NFS_URI));
    let mounted = harness.run(rel.changed(None), state(rel)).state;
    for (uri, says) in [
        ("nfs://(-oexec)/srv", "nfs host `-oexec` starts with '-'"),
        ("nfs://(192.168.1.1:2049)/srv", "invalid list of hosts"),
        ("smb://(h)/x", "unsupported filesystem type `smb`"),
        (
            "nfs://(h)#x",
            "nfs path `#x` cannot go on a mount command line",
        ),
        (
            "cephfs://u@(h)/?fsid=f&name=n&auth=secret%3A--reveal",
            "auth is not a Juju secret id",
        ),
    ] {
        let mut next = mounted.clone();
        next.relations.retain(|r| r.id != 3);
        let rel = provider(Some(uri));
        let out = harness.run(rel.changed(None), next.relation(rel));
        assert!(out.ok(), "bad data is a status, not a failed hook: {uri}");
        let status = unit_status(&out);
        assert_eq!(status.kind, StatusKind::Blocked, "{uri}");
        assert!(status.message.contains(says), "{uri}: {status}");
        assert!(status.message.contains("nfs-server-proxy"), "{status}");
        assert!(status.message.chars().count() <= 240);
        assert!(out.state.stored.contains_key(MOUNTED), "the mount stays");
    }
    assert_eq!(machine.log(), [NFS_MOUNT], "no umount, no mount");
}

#[test]
fn a_missing_secret_blocks() {
    let (machine, harness) = setup();
    let rel = provider(Some(CEPH_URI));
    let out = harness.run(rel.changed(None), state(rel));
    assert!(out.ok());
    assert!(unit_status(&out).message.contains("does not exist"));
    assert!(machine.log().is_empty());
}

#[test]
fn a_failing_mount_fails_the_hook_without_the_key() {
    let (machine, harness) = setup();
    machine
        .fail
        .borrow_mut()
        .insert("mount".into(), (32, format!("mount error: bad key {KEY}")));
    let rel = provider(Some(CEPH_URI));
    let out = harness.run(rel.changed(None), state(rel).secret(key_secret(&[KEY])));
    let error = out.error().unwrap().to_string();
    assert!(
        error.contains("failed (exit 32): mount error: bad key <redacted>"),
        "{error}"
    );
    assert!(!error.contains(KEY));
    assert!(!out.state.stored.contains_key(MOUNTED), "nothing recorded");
}

#[test]
fn a_failing_umount_fails_only_while_still_mounted() {
    let (machine, harness) = setup();
    let rel = provider(Some(NFS_URI));
    let mounted = harness.run(rel.changed(None), state(rel.clone())).state;
    machine.fail.borrow_mut().insert(
        "umount".into(),
        (32, "umount: /data: target is busy.".into()),
    );
    let out = harness.run(rel.broken(), mounted.clone());
    assert!(!out.ok());
    assert!(out.error().unwrap().to_string().contains("target is busy"));
    // Not mounted any more (someone unmounted it): carry on.
    machine.mounted.borrow_mut().clear();
    let out = harness.run(rel.broken(), mounted);
    assert!(out.ok(), "{:?}", out.error());
    assert!(!out.state.stored.contains_key(MOUNTED));
}
