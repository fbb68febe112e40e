//! `filesystem-client`: a subordinate that mounts the filesystem a `filesystem_info` provider
//! publishes (NFS, CephFS or Lustre), as the Python filesystem-client does, and unmounts it.
//!
//! - Every unit mounts on [`MountFilesystem`] (every relation-changed) and on config-changed,
//!   start, upgrade-charm and update-status (a mount lost to a reboot comes back): config
//!   `mountpoint`, with `noexec`, `nosuid`, `nodev` and `read-only`. The command lines are in
//!   [`mount`]; a CephFS key goes to a file of mode 0600 in the charm directory
//!   (`cephfs.key`), never on a command line, in a log or in stored state (a SHA-256 of it is
//!   kept to notice a new key). What is mounted as it should be is left alone; a new endpoint,
//!   key, mountpoint or flag unmounts and mounts again.
//! - Every unit unmounts on [`UmountFilesystem`] (relation-broken) and on `stop`, and removes
//!   the key file. (The Python charm never unmounts: its autofs map line stays.)
//! - A Lustre endpoint is mounted only where `mount.lustre` is installed; otherwise the unit is
//!   Blocked, saying so (the Python charm raises). Bad remote data or config is a Blocked
//!   status naming the problem, and what is mounted stays mounted; a failing mount or unmount
//!   command fails the hook so that Juju retries it.
//! - After a mount or unmount command succeeded the charm reports the command line as a
//!   [`FilesystemMounted`] / [`FilesystemUnmounted`] event.
//! - Status: Blocked "Waiting for an integration with a filesystem provider" without a relation
//!   (the Python message); the leader also sets the application status, Active
//!   "Integrated with `<scheme>` provider" once mounted.

pub mod command;
pub mod mount;

use charm::{
    Charm, Classify, Ctx, CustomEvent, Error, Event, EventKind, Outcome, RelationId, Status,
    StatusCollector,
};
use command::{LocalSystem, System};
use filesystem_info::{FilesystemRequirer, MountFilesystem, Scheme, UmountFilesystem};
use mount::{Flags, MountPlan};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// The endpoint of the provider relation.
pub const ENDPOINT: &str = "filesystem";
/// Stored-state key of what this unit has mounted.
pub const MOUNTED: &str = "mounted";
/// The key file, in the charm directory.
pub const KEY_FILE: &str = "cephfs.key";
/// The status without a provider (the Python charm's words).
pub const NO_RELATION: &str = "Waiting for an integration with a filesystem provider";
/// Longest status message this charm composes.
const STATUS_LIMIT: usize = 240;

fn requirer() -> FilesystemRequirer {
    FilesystemRequirer::new(ENDPOINT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    mountpoint: Option<String>,
    #[serde(default)]
    noexec: bool,
    #[serde(default)]
    nosuid: bool,
    #[serde(default)]
    nodev: bool,
    #[serde(default)]
    read_only: bool,
}

/// The charm's config, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where to mount.
    pub mountpoint: String,
    /// The four mount flags.
    pub flags: Flags,
}

impl Config {
    /// Reads and checks the config; a Blocked error names the option.
    pub fn load(ctx: &mut Ctx) -> Result<Config, Error> {
        let raw: RawConfig = ctx.config()?;
        let mountpoint = match raw.mountpoint.as_deref().map(str::trim) {
            None | Some("") => return Err(Error::blocked("config option mountpoint is not set")),
            Some(m) if !m.starts_with('/') || m == "/" || m.chars().any(char::is_control) => {
                return Err(Error::blocked(format!(
                    "config option mountpoint must be an absolute path other than / (got `{}`)",
                    filesystem_info::wire::shown(m)
                )));
            }
            Some(m) => m.to_string(),
        };
        Ok(Config {
            mountpoint,
            flags: Flags {
                noexec: raw.noexec,
                nosuid: raw.nosuid,
                nodev: raw.nodev,
                read_only: raw.read_only,
            },
        })
    }
}

