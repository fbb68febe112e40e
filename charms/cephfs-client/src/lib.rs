//! `cephfs-client`: a subordinate that mounts a CephFS share from a `cephfs_share` server.
//!
//! - The leader requests the share named after the configured `mountpoint` (as the Python
//!   cephfs-client does), when the server connects, when the mountpoint changes and when it
//!   becomes leader.
//! - Every unit mounts on [`MountShare`] with the configurable `mount-command` (default
//!   `mount -t ceph <mons>:<path> <mountpoint> -o name=<user>,secretfile=<file>,fsid=<fsid>,mds_namespace=<name>`).
//!   The cephx key goes to a file of mode 0600 under `secret-dir`, never on the command line.
//!   What to do is decided from what is really mounted (the `mount-table`,
//!   `/proc/self/mountinfo`) and from the record of the last mount, which keeps the SHA-256 of
//!   the key it used (never the key): a share mounted with the same data and key is left alone;
//!   changed data or a rotated key unmount (if mounted) and mount again; a recorded share that
//!   is not mounted any more (say a remount after a key rotation failed) is mounted again.
//! - Every unit unmounts with `umount-command` on [`UmountShare`] (the relation is removed) and
//!   on `stop`; a server unit leaving does not unmount anything.
//! - Bad remote data or config is a Blocked status naming the problem (a value that starts with
//!   `-`, or is too long for a command line, is bad data); a failing, hanging (killed after
//!   [`command::TIMEOUT`]) mount or unmount command fails the hook so that Juju retries it.
//! - After a mount or unmount command succeeded the charm reports the command line it ran as a
//!   [`ShareMounted`] / [`ShareUnmounted`] event (`CHARM_EVENT` on stdout: Juju's debug log, the
//!   local model's timeline). The line names the key file, never the key.

pub mod command;
pub mod mounts;

use cephfs_interfaces::{CephFsRequirer, MountInfo, MountShare, ServerConnected, UmountShare};
use charm::{
    Charm, Ctx, CustomEvent, Error, Event, EventKind, RelationId, Status, StatusCollector,
};
use command::{CommandTemplate, Values};
use mounts::MountTable;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// The endpoint of the server relation.
pub const ENDPOINT: &str = "cephfs-share";
/// Stored-state key of what this unit has mounted.
pub const MOUNTED: &str = "mounted";

fn requirer() -> CephFsRequirer {
    CephFsRequirer::new(ENDPOINT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    mountpoint: Option<String>,
    mount_command: Option<String>,
    umount_command: Option<String>,
    secret_dir: Option<String>,
    mount_table: Option<String>,
}

/// The kernel's mount table of this process's mount namespace.
pub const PROC_MOUNTINFO: &str = "/proc/self/mountinfo";

/// The charm's config, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to mount; also the requested share name.
    pub mountpoint: String,
    /// The mount command.
    pub mount: CommandTemplate,
    /// The unmount command.
    pub umount: CommandTemplate,
    /// Where the key file goes.
    pub secret_dir: PathBuf,
    /// The mount table that says what is mounted.
    pub mount_table: PathBuf,
}

fn raw_config(ctx: &mut Ctx) -> Result<RawConfig, Error> {
    Ok(ctx.config()?)
}

fn mount_table_path(raw: &RawConfig) -> Result<PathBuf, Error> {
    match raw.mount_table.as_deref().map(str::trim) {
        None | Some("") => Ok(PathBuf::from(PROC_MOUNTINFO)),
        Some(t) if t.starts_with('/') => Ok(PathBuf::from(t)),
        Some(t) => Err(Error::blocked(format!(
            "config option mount-table must be an absolute path (got {t:?})"
        ))),
    }
}

fn umount_template(raw: &RawConfig) -> Result<CommandTemplate, Error> {
    Ok(CommandTemplate::parse(
        "umount-command",
        raw.umount_command.as_deref().unwrap_or(""),
    )?)
}

