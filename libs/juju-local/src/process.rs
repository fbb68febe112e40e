//! Supervising one charm process: started as the leader of its own process group, waited for
//! with a bound, its whole group killed when the bound passes, its peak RSS measured.
//!
//! This is the only module of the crate with `unsafe` code: calls into libc that std does not
//! offer (`wait4` for the child's resource usage, `waitid(WNOWAIT)` to wait without reaping,
//! `kill` of a process group, and `unshare` + `mount` before exec for a sidecar unit's hooks, see
//! [`in_pod_namespace`]).
//!
//! # Safety argument
//!
//! * **Memory.** Every call passes plain integers, or pointers to live, exclusively borrowed
//!   locals of C types (`c_int`, `rusage`, `siginfo_t`) that are valid when zeroed; the kernel
//!   writes into them before the call returns and keeps no pointer afterwards.
//! * **Pids.** The only pid used is that of a child this module spawned and that std's `Child`
//!   never waits for (the `Child` value is dropped unwaited: dropping does not reap). Until
//!   [`wait_rusage`] reaps it, the child's pid, and so its process-group id (it leads its group),
//!   cannot be reused by another process.
//! * **The kill race.** The watchdog thread may signal the group only while the child is
//!   un-reaped: [`wait_child`] waits for the exit with `WNOWAIT` (the child stays a zombie), then
//!   stops the watchdog and joins it, and only then reaps. So `kill(-pgid)` can never reach a
//!   recycled group.
#![allow(unsafe_code)]

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// What became of a charm process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The exit code (`128 + signal` when killed by a signal).
    pub code: i32,
    /// Peak RSS of the process and the children it waited for, KiB.
    pub max_rss_kb: u64,
    /// Whether the bound passed and the group was killed.
    pub timed_out: bool,
    /// Everything it printed on stdout (lossily UTF-8).
    pub stdout: String,
    /// Everything it printed on stderr (lossily UTF-8).
    pub stderr: String,
}

/// Runs `command` (its environment, directory and arguments already set) as the leader of a new
/// process group with stdin closed and both outputs captured, waits at most `timeout` (`None`:
/// no bound), then kills the whole group with SIGKILL. The error says why it could not be
/// started or waited for.
pub fn run(mut command: Command, timeout: Option<Duration>) -> Result<Exit, String> {
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let out_rx = child.stdout.take().map(read_pipe);
    let err_rx = child.stderr.take().map(read_pipe);
    let (code, max_rss_kb, timed_out) =
        wait_child(child.id(), timeout).map_err(|e| format!("wait: {e}"))?;
    // A grandchild still holding a pipe open must not hang the driver.
    let grab = |rx: Option<mpsc::Receiver<Vec<u8>>>| -> String {
        rx.and_then(|r| r.recv_timeout(Duration::from_secs(5)).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Exit {
        code,
        max_rss_kb,
        timed_out,
        stdout: grab(out_rx),
        stderr: grab(err_rx),
    })
}

fn read_pipe<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Waits for the charm process `pid` (a process-group leader) for at most `timeout`; on expiry
/// kills its whole process group with SIGKILL. Returns (exit code, peak RSS in KiB, timed out).
fn wait_child(pid: u32, timeout: Option<Duration>) -> std::io::Result<(i32, u64, bool)> {
    let Some(limit) = timeout else {
        let (code, rss) = wait_rusage(pid)?;
        return Ok((code, rss, false));
    };
    let pgid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // The watchdog only signals while the child is un-reaped: we join it before reaping.
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            kill_group(pgid);
            true
        } else {
            false
        }
    });
    let waited = wait_exited_unreaped(pgid);
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    if waited.is_err() {
        // Do not leave a runaway process behind when waiting itself failed.
        kill_group(pgid);
    }
    let (code, rss) = wait_rusage(pid)?;
    waited?;
    Ok((code, rss, timed_out))
}

/// Reaps child `pid` with `wait4`; returns (exit code, peak RSS in KiB).
fn wait_rusage(pid: u32) -> std::io::Result<(i32, u64)> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers; all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own un-reaped child (std's `Child` never waited on it); `status` and
        // `usage` are live, exclusively borrowed locals that wait4 writes into before returning.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    };
    // ru_maxrss is in KiB on Linux and covers the child and the descendants it waited for.
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

/// Blocks until child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`), so its pid
/// and process-group id stay reserved until [`wait_rusage`] reaps it.
fn wait_exited_unreaped(pid: libc::pid_t) -> std::io::Result<()> {
    let id = libc::id_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    loop {
        // SAFETY: `siginfo_t` is a plain C struct; all-zero bytes are a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `id` is our own un-reaped child; `info` is a live, exclusively borrowed local
        // that waitid writes into before returning. WNOWAIT leaves the child waitable.
        let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (the charm process started as its group leader).
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: plain syscall with integer arguments. The caller guarantees the group leader is an
    // un-reaped child of ours, so `pgid` cannot name a recycled group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Where a Kubernetes charm sees its pod's shared volume (`/charm/containers/<c>/pebble.socket`).
pub const POD_MOUNT: &str = "/charm";

/// Makes `command` start in a mount namespace of its own where `unit_dir` is bind-mounted at
/// [`POD_MOUNT`], so that the Pebble sockets sit where a charm on Kubernetes finds them and every
/// unit sees only its own. Needs root; see [`namespaces_work`].
pub fn in_pod_namespace(command: &mut Command, unit_dir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let source = std::ffi::CString::new(unit_dir.as_os_str().as_bytes())
        .map_err(|_| format!("unit directory {} holds a NUL byte", unit_dir.display()))?;
    let target = std::ffi::CString::new(POD_MOUNT).map_err(|e| e.to_string())?;
    let root = std::ffi::CString::new("/").map_err(|e| e.to_string())?;
    // SAFETY: the closure runs in the forked child before exec and only makes three raw syscalls
    // (unshare, mount, mount), which are async-signal-safe; it allocates nothing (the C strings
    // were built before the fork and are only borrowed) and touches no lock.
    unsafe {
        command.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Private propagation first: the bind mount must not leak into the host namespace.
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// Whether hooks can run in a pod namespace here: tried once per process by starting `true` in
/// one (it needs root, `unshare(CLONE_NEWNS)` and a `/charm` directory to mount over, created
/// when missing). `JUJU_LOCAL_NO_NAMESPACE=1` forces the fallback.
pub fn namespaces_work() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        if std::env::var_os("JUJU_LOCAL_NO_NAMESPACE").is_some_and(|v| v == "1") {
            return false;
        }
        let probe_dir = std::env::temp_dir();
        if std::fs::create_dir_all(POD_MOUNT).is_err() {
            return false;
        }
        let mut command = Command::new("true");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if in_pod_namespace(&mut command, &probe_dir).is_err() {
            return false;
        }
        run(command, Some(Duration::from_secs(10))).is_ok_and(|e| e.code == 0)
    })
}

/// Sends `signal` to the process group `pgid` (a Pebble daemon that leads its own group). The
/// caller checks first that `pgid` still names that daemon (`/proc/<pid>/cmdline`).
pub fn signal_group(pgid: u32, signal: i32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: plain syscall with integer arguments; a positive pgid > 1 negated names one group.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Makes the process `command` starts get SIGTERM when the thread that starts it ends
/// (`PR_SET_PDEATHSIG`), so that daemons started by a test or a program do not outlive it.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and makes one raw syscall
    // (prctl), which is async-signal-safe; it allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
