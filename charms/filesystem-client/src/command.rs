//! The charm's one seam with the machine: commands and the few files it writes.
//!
//! [`System`] is what the charm needs from the machine; [`LocalSystem`] is the real one, and
//! tests pass a recording double. Every command runs with a timeout, in its own process group
//! (killed as a whole on timeout), with stdin closed and its output bounded.
//!
//! `FILESYSTEM_CLIENT_WRAPPER` (never set by Juju) names a program every command line is handed
//! to as arguments: the contract tests and `make demo` point it at the `fake-mount` double, as
//! the cephfs-client's stories use `echo`. It must be one word.

use filesystem_info::Key;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::Duration;

/// The environment variable naming a wrapper program for every command (tests and demos).
pub const WRAPPER_ENV: &str = "FILESYSTEM_CLIENT_WRAPPER";
/// How long a mount or unmount may take before its process group is killed.
pub const TIMEOUT: Duration = Duration::from_secs(120);
/// How much of a command's stderr is kept.
const STDERR_LIMIT: usize = 2048;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// The start of what it wrote on stderr.
    pub stderr: String,
}

impl CommandOutput {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// A command that could not be run to completion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// It could not be started.
    #[error("cannot run {program}: {detail}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        detail: String,
    },
    /// It did not finish in time; its process group was killed.
    #[error("{program} did not finish within {} s and was killed", .after.as_secs())]
    TimedOut {
        /// The program.
        program: String,
        /// The timeout.
        after: Duration,
    },
}

/// What the charm needs from the machine.
pub trait System {
    /// Runs `argv` (`argv[0]` is the program) to completion, bounded.
    fn run(&self, argv: &[String]) -> Result<CommandOutput, RunError>;
    /// Writes a key to `path` with mode 0600, replacing any old file atomically.
    fn write_key(&self, path: &Path, key: &Key) -> std::io::Result<()>;
    /// Removes a file; a file that is not there is fine.
    fn remove_file(&self, path: &Path) -> std::io::Result<()>;
    /// Creates a directory and its parents.
    fn create_dir(&self, path: &Path) -> std::io::Result<()>;
    /// Whether `mount -t <fstype>` has its helper (`mount.<fstype>`) installed.
    fn has_mount_helper(&self, fstype: &str) -> bool;
}

/// The machine the charm runs on.
#[derive(Debug, Clone)]
pub struct LocalSystem {
    /// The wrapper program, or why the one configured is unusable.
    wrapper: Result<Option<String>, String>,
    timeout: Duration,
}

impl LocalSystem {
    /// The machine, with the wrapper named by [`WRAPPER_ENV`] if any.
    pub fn from_env() -> LocalSystem {
        let wrapper = match std::env::var(WRAPPER_ENV) {
            Err(_) => Ok(None),
            Ok(value) => {
                let one_word = !value.is_empty()
                    && !value.starts_with('-')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control());
                if one_word {
                    Ok(Some(value))
                } else {
                    Err(format!("{WRAPPER_ENV} must name one program"))
                }
            }
        };
        LocalSystem {
            wrapper,
            timeout: TIMEOUT,
        }
    }
}

impl System for LocalSystem {
    fn run(&self, argv: &[String]) -> Result<CommandOutput, RunError> {
        let wrapper = self.wrapper.clone().map_err(|detail| RunError::Spawn {
            program: argv.first().cloned().unwrap_or_default(),
            detail,
        })?;
        let argv: Vec<String> = wrapper.into_iter().chain(argv.iter().cloned()).collect();
        run_bounded(&argv, self.timeout)
    }

    fn write_key(&self, path: &Path, key: &Key) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(key.expose().as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn has_mount_helper(&self, fstype: &str) -> bool {
        // Where mount(8) looks for helpers.
        ["/sbin", "/usr/sbin"]
            .iter()
            .any(|dir| Path::new(dir).join(format!("mount.{fstype}")).is_file())
    }
}

/// Runs `argv` through the shared bounded runner (`charm-exec`): its own process group killed
/// as a whole after `timeout`, stdin closed, stderr kept up to its limit.
pub fn run_bounded(argv: &[String], timeout: Duration) -> Result<CommandOutput, RunError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(RunError::Spawn {
            program: String::new(),
            detail: "empty command".into(),
        });
    };
    let run = charm_exec::Exec::new(program)
        .args(args.iter().cloned())
        .timeout(timeout)
        .stdout_limit(0)
        .stderr_limit(STDERR_LIMIT)
        .run();
    match run {
        Ok(out) => Ok(CommandOutput {
            code: out.status.code(),
            stderr: out.stderr.text().trim().to_string(),
        }),
        Err(charm_exec::ExecError::TimedOut { timeout, .. }) => Err(RunError::TimedOut {
            program: program.clone(),
            after: timeout,
        }),
        Err(e) => Err(RunError::Spawn {
            program: program.clone(),
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn exit_codes_and_bounded_stderr() {
        let out = run_bounded(&sh("echo oops >&2; exit 3"), TIMEOUT).unwrap();
        assert_eq!(
            out,
            CommandOutput {
                code: Some(3),
                stderr: "oops".into()
            }
        );
        assert!(!out.success());
        let out = run_bounded(&sh("head -c 100000 /dev/zero | tr '\\0' x >&2"), TIMEOUT).unwrap();
        assert!(out.success());
        assert_eq!(out.stderr.len(), STDERR_LIMIT);
        assert!(matches!(
            run_bounded(&["/nonexistent/mount".to_string()], TIMEOUT),
            Err(RunError::Spawn { .. })
        ));
        assert!(matches!(
            run_bounded(&[], TIMEOUT),
            Err(RunError::Spawn { .. })
        ));
    }

    #[test]
    fn a_command_that_hangs_is_killed_with_its_children() {
        let dir = std::env::temp_dir().join(format!("fsclient-kill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("child.pid");
        // A background child of the shell outlives a kill of the shell alone.
        let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
        let err = run_bounded(&sh(&script), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }), "{err}");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        // Gone, or a zombie waiting for init: either way no longer running.
        let running = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                !stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
        };
        let mut tries = 0;
        while running() && tries < 100 {
            std::thread::sleep(Duration::from_millis(50));
            tries += 1;
        }
        assert!(
            !running(),
            "the child {pid} of the killed command still runs"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn key_files_are_private_and_replaced() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("fsclient-key-{}", std::process::id()));
        let path = dir.join("sub/cephfs.key");
        let system = LocalSystem::from_env();
        system.write_key(&path, &Key::new("one")).unwrap();
        system.write_key(&path, &Key::new("two")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        system.remove_file(&path).unwrap();
        system.remove_file(&path).unwrap();
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