impl Config {
    /// Reads and checks the config; a Blocked error names the option.
    pub fn load(ctx: &mut Ctx) -> Result<Config, Error> {
        let raw = raw_config(ctx)?;
        let mountpoint = match raw.mountpoint.as_deref().map(str::trim) {
            None | Some("") => return Err(Error::blocked("config option mountpoint is not set")),
            Some(m) if !m.starts_with('/') || m == "/" => {
                return Err(Error::blocked(format!(
                    "config option mountpoint must be an absolute path other than / (got {m:?})"
                )));
            }
            Some(m) => m.to_string(),
        };
        let secret_dir = match raw.secret_dir.as_deref().map(str::trim) {
            Some(d) if d.starts_with('/') => PathBuf::from(d),
            other => {
                return Err(Error::blocked(format!(
                    "config option secret-dir must be an absolute path (got {:?})",
                    other.unwrap_or("")
                )));
            }
        };
        let mount_table = mount_table_path(&raw)?;
        Ok(Config {
            mount_table,
            mountpoint,
            mount: CommandTemplate::parse(
                "mount-command",
                raw.mount_command.as_deref().unwrap_or(""),
            )?,
            umount: umount_template(&raw)?,
            secret_dir,
        })
    }

    /// What is mounted now.
    pub fn mounts(&self) -> Result<MountTable, Error> {
        MountTable::read(&self.mount_table).map_err(|e| {
            Error::fail(format!(
                "cannot read the mount table {}: {e}",
                self.mount_table.display()
            ))
        })
    }

    /// The key file of this unit: `<secret-dir>/<app>-<n>.secret`.
    pub fn secret_file(&self, unit: &str) -> PathBuf {
        self.secret_dir
            .join(format!("{}.secret", unit.replace('/', "-")))
    }
}

/// Reported after a mount command succeeded: where, and the command line that ran.
///
/// `command` is the argv joined with spaces (words quoted for a POSIX shell where needed). It
/// names the key file (`{secretfile}`), never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareMounted {
    /// The relation to the server.
    pub relation: RelationId,
    /// Where the share is mounted.
    pub mountpoint: String,
    /// The mount command line that ran.
    pub command: String,
}

impl CustomEvent for ShareMounted {
    const NAME: &'static str = "cephfs_client.mounted";
    const ALIASES: &'static [&'static str] = &["cephfs-client-mounted"];
}

/// Reported after an unmount command succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareUnmounted {
    /// The mountpoint.
    pub mountpoint: String,
    /// The unmount command line that ran.
    pub command: String,
}

impl CustomEvent for ShareUnmounted {
    const NAME: &'static str = "cephfs_client.unmounted";
    const ALIASES: &'static [&'static str] = &["cephfs-client-unmounted"];
}

/// What this unit has mounted (kept in stored state; the key's digest, never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mounted {
    /// Where.
    pub mountpoint: String,
    /// Monitor addresses joined with `,`.
    pub mons: String,
    /// Path inside the filesystem.
    pub path: String,
    /// Ceph cluster id.
    pub fsid: String,
    /// Filesystem name.
    pub name: String,
    /// Ceph user.
    pub user: String,
    /// The key file.
    pub secretfile: String,
    /// SHA-256 (hex) of the key the mount used; absent in records of older revisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_sha256: Option<String>,
}

/// The SHA-256 of a key, in hex: what the record keeps to notice a rotation.
pub fn key_digest(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Mounted {
    fn new(config: &Config, info: &MountInfo, unit: &str) -> Mounted {
        Mounted {
            mountpoint: config.mountpoint.clone(),
            mons: info.share.monitor_hosts.join(","),
            path: info.share.path.clone(),
            fsid: info.share.fsid.clone(),
            name: info.share.name.clone(),
            user: info.auth.username.clone(),
            secretfile: config.secret_file(unit).display().to_string(),
            key_sha256: Some(key_digest(&info.auth.key)),
        }
    }

    /// Whether this record mounted `wanted`'s share with `key`. A record from an older
    /// revision has no digest: its key file (written just before that mount) stands in.
    fn same_mount(&self, wanted: &Mounted, key: &str) -> bool {
        let same_key = match &self.key_sha256 {
            Some(digest) => *digest == key_digest(key),
            None => std::fs::read_to_string(&self.secretfile).is_ok_and(|k| k == key),
        };
        let data = |m: &Mounted| {
            (
                m.mountpoint.clone(),
                m.mons.clone(),
                m.path.clone(),
                m.fsid.clone(),
                m.name.clone(),
                m.user.clone(),
                m.secretfile.clone(),
            )
        };
        same_key && data(self) == data(wanted)
    }

    fn values(&self) -> Values<'_> {
        Values {
            mons: &self.mons,
            path: &self.path,
            mountpoint: &self.mountpoint,
            user: &self.user,
            secretfile: &self.secretfile,
            fsid: &self.fsid,
            name: &self.name,
        }
    }
}

