//! Harness tests of the cephfs-client charm, with recording test doubles of mount and umount.

use cephfs_client::{CONFIG, METADATA, MOUNTED, ShareMounted, ShareUnmounted, charm};
use cephfs_interfaces::{MountShare, ServerConnected, UmountShare};
use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const FSID: &str = "123456789-0abc-defg-hijk-lmnopqrstuvw";
const SHARE_INFO: &str = r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"]}"#;
const SECRET_ID: &str = "secret:cq1rbd5vbd1c78vvhv30";
const MONS: &str = "192.168.1.1:6789,192.168.1.2:6789,192.168.1.3:6789";

/// A private directory with recording doubles of the mount and umount commands.
struct Sandbox {
    dir: PathBuf,
}

/// The double: `sh double.sh <log> <exit code> <mountpoint> <argv...>` appends its argv, and the
/// key file's mode and checksum (never the key), to the log; it fails while `<log>.fail` exists.
/// When it succeeds it keeps `mountinfo` (next to the log) as the kernel would: `mount.log`
/// adds the mountpoint, `umount.log` removes it.
const DOUBLE: &str = r#"log="$1"; code="$2"; mp="$3"; shift 3
[ -e "$log.fail" ] && code=1
echo "argv: $*" >> "$log"
for arg in "$@"; do
  case "$arg" in
    *secretfile=*)
      f="${arg#*secretfile=}"; f="${f%%,*}"
      echo "secretfile: $(stat -c %a "$f") $(cksum < "$f")" >> "$log";;
  esac
done
table="$(dirname "$log")/mountinfo"
if [ "$code" = 0 ]; then
  case "$(basename "$log")" in
    mount.log) echo "100 1 0:99 / $mp rw - ceph share rw" >> "$table";;
    umount.log) if [ -f "$table" ]; then grep -vF " $mp rw - " "$table" > "$table.new"; mv "$table.new" "$table"; fi;;
  esac
fi
exit "$code"
"#;