/// Reported after a mount command succeeded: where, and the command line that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemMounted {
    /// The relation to the provider.
    pub relation: RelationId,
    /// Where the filesystem is mounted.
    pub mountpoint: String,
    /// The mount command line (it names the key file, never the key).
    pub command: String,
}

impl CustomEvent for FilesystemMounted {
    const NAME: &'static str = "filesystem_client.mounted";
    const ALIASES: &'static [&'static str] = &["filesystem-client-mounted"];
}

/// Reported after an unmount command succeeded (or failed on a mountpoint not mounted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemUnmounted {
    /// The mountpoint.
    pub mountpoint: String,
    /// The unmount command line.
    pub command: String,
}

impl CustomEvent for FilesystemUnmounted {
    const NAME: &'static str = "filesystem_client.unmounted";
    const ALIASES: &'static [&'static str] = &["filesystem-client-unmounted"];
}

/// What this unit has mounted (kept in stored state; a digest of the key, never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mounted {
    /// The scheme.
    pub scheme: Scheme,
    /// The provider application.
    pub provider: String,
    /// `mount -t` type.
    pub fstype: String,
    /// The mount source.
    pub source: String,
    /// The mount options.
    pub options: Vec<String>,
    /// Where.
    pub mountpoint: String,
    /// The key file, for cephfs.
    pub key_file: Option<String>,
    /// SHA-256 (hex) of the cephx key, to notice a new key.
    pub key_sha256: Option<String>,
}

impl Mounted {
    fn new(plan: &MountPlan, provider: &str) -> Mounted {
        Mounted {
            scheme: plan.scheme,
            provider: provider.to_string(),
            fstype: plan.fstype.to_string(),
            source: plan.source.clone(),
            options: plan.options.clone(),
            mountpoint: plan.mountpoint.clone(),
            key_file: plan.key.as_ref().map(|(p, _)| p.display().to_string()),
            key_sha256: plan.key.as_ref().map(|(_, k)| sha256(k.expose())),
        }
    }
}

fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A status message of this charm, at most 240 characters.
fn bounded(message: String) -> String {
    if message.chars().count() <= STATUS_LIMIT {
        return message;
    }
    let mut cut: String = message.chars().take(STATUS_LIMIT - 1).collect();
    cut.push('…');
    cut
}

/// What should be mounted now.
#[derive(Debug, Clone)]
enum Desired {
    /// No provider: nothing.
    Nothing,
    /// Keep what is mounted; the status says why nothing (new) can be mounted.
    Hold(Status),
    /// This.
    Mount {
        plan: MountPlan,
        relation: RelationId,
        provider: String,
    },
}

/// The assessment of this dispatch, shared by the handlers and collect-status.
#[derive(Default)]
struct Assessed(Option<Desired>);

/// Whether this dispatch unmounted for good (stop).
#[derive(Default)]
struct Stopped(bool);

fn assess(ctx: &mut Ctx, system: &dyn System) -> Result<Desired, Error> {
    if let Some(known) = &ctx.scratch::<Assessed>().0 {
        return Ok(known.clone());
    }
    let desired = assess_now(ctx, system)?;
    ctx.scratch::<Assessed>().0 = Some(desired.clone());
    Ok(desired)
}

fn assess_now(ctx: &mut Ctx, system: &dyn System) -> Result<Desired, Error> {
    let config = Config::load(ctx)?;
    let requirer = requirer();
    let Some(relation) = requirer.relation(ctx)? else {
        return Ok(Desired::Nothing);
    };
    let provider = ctx
        .remote_app(&relation)?
        .unwrap_or_else(|| "the provider".into());
    let info = match requirer.info(ctx, &relation) {
        Ok(None) => {
            return Ok(Desired::Hold(Status::waiting(bounded(format!(
                "waiting for {provider} to publish its filesystem"
            )))));
        }
        Ok(Some(info)) => info,
        Err(e) if e.outcome() == Outcome::Fail => return Err(e.into()),
        Err(e) => return Ok(Desired::Hold(Status::blocked(bounded(e.to_string())))),
    };
    let scheme = info.scheme();
    if scheme == Scheme::Lustre && !system.has_mount_helper("lustre") {
        return Ok(Desired::Hold(Status::blocked(bounded(format!(
            "cannot mount the lustre filesystem from {provider}: this machine has no Lustre client (mount.lustre is not installed)"
        )))));
    }
    let keyfile = key_file(&ctx.env().charm_dir);
    match mount::plan(&info, &config.mountpoint, config.flags, &keyfile) {
        Ok(plan) => Ok(Desired::Mount {
            plan,
            relation,
            provider,
        }),
        Err(why) => Ok(Desired::Hold(Status::blocked(bounded(format!(
            "cannot mount the {scheme} filesystem from {provider} (relation {relation}): {why}"
        ))))),
    }
}