/// Characters that would break out of a mount option or the mount source.
fn safe_word(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '='))
}

/// Longest value of each share field accepted: far above any real one, far below what a
/// command line can hold.
const MAX_FIELD: usize = 1024;
/// Most monitors accepted.
const MAX_MONITORS: usize = 64;

/// A remote value as a message may quote it: debug-quoted, at most 64 characters.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(64).collect();
    if cut.len() < value.len() {
        format!("{:?}... ({} bytes)", cut, value.len())
    } else {
        format!("{value:?}")
    }
}

/// A field that could be read as an option (or overflow a command line) is bad data, whatever
/// the command template does with it.
fn check_field(what: &str, value: &str) -> Result<(), String> {
    if value.starts_with('-') {
        return Err(format!("{what} {} starts with '-'", shown(value)));
    }
    if value.len() > MAX_FIELD {
        return Err(format!(
            "{what} {} is longer than {MAX_FIELD} bytes",
            shown(value)
        ));
    }
    Ok(())
}

/// Checks that the share can be put on a mount command line safely; never shows the key.
fn check_mountable(info: &MountInfo) -> Result<(), String> {
    let share = &info.share;
    let user = &info.auth.username;
    check_field("user name", user)?;
    check_field("fsid", &share.fsid)?;
    check_field("filesystem name", &share.name)?;
    check_field("path", &share.path)?;
    for host in &share.monitor_hosts {
        check_field("monitor host", host)?;
    }
    if share.monitor_hosts.len() > MAX_MONITORS {
        return Err(format!(
            "{} monitor hosts, more than {MAX_MONITORS}",
            share.monitor_hosts.len()
        ));
    }
    if user.is_empty()
        || !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!("user name {} is not a Ceph user name", shown(user)));
    }
    let key = &info.auth.key;
    if key.is_empty()
        || key.len() > MAX_FIELD
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err("the key is not a base64 cephx key".into());
    }
    if !safe_word(&share.fsid) {
        return Err(format!(
            "fsid {} cannot go into mount options",
            shown(&share.fsid)
        ));
    }
    if !safe_word(&share.name) {
        return Err(format!(
            "filesystem name {} cannot go into mount options",
            shown(&share.name)
        ));
    }
    if !share.path.starts_with('/') || !safe_word(&share.path) {
        return Err(format!(
            "path {} is not an absolute path without spaces or commas",
            shown(&share.path)
        ));
    }
    if share.monitor_hosts.is_empty() {
        return Err("no monitor hosts".into());
    }
    if let Some(bad) = share
        .monitor_hosts
        .iter()
        .find(|h| !safe_word(h) || h.contains('/'))
    {
        return Err(format!(
            "monitor host {} is not a host:port address",
            shown(bad)
        ));
    }
    Ok(())
}

/// What should be mounted, if the share is there; Blocked errors for bad config or data.
fn plan(ctx: &mut Ctx, relation: &RelationId) -> Result<Option<(Config, MountInfo)>, Error> {
    let config = Config::load(ctx)?;
    let Some(info) = requirer().mount_info(ctx, relation)? else {
        return Ok(None);
    };
    if let Err(why) = check_mountable(&info) {
        let app = ctx
            .remote_app(relation)?
            .unwrap_or_else(|| "the server".into());
        return Err(Error::blocked(format!(
            "cannot mount the share from {app} (relation {relation}): {why}"
        )));
    }
    Ok(Some((config, info)))
}

/// Writes the key to `path` with mode 0600 (a fresh file renamed into place).
fn write_secret_file(path: &Path, key: &str) -> Result<(), Error> {
    let fail = |what: &str, e: std::io::Error| {
        Error::fail(format!(
            "cannot {what} the key file {}: {e}",
            path.display()
        ))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", e))?;
    }
    let tmp = path.with_extension("secret.tmp");
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail("replace", e)),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| fail("create", e))?;
    file.write_all(key.as_bytes())
        .map_err(|e| fail("write", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| fail("install", e))
}

fn remove_secret_file(path: &str) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove the key file {path}: {e}"),
    }
}

