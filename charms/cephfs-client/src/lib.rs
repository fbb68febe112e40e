//! `cephfs-client`: a subordinate that mounts a CephFS share from a `cephfs_share` server.
//!
//! - The leader requests the share named after the configured `mountpoint` (as the Python
//!   cephfs-client does), when the server connects, when the mountpoint changes and when it
//!   becomes leader.
//! - Every unit mounts on [`MountShare`] with the configurable `mount-command` (default
//!   `mount -t ceph <mons>:<path> <mountpoint> -o name=<user>,secretfile=<file>,fsid=<fsid>,mds_namespace=<name>`).
//!   The cephx key goes to a file of mode 0600 under `secret-dir`, never on the command line.
//!   A share that is already mounted with the same data and key is left alone; changed data or
//!   a rotated key unmount and mount again.
//! - Every unit unmounts with `umount-command` on [`UmountShare`] (the relation is removed) and
//!   on `stop`; a server unit leaving does not unmount anything.
//! - Bad remote data or config is a Blocked status naming the problem; a failing mount or
//!   unmount command fails the hook so that Juju retries it.
//! - After a mount or unmount command succeeded the charm reports the command line it ran as a
//!   [`ShareMounted`] / [`ShareUnmounted`] event (`CHARM_EVENT` on stdout: Juju's debug log, the
//!   local model's timeline). The line names the key file, never the key.

pub mod command;

use cephfs_interfaces::{CephFsRequirer, MountInfo, MountShare, ServerConnected, UmountShare};
use charm::{
    Charm, Ctx, CustomEvent, Error, Event, EventKind, RelationId, Status, StatusCollector,
};
use command::{CommandTemplate, Values};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// `metadata.yaml`, built in so the charm never parses a file it could get wrong.
pub const METADATA: &str = include_str!("../metadata.yaml");
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
}

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
}

fn raw_config(ctx: &mut Ctx) -> Result<RawConfig, Error> {
    Ok(ctx.config()?)
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
        Ok(Config {
            mountpoint,
            mount: CommandTemplate::parse(
                "mount-command",
                raw.mount_command.as_deref().unwrap_or(""),
            )?,
            umount: umount_template(&raw)?,
            secret_dir,
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
    const NAME: &'static str = "cephfs-client-mounted";
}

/// Reported after an unmount command succeeded (or failed on a mountpoint that was not mounted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareUnmounted {
    /// The mountpoint.
    pub mountpoint: String,
    /// The unmount command line that ran.
    pub command: String,
}

impl CustomEvent for ShareUnmounted {
    const NAME: &'static str = "cephfs-client-unmounted";
}

/// What this unit has mounted (kept in stored state; no key in it).
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
        }
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

/// Checks that the share can be put on a mount command line safely; never shows the key.
fn check_mountable(info: &MountInfo) -> Result<(), String> {
    let share = &info.share;
    let user = &info.auth.username;
    if user.is_empty()
        || !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!("user name {user:?} is not a Ceph user name"));
    }
    let key = &info.auth.key;
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err("the key is not a base64 cephx key".into());
    }
    if !safe_word(&share.fsid) {
        return Err(format!(
            "fsid {:?} cannot go into mount options",
            share.fsid
        ));
    }
    if !safe_word(&share.name) {
        return Err(format!(
            "filesystem name {:?} cannot go into mount options",
            share.name
        ));
    }
    if !share.path.starts_with('/') || !safe_word(&share.path) {
        return Err(format!(
            "path {:?} is not an absolute path without spaces or commas",
            share.path
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
        return Err(format!("monitor host {bad:?} is not a host:port address"));
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

/// Whether `mountpoint` is a mount point now (`/proc/mounts`, with its octal escapes).
fn is_mounted(mountpoint: &str) -> bool {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return false;
    };
    mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .any(|field| unescape_mount_field(field) == mountpoint)
}

fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unmounts a record; a failure is tolerated when the mountpoint is not mounted anyway.
fn unmount_record(ctx: &mut Ctx, umount: &CommandTemplate, mounted: &Mounted) -> Result<(), Error> {
    let argv = umount.render(&mounted.values());
    match command::run(umount.option(), &argv, "") {
        Ok(()) => {}
        Err(e) if !is_mounted(&mounted.mountpoint) => {
            tracing::warn!("{e}; {} is not mounted, carrying on", mounted.mountpoint);
        }
        Err(e) => return Err(e.into()),
    }
    remove_secret_file(&mounted.secretfile);
    tracing::info!("unmounted {}", mounted.mountpoint);
    ctx.emit(ShareUnmounted {
        mountpoint: mounted.mountpoint.clone(),
        command: command::display(&argv),
    });
    Ok(())
}

/// Mounts the share of `relation` if it is there and not mounted as it should be.
fn ensure_mounted(ctx: &mut Ctx, relation: &RelationId) -> Result<(), Error> {
    let Some((config, info)) = plan(ctx, relation)? else {
        tracing::debug!("no complete share on {relation} yet");
        return Ok(());
    };
    let wanted = Mounted::new(&config, &info, ctx.unit_name());
    let current: Option<Mounted> = ctx.stored(MOUNTED)?;
    if let Some(current) = current {
        let same_key =
            std::fs::read_to_string(&current.secretfile).is_ok_and(|k| k == info.auth.key);
        if current == wanted && same_key {
            tracing::debug!("{} is already mounted with this share", wanted.mountpoint);
            return Ok(());
        }
        unmount_record(ctx, &config.umount, &current)?;
        ctx.forget(MOUNTED);
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
    unmount_record(ctx, &umount_template(&raw)?, &current)?;
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
        statuses.add_unit(Status::active(format!(
            "mounted {}:{} at {}",
            m.name, m.path, m.mountpoint
        )));
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
        .metadata(METADATA)
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
        ];
        for (change, expected) in cases {
            let mut i = info();
            change(&mut i);
            let err = check_mountable(&i).unwrap_err();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("R//a"), "{err}");
        }
    }

    #[test]
    fn proc_mounts_escapes() {
        assert_eq!(unescape_mount_field("/mnt/my\\040share"), "/mnt/my share");
        assert_eq!(unescape_mount_field("/plain"), "/plain");
        assert_eq!(unescape_mount_field("/x\\"), "/x\\");
        assert!(is_mounted("/proc") || !Path::new("/proc/mounts").exists());
        assert!(!is_mounted("/definitely/not/mounted/here"));
    }
}