#[cfg(test)] // test helpers: a failed setup may panic
impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir =
            std::env::temp_dir().join(format!("cephfs-client-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("double.sh"), DOUBLE).unwrap();
        Sandbox { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A command template running the double (`sh <double> <log> <exit code> {mountpoint} <args...>`).
    fn command(&self, log: &str, code: u8, args: &str) -> String {
        format!(
            "sh {} {} {code} {{mountpoint}} {args}",
            self.path("double.sh"),
            self.path(log)
        )
    }

    /// The command line the double ran as, for `ShareMounted`/`ShareUnmounted`.
    fn ran(&self, log: &str, mountpoint: &str, args: &str) -> String {
        format!(
            "sh {} {} 0 {mountpoint} {args}",
            self.path("double.sh"),
            self.path(log)
        )
    }

    /// Whether the doubles' mount table lists `mountpoint`.
    fn is_mounted(&self, mountpoint: &str) -> bool {
        self.log("mountinfo")
            .lines()
            .any(|l| l.contains(&format!(" {mountpoint} rw - ")))
    }

    /// Makes the `log` double fail (exit 1) until [`Sandbox::heal`].
    fn break_command(&self, log: &str) {
        std::fs::write(self.path(&format!("{log}.fail")), "").unwrap();
    }

    fn heal(&self, log: &str) {
        std::fs::remove_file(self.path(&format!("{log}.fail"))).unwrap();
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn mountpoint(&self) -> String {
        self.path("mnt")
    }

    fn secretfile(&self) -> String {
        self.path("keys/cephfs-client-0.secret")
    }

    /// The state of a configured unit whose doubles exit with these codes.
    fn state(&self, mount_code: u8, umount_code: u8) -> State {
        State::default()
            .config("mountpoint", self.mountpoint())
            .config(
                "mount-command",
                self.command(
                    "mount.log",
                    mount_code,
                    "-t ceph {mons}:{path} {mountpoint} -o name={user},secretfile={secretfile},fsid={fsid},mds_namespace={name}",
                ),
            )
            .config(
                "umount-command",
                self.command("umount.log", umount_code, "{mountpoint}"),
            )
            .config("secret-dir", self.path("keys"))
            .config("mount-table", self.path("mountinfo"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `cksum` of a key, as the double records it.
#[cfg(test)]
fn cksum(key: &str) -> String {
    let dir = std::env::temp_dir().join(format!("cephfs-client-cksum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.key", key.len()));
    std::fs::write(&file, key).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("cksum < {}", file.display()))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn harness() -> Harness {
    Harness::new(charm(), METADATA).config_yaml(CONFIG)
}

fn secret(key: &str) -> Secret {
    Secret::granted(
        SECRET_ID,
        SecretContent::new()
            .with("username", "user")
            .with("key", key),
    )
}

fn server() -> Relation {
    Relation::new("cephfs-share", 7, "cephfs-server-proxy").remote_unit(0, [("k", "v")])
}

fn served() -> Relation {
    server().remote_app_data([
        ("share_info", SHARE_INFO),
        ("auth", SECRET_ID),
        ("auth-rev", "1"),
    ])
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

fn mount_line(sb: &Sandbox) -> String {
    format!(
        "argv: -t ceph {MONS}:/data {} -o name=user,secretfile={},fsid={FSID},mds_namespace=filesystem",
        sb.mountpoint(),
        sb.secretfile()
    )
}

/// Mounts the share once; returns the state after.
fn mounted(sb: &Sandbox) -> State {
    let rel = served();
    let out = harness().run(
        rel.changed(None),
        sb.state(0, 0).relation(rel.clone()).secret(secret(KEY)),
    );
    assert!(out.ok(), "{:?}", out.error());
    out.state
}

#[test]
fn the_leader_requests_its_mountpoint() {
    let sb = Sandbox::new("request");
    let rel = server();
    let out = harness().run(rel.joined(0), sb.state(0, 0).leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<ServerConnected>().len(), 1);
    assert_eq!(
        out.state.rel(7).unwrap().local_app_data["name"],
        sb.mountpoint()
    );
}

#[test]
fn no_request_without_a_mountpoint() {
    let rel = server();
    let out = harness().run(rel.joined(0), State::default().leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.rel(7).unwrap().local_app_data.is_empty());
    assert_eq!(
        status(&out),
        Status::blocked("config option mountpoint is not set")
    );
}

#[test]
fn mount_share_mounts_with_a_private_key_file() {
    let sb = Sandbox::new("mount");
    let rel = served();
    let out = harness().run(
        rel.changed(None),
        sb.state(0, 0).relation(rel.clone()).secret(secret(KEY)),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    let log = sb.log("mount.log");
    assert_eq!(
        log,
        format!("{}\nsecretfile: 600 {}\n", mount_line(&sb), cksum(KEY))
    );
    assert!(!log.contains(KEY));
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
    assert!(Path::new(&sb.mountpoint()).is_dir());
    assert_eq!(
        status(&out),
        Status::active(format!("mounted filesystem:/data at {}", sb.mountpoint()))
    );
    assert_eq!(
        out.state.stored[MOUNTED]["secretfile"],
        serde_json::json!(sb.secretfile())
    );
    // The command line that ran is reported, with the key file but not the key.
    let mounted = out.emitted::<ShareMounted>();
    assert_eq!(mounted.len(), 1);
    assert_eq!(mounted[0].mountpoint, sb.mountpoint());
    assert_eq!(
        mounted[0].command,
        sb.ran(
            "mount.log",
            &sb.mountpoint(),
            mount_line(&sb).trim_start_matches("argv: ")
        )
    );
    assert!(sb.is_mounted(&sb.mountpoint()));
    // The record keeps the key's digest, never the key.
    let record = serde_json::to_string(&out.state.stored[MOUNTED]).unwrap();
    assert!(record.contains(&cephfs_client::key_digest(KEY)), "{record}");
    assert!(!record.contains(KEY), "{record}");
    assert!(out.emitted::<ShareUnmounted>().is_empty());
}

#[test]
fn the_same_share_is_not_mounted_twice() {
    let sb = Sandbox::new("twice");
    let state = mounted(&sb);
    // A secret-changed for the same content (or a re-delivered event) emits MountShare again.
    let out = harness().run(secret(KEY).changed(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    assert_eq!(sb.log("mount.log").matches("argv:").count(), 1);
    assert_eq!(sb.log("umount.log"), "");
    assert!(out.emitted::<ShareMounted>().is_empty());
}

#[test]
fn a_rotated_key_remounts() {
    let sb = Sandbox::new("rotate");
    let mut state = mounted(&sb);
    state.relations[0]
        .remote_app_data
        .insert("auth-rev".into(), "2".into());
    state.secrets[0] = state.secrets[0].clone().revision(
        SecretContent::new()
            .with("username", "user")
            .with("key", NEW_KEY),
    );
    let out = harness().run(served().changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    let log = sb.log("mount.log");
    assert_eq!(log.matches("argv:").count(), 2);
    assert!(
        log.ends_with(&format!("secretfile: 600 {}\n", cksum(NEW_KEY))),
        "{log}"
    );
    assert!(!log.contains(NEW_KEY));
}

#[test]
fn a_departing_server_unit_unmounts_nothing() {
    let sb = Sandbox::new("departed");
    let mut state = mounted(&sb);
    state.relations[0]
        .remote_units
        .insert(1, Default::default());
    let out = harness().run(served().departed(1), state);
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<UmountShare>().is_empty());
    assert_eq!(sb.log("umount.log"), "");
    assert_eq!(status(&out).kind, StatusKind::Active);
}

#[test]
fn a_removed_relation_unmounts_and_forgets_the_key() {
    let sb = Sandbox::new("broken");
    let state = mounted(&sb);
    assert!(Path::new(&sb.secretfile()).exists());
    let out = harness().run(served().broken(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<UmountShare>().len(), 1);
    let unmounted = out.emitted::<ShareUnmounted>();
    assert_eq!(unmounted.len(), 1);
    assert_eq!(
        unmounted[0].command,
        sb.ran("umount.log", &sb.mountpoint(), &sb.mountpoint())
    );
    assert!(!sb.is_mounted(&sb.mountpoint()));
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    assert!(!Path::new(&sb.secretfile()).exists());
    assert!(!out.state.stored.contains_key(MOUNTED));
    assert_eq!(
        status(&out),
        Status::blocked("missing relation cephfs-share: integrate with a CephFS server")
    );
}

#[test]
fn stop_unmounts() {
    let sb = Sandbox::new("stop");
    let out = harness().run(Event::Stop, mounted(&sb));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    assert!(!out.state.stored.contains_key(MOUNTED));
}

#[test]
fn a_failing_mount_fails_the_hook_and_is_retried() {
    let sb = Sandbox::new("mountfail");
    let rel = served();
    let state = sb.state(32, 0).relation(rel.clone()).secret(secret(KEY));
    let out = harness().run(rel.changed(None), state.clone());
    assert!(!out.ok());
    let error = out.error().unwrap_or_default().to_string();
    assert!(error.contains("mount-command"), "{error}");
    assert!(error.contains("exit status: 32"), "{error}");
    assert!(!error.contains(KEY));
    // Nothing was committed: when Juju retries the hook, MountShare comes again and mounts.
    assert_eq!(out.state, state);
    let mut state = state;
    state.config = sb.state(0, 0).config;
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    assert_eq!(sb.log("mount.log").matches("argv:").count(), 2);
    assert_eq!(status(&out).kind, StatusKind::Active);
}

#[test]
fn nothing_is_unmounted_when_the_mount_table_says_it_is_not_mounted() {
    let sb = Sandbox::new("notmounted");
    let state = mounted(&sb);
    // An administrator unmounted it: the table no longer lists it.
    std::fs::write(sb.path("mountinfo"), "").unwrap();
    let out = harness().run(Event::UpdateStatus, state.clone());
    assert_eq!(
        status(&out),
        Status::waiting(format!(
            "{} is not mounted any more; the next relation or config change mounts it again",
            sb.mountpoint()
        ))
    );
    let out = harness().run(served().broken(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(sb.log("umount.log"), "", "no umount of what is not mounted");
    assert!(out.emitted::<ShareUnmounted>().is_empty());
    assert!(out.logged("is not mounted any more: nothing to unmount"));
    assert!(!out.state.stored.contains_key(MOUNTED));
    assert!(!Path::new(&sb.secretfile()).exists());
}

#[test]
fn a_failing_unmount_of_a_mounted_share_fails_the_hook() {
    let sb = Sandbox::new("umountfail");
    let state = mounted(&sb);
    sb.break_command("umount.log");
    let out = harness().run(served().broken(), state.clone());
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("umount-command"));
    assert_eq!(out.state, state, "nothing committed: Juju retries");
}

/// Issue 10: a key rotation whose remount failed. The unmount succeeded, the mount did not, the
/// hook failed (nothing committed): the record still names the old mount. The retry must mount
/// again; it used to find the record equal to the share and the key file (already rewritten)
/// equal to the new key, skip the mount, and report "mounted".
#[test]
fn a_remount_that_failed_after_a_key_rotation_is_retried() {
    let sb = Sandbox::new("rotatefail");
    let mut state = mounted(&sb);
    state.relations[0]
        .remote_app_data
        .insert("auth-rev".into(), "2".into());
    state.secrets[0] = state.secrets[0].clone().revision(
        SecretContent::new()
            .with("username", "user")
            .with("key", NEW_KEY),
    );
    sb.break_command("mount.log");
    let out = harness().run(served().changed(None), state.clone());
    assert!(!out.ok(), "the remount failed");
    assert_eq!(sb.log("umount.log").matches("argv:").count(), 1);
    assert!(
        !sb.is_mounted(&sb.mountpoint()),
        "unmounted, not mounted again"
    );
    // Juju retries the hook with what was committed before it.
    sb.heal("mount.log");
    let out = harness().run(served().changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    let log = sb.log("mount.log");
    assert_eq!(log.matches("argv:").count(), 3, "{log}");
    assert!(
        log.ends_with(&format!("secretfile: 600 {}\n", cksum(NEW_KEY))),
        "{log}"
    );
    assert_eq!(
        sb.log("umount.log").matches("argv:").count(),
        1,
        "nothing to unmount on the retry"
    );
    assert!(sb.is_mounted(&sb.mountpoint()));
    assert_eq!(
        status(&out),
        Status::active(format!("mounted filesystem:/data at {}", sb.mountpoint()))
    );
    assert_eq!(
        out.state.stored[MOUNTED]["key_sha256"],
        serde_json::json!(cephfs_client::key_digest(NEW_KEY))
    );
}

#[test]
fn a_record_of_an_older_revision_without_a_digest_is_kept_and_completed() {
    let sb = Sandbox::new("olddigest");
    let mut state = mounted(&sb);
    if let Some(record) = state
        .stored
        .get_mut(MOUNTED)
        .and_then(|v| v.as_object_mut())
    {
        record.remove("key_sha256");
    }
    let out = harness().run(secret(KEY).changed(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        sb.log("mount.log").matches("argv:").count(),
        1,
        "no remount"
    );
    assert_eq!(
        out.state.stored[MOUNTED]["key_sha256"],
        serde_json::json!(cephfs_client::key_digest(KEY))
    );
}

#[test]
fn a_new_mountpoint_is_requested_and_mounted() {
    let sb = Sandbox::new("move");
    let mut state = mounted(&sb).leader(true);
    state
        .config
        .insert("mountpoint".into(), serde_json::json!(sb.path("elsewhere")));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(7).unwrap().local_app_data["name"],
        sb.path("elsewhere")
    );
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    assert!(
        sb.log("mount.log")
            .contains(&format!(" {} -o", sb.path("elsewhere")))
    );
}

#[test]
fn bad_remote_data_blocks_without_mounting() {
    let sb = Sandbox::new("baddata");
    let rel = server().remote_app_data([
        ("share_info", SHARE_INFO),
        ("auth", "R//appdqz4NP4Bxcc5XWrg=="),
    ]);
    let out = harness().run(rel.changed(None), sb.state(0, 0).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(s.message.contains("auth has no kind"), "{s}");
    assert!(!s.message.contains(KEY));
    assert_eq!(sb.log("mount.log"), "");
}

#[test]
fn unsafe_share_values_block_without_mounting() {
    let sb = Sandbox::new("unsafe");
    let share = SHARE_INFO.replace("\"filesystem\"", "\"fs,rw\"");
    let rel = server().remote_app_data([("share_info", share.as_str()), ("auth", SECRET_ID)]);
    let out = harness().run(
        rel.changed(None),
        sb.state(0, 0).relation(rel).secret(secret(KEY)),
    );
    assert!(out.ok(), "{:?}", out.error());
    let s = status(&out);
    assert!(
        s.message
            .contains("filesystem name \"fs,rw\" cannot go into mount options"),
        "{s}"
    );
    assert_eq!(sb.log("mount.log"), "");
}

#[test]
fn a_removed_secret_blocks() {
    let sb = Sandbox::new("nosecret");
    let rel = served();
    let out = harness().run(rel.changed(None), sb.state(0, 0).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message
            .contains(&format!("auth secret {SECRET_ID} does not exist")),
        "{s}"
    );
}

#[test]
fn a_mount_command_with_an_unknown_placeholder_blocks() {
    let sb = Sandbox::new("badtemplate");
    let rel = served();
    let state = sb
        .state(0, 0)
        .config("mount-command", "mount -o secret={key} {mountpoint}")
        .relation(rel.clone())
        .secret(secret(KEY));
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(s.message.contains("unknown placeholder {key}"), "{s}");
}

#[test]
fn waiting_for_the_server() {
    let sb = Sandbox::new("waiting");
    let out = harness().run(Event::UpdateStatus, sb.state(0, 0).relation(server()));
    assert_eq!(
        status(&out),
        Status::waiting(format!(
            "waiting for the CephFS server to share {}",
            sb.mountpoint()
        ))
    );
    let out = harness().run(Event::UpdateStatus, sb.state(0, 0));
    assert_eq!(status(&out).kind, StatusKind::Blocked);
}

#[test]
fn hook_tool_calls_of_a_mount() {
    let sb = Sandbox::new("calls");
    let rel = served();
    let out = harness().run(
        rel.changed(None),
        sb.state(0, 0).relation(rel.clone()).secret(secret(KEY)),
    );
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        vec![
            "relation-get", // remote app bag
            "relation-get", // own unit bag (cache)
            "config-get",
            "secret-get",
            "status-set",
            "relation-set", // cache, sent when the dispatch succeeds
        ]
    );
    let out = harness().run(Event::UpdateStatus, out.state);
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(tools, vec!["config-get"]);
}