/// Unmounts a record if its mountpoint is mounted (per `table`), and forgets its key file.
fn unmount_record(
    ctx: &mut Ctx,
    umount: &CommandTemplate,
    table: &MountTable,
    mounted: &Mounted,
) -> Result<(), Error> {
    if table.is_mounted(&mounted.mountpoint) {
        let argv = umount.render(&mounted.values());
        command::run(umount.option(), &argv, "")?;
        tracing::info!("unmounted {}", mounted.mountpoint);
        ctx.emit(ShareUnmounted {
            mountpoint: mounted.mountpoint.clone(),
            command: command::display(&argv),
        });
    } else {
        tracing::info!(
            "{} is not mounted any more: nothing to unmount",
            mounted.mountpoint
        );
    }
    remove_secret_file(&mounted.secretfile);
    Ok(())
}

/// Mounts the share of `relation` unless it is really mounted, with this data and this key.
fn ensure_mounted(ctx: &mut Ctx, relation: &RelationId) -> Result<(), Error> {
    let Some((config, info)) = plan(ctx, relation)? else {
        tracing::debug!("no complete share on {relation} yet");
        return Ok(());
    };
    let wanted = Mounted::new(&config, &info, ctx.unit_name());
    let table = config.mounts()?;
    let current: Option<Mounted> = ctx.stored(MOUNTED)?;
    match current {
        Some(current)
            if current.same_mount(&wanted, &info.auth.key)
                && table.is_mounted(&wanted.mountpoint) =>
        {
            tracing::debug!("{} is already mounted with this share", wanted.mountpoint);
            if current.key_sha256.is_none() {
                // A record of an older revision: keep the digest from now on.
                ctx.store(MOUNTED, &wanted)?;
            }
            return Ok(());
        }
        Some(current) => {
            unmount_record(ctx, &config.umount, &table, &current)?;
            ctx.forget(MOUNTED);
        }
        // No record: nothing of ours to unmount (what someone else mounted there is left alone).
        None => {}
    }
    write_secret_file(Path::new(&wanted.secretfile), &info.auth.key)?;
    std::fs::create_dir_all(&wanted.mountpoint).map_err(|e| {
        Error::fail(format!(
            "cannot create the mountpoint {}: {e}",
            wanted.mountpoint
        ))
    })?;
    let argv = config.mount.render(&wanted.values());
    command::run(config.mount.option(), &argv, &info.auth.key)?;
    tracing::info!(
        "mounted {}:{} ({}) at {}",
        wanted.name,
        wanted.path,
        wanted.mons,
        wanted.mountpoint
    );
    ctx.emit(ShareMounted {
        relation: relation.clone(),
        mountpoint: wanted.mountpoint.clone(),
        command: command::display(&argv),
    });
    ctx.store(MOUNTED, &wanted)?;
    Ok(())
}

/// Unmounts whatever this unit mounted.
fn unmount(ctx: &mut Ctx) -> Result<(), Error> {
    let Some(current) = ctx.stored::<Mounted>(MOUNTED)? else {
        return Ok(());
    };
    let raw = raw_config(ctx)?;
    let table = MountTable::read(&mount_table_path(&raw)?)
        .map_err(|e| Error::fail(format!("cannot read the mount table: {e}")))?;
    unmount_record(ctx, &umount_template(&raw)?, &table, &current)?;
    ctx.forget(MOUNTED);
    Ok(())
}

/// The leader requests the share named after the mountpoint.
fn request(ctx: &mut Ctx, relation: &RelationId) -> Result<(), Error> {
    let config = Config::load(ctx)?;
    requirer().request_share(ctx, relation, &config.mountpoint)?;
    Ok(())
}

fn on_server_connected(ctx: &mut Ctx, event: &ServerConnected) -> Result<(), Error> {
    request(ctx, &event.relation)
}

fn on_mount_share(ctx: &mut Ctx, event: &MountShare) -> Result<(), Error> {
    ensure_mounted(ctx, &event.relation)
}

fn on_umount_share(ctx: &mut Ctx, _event: &UmountShare) -> Result<(), Error> {
    unmount(ctx)
}

/// config-changed: request under the (new) name and mount where configured now.
fn on_config_changed(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    let Some(relation) = requirer().relation(ctx)? else {
        return Ok(());
    };
    request(ctx, &relation)?;
    ensure_mounted(ctx, &relation)
}

/// leader-elected: make sure the request is there (an earlier leader may have missed the join).
fn on_leader_elected(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    match requirer().relation(ctx)? {
        Some(relation) => request(ctx, &relation),
        None => Ok(()),
    }
}