/// A failed command, its stderr shortened (commands never see a key, but be sure).
fn command_failed(argv: &[String], out: &command::CommandOutput, key: Option<&str>) -> Error {
    let mut stderr = out.stderr.clone();
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        stderr = stderr.replace(key, "<redacted>");
    }
    let stderr: String = stderr.chars().take(300).collect();
    let code = out
        .code
        .map_or_else(|| "a signal".to_string(), |c| format!("exit {c}"));
    Error::fail(format!(
        "`{}` failed ({code}): {stderr}",
        mount::display(argv)
    ))
}

fn is_mounted(system: &dyn System, mountpoint: &str) -> bool {
    match system.run(&mount::mountpoint_argv(mountpoint)) {
        Ok(out) => out.success(),
        Err(e) => {
            // Without an answer, assume it is: remounting every hook would be worse.
            tracing::warn!("cannot tell whether {mountpoint} is mounted: {e}");
            true
        }
    }
}

fn unmount(ctx: &mut Ctx, system: &dyn System, mounted: &Mounted) -> Result<(), Error> {
    let argv = mount::umount_argv(&mounted.mountpoint);
    let out = system.run(&argv).map_err(|e| Error::fail(e.to_string()))?;
    if !out.success() {
        if is_mounted(system, &mounted.mountpoint) {
            return Err(command_failed(&argv, &out, None));
        }
        tracing::warn!("{} was not mounted; carrying on", mounted.mountpoint);
    }
    if let Some(file) = &mounted.key_file {
        system
            .remove_file(Path::new(file))
            .map_err(|e| Error::fail(format!("cannot remove the key file {file}: {e}")))?;
    }
    tracing::info!("unmounted {}", mounted.mountpoint);
    ctx.emit(FilesystemUnmounted {
        mountpoint: mounted.mountpoint.clone(),
        command: mount::display(&argv),
    });
    ctx.forget(MOUNTED);
    Ok(())
}

fn mount(
    ctx: &mut Ctx,
    system: &dyn System,
    plan: &MountPlan,
    relation: &RelationId,
    provider: &str,
) -> Result<(), Error> {
    if let Some((path, key)) = &plan.key {
        system.write_key(path, key).map_err(|e| {
            Error::fail(format!("cannot write the key file {}: {e}", path.display()))
        })?;
    }
    system
        .create_dir(Path::new(&plan.mountpoint))
        .map_err(|e| Error::fail(format!("cannot create {}: {e}", plan.mountpoint)))?;
    let argv = plan.argv();
    let out = system.run(&argv).map_err(|e| Error::fail(e.to_string()))?;
    if !out.success() {
        let key = plan.key.as_ref().map(|(_, k)| k.expose());
        return Err(command_failed(&argv, &out, key));
    }
    tracing::info!(
        "mounted the {} filesystem from {provider} at {}",
        plan.scheme,
        plan.mountpoint
    );
    ctx.emit(FilesystemMounted {
        relation: relation.clone(),
        mountpoint: plan.mountpoint.clone(),
        command: mount::display(&argv),
    });
    ctx.store(MOUNTED, &Mounted::new(plan, provider))?;
    Ok(())
}