fn on_stop(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    unmount(ctx)
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let config = Config::load(ctx)?;
    if let Some(m) = ctx.stored::<Mounted>(MOUNTED)? {
        // The record says what was mounted; only the table says it still is.
        if config.mounts()?.is_mounted(&m.mountpoint) {
            statuses.add_unit(Status::active(format!(
                "mounted {}:{} at {}",
                m.name, m.path, m.mountpoint
            )));
        } else {
            statuses.add_unit(Status::waiting(format!(
                "{} is not mounted any more; the next relation or config change mounts it again",
                m.mountpoint
            )));
        }
        return Ok(());
    }
    let Some(relation) = requirer().relation(ctx)? else {
        statuses.add_unit(Status::blocked(format!(
            "missing relation {ENDPOINT}: integrate with a CephFS server"
        )));
        return Ok(());
    };
    match plan(ctx, &relation)? {
        None => statuses.add_unit(Status::waiting(format!(
            "waiting for the CephFS server to share {}",
            config.mountpoint
        ))),
        Some(_) => statuses.add_unit(Status::waiting("CephFS share available, not mounted yet")),
    }
    Ok(())
}

/// The charm: the requirer plugin, handlers and the status.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .plugin(requirer())
        .on_event(on_server_connected)
        .on_event(on_mount_share)
        .on_event(on_umount_share)
        .on(EventKind::ConfigChanged, on_config_changed)
        .on(EventKind::LeaderElected, on_leader_elected)
        .on(EventKind::Stop, on_stop)
        .collect_status(status);
    charm
}

#[cfg(test)]
mod tests {
    use super::*;
    use cephfs_interfaces::{AuthInfo, ShareInfo};

    fn info() -> MountInfo {
        MountInfo {
            share: ShareInfo {
                fsid: "123456789-0abc-defg-hijk-lmnopqrstuvw".into(),
                name: "filesystem".into(),
                path: "/data".into(),
                monitor_hosts: vec!["192.168.1.1:6789".into()],
            },
            auth: AuthInfo::new("user", "R//appdqz4NP4Bxcc5XWrg=="),
        }
    }

    #[test]
    fn mountable_shares() {
        assert_eq!(check_mountable(&info()), Ok(()));
        type Change = Box<dyn Fn(&mut MountInfo)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|i| i.auth.username = "u,rw".into()),
                "not a Ceph user name",
            ),
            (
                Box::new(|i| i.auth.key = "R//a ppd".into()),
                "not a base64 cephx key",
            ),
            (Box::new(|i| i.share.fsid = "a=b".into()), "fsid"),
            (Box::new(|i| i.share.name = "".into()), "filesystem name"),
            (Box::new(|i| i.share.path = "data".into()), "absolute path"),
            (
                Box::new(|i| i.share.monitor_hosts.clear()),
                "no monitor hosts",
            ),
            (
                Box::new(|i| i.share.monitor_hosts = vec!["a,b".into()]),
                "monitor host",
            ),
            // Option-shaped values are bad data, whatever the command template does with them.
            (
                Box::new(|i| i.share.monitor_hosts = vec!["--output=/tmp/x".into()]),
                r#"monitor host "--output=/tmp/x" starts with '-'"#,
            ),
            (
                Box::new(|i| i.share.monitor_hosts.push("-o".into())),
                r#"monitor host "-o" starts with '-'"#,
            ),
            (
                Box::new(|i| i.auth.username = "-o".into()),
                r#"user name "-o" starts with '-'"#,
            ),
            (
                Box::new(|i| i.share.fsid = "--fsid".into()),
                r#"fsid "--fsid" starts with '-'"#,
            ),
            (
                Box::new(|i| i.share.name = "-n".into()),
                r#"filesystem name "-n" starts with '-'"#,
            ),
            (
                Box::new(|i| i.share.path = "-/data".into()),
                r#"path "-/data" starts with '-'"#,
            ),
            (
                Box::new(|i| i.share.monitor_hosts = vec![format!("{}:6789", "m".repeat(1 << 20))]),
                "is longer than 1024 bytes",
            ),
            (
                Box::new(|i| i.share.monitor_hosts = vec!["10.0.0.1:6789".into(); 65]),
                "65 monitor hosts, more than 64",
            ),
        ];
        for (change, expected) in cases {
            let mut i = info();
            change(&mut i);
            let err = check_mountable(&i).unwrap_err();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("R//a"), "{err}");
            assert!(
                err.len() < 200,
                "a message quotes an excerpt only: {}",
                err.len()
            );
        }
    }
}