/// Brings the machine to what should be mounted.
fn ensure(ctx: &mut Ctx, system: &dyn System) -> Result<(), Error> {
    let desired = assess(ctx, system)?;
    let current: Option<Mounted> = ctx.stored(MOUNTED)?;
    match desired {
        Desired::Nothing => match current {
            Some(current) => unmount(ctx, system, &current),
            None => Ok(()),
        },
        Desired::Hold(status) => {
            tracing::debug!("not mounting: {}", status.message);
            Ok(())
        }
        Desired::Mount {
            plan,
            relation,
            provider,
        } => {
            let wanted = Mounted::new(&plan, &provider);
            if let Some(current) = current {
                if current == wanted {
                    if is_mounted(system, &current.mountpoint) {
                        return Ok(());
                    }
                    tracing::info!(
                        "{} is not mounted any more: mounting again",
                        current.mountpoint
                    );
                } else {
                    unmount(ctx, system, &current)?;
                }
            }
            mount(ctx, system, &plan, &relation, &provider)
        }
    }
}

/// stop: the unit goes away; unmount.
fn stop(ctx: &mut Ctx, system: &dyn System) -> Result<(), Error> {
    ctx.scratch::<Stopped>().0 = true;
    match ctx.stored::<Mounted>(MOUNTED)? {
        Some(current) => unmount(ctx, system, &current),
        None => Ok(()),
    }
}

fn status(ctx: &mut Ctx, system: &dyn System, statuses: &mut StatusCollector) -> Result<(), Error> {
    if ctx.scratch::<Stopped>().0 {
        statuses.add_unit(Status::maintenance("stopped: nothing mounted"));
        return Ok(());
    }
    match assess(ctx, system)? {
        Desired::Nothing => {
            statuses.add_unit(Status::blocked(NO_RELATION));
            statuses.add_app(Status::blocked(NO_RELATION));
        }
        Desired::Hold(status) => statuses.add_unit(status),
        Desired::Mount { plan, provider, .. } => {
            let current: Option<Mounted> = ctx.stored(MOUNTED)?;
            if current.as_ref() == Some(&Mounted::new(&plan, &provider)) {
                statuses.add_unit(Status::active(bounded(format!(
                    "mounted the {} filesystem from {provider} at {}",
                    plan.scheme, plan.mountpoint
                ))));
                statuses.add_app(Status::active(format!(
                    "Integrated with `{}` provider",
                    plan.scheme
                )));
            } else {
                statuses.add_unit(Status::waiting(bounded(format!(
                    "the {} filesystem from {provider} is not mounted yet",
                    plan.scheme
                ))));
            }
        }
    }
    Ok(())
}

/// The charm on this machine.
pub fn charm() -> Charm {
    charm_with(Rc::new(LocalSystem::from_env()))
}

/// The charm with another [`System`] (tests pass a recording double).
pub fn charm_with(system: Rc<dyn System>) -> Charm {
    let mut charm = Charm::new();
    let on = |system: &Rc<dyn System>| {
        let system = Rc::clone(system);
        move |ctx: &mut Ctx, _: &Event| ensure(ctx, &*system)
    };
    let (mount_sys, umount_sys, stop_sys, status_sys) = (
        Rc::clone(&system),
        Rc::clone(&system),
        Rc::clone(&system),
        Rc::clone(&system),
    );
    charm
        .metadata(METADATA_JSON)
        .plugin(requirer())
        .on_event(move |ctx: &mut Ctx, _: &MountFilesystem| ensure(ctx, &*mount_sys))
        .on_event(move |ctx: &mut Ctx, _: &UmountFilesystem| ensure(ctx, &*umount_sys))
        .on(EventKind::ConfigChanged, on(&system))
        .on(EventKind::Start, on(&system))
        .on(EventKind::UpgradeCharm, on(&system))
        .on(EventKind::UpdateStatus, on(&system))
        .on(EventKind::Stop, move |ctx: &mut Ctx, _: &Event| {
            stop(ctx, &*stop_sys)
        })
        .collect_status(move |ctx: &mut Ctx, s: &mut StatusCollector| status(ctx, &*status_sys, s));
    charm
}

/// Where this unit keeps the cephx key.
pub fn key_file(charm_dir: &Path) -> PathBuf {
    charm_dir.join(KEY_FILE)
}
