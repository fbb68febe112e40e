//! One bounded way to run an external command from a charm.
//!
//! A charm's hook must finish, and what it reports must not leak secrets or grow without bound.
//! [`Exec`] runs a program with:
//!
//! - **argv checked before spawning**: no argument longer than Linux's `MAX_ARG_STRLEN`
//!   (128 KiB with its NUL), no argument list longer than [`ARG_MAX`]; either is a typed
//!   [`ExecError`], never the OS's `E2BIG`;
//! - **a timeout**, after which the command's **own process group** (`process_group(0)`) is
//!   killed as a whole, so a shell's children die with it;
//! - **bounded capture** of stdout and stderr, both read (with `poll`, in the calling thread)
//!   while the command runs, so a chatty command can neither fill a pipe and hang nor fill
//!   memory (a command is first waited for up to 100 ms without reading: most finish within a
//!   pipe's 64 KiB, and one wake-up at their exit costs less than one per write);
//! - **redaction before truncation**: every occurrence of each secret is masked in what was
//!   captured, and only then is the text cut to its limit, so a secret split by the cut never
//!   shows a prefix.
//!
//! A command starts in this process's memory without suspending it until the command's `execve`
//! (a `clone` sharing memory, see `spawn.rs`; std's `posix_spawn` where that is not possible), and
//! no thread is started unless there is more stdin than an empty pipe surely holds (4 KiB): a run
//! costs one spawn and a few syscalls.
//!
//! ```
//! use charm_exec::Exec;
//! use std::time::Duration;
//!
//! let out = Exec::new("sh")
//!     .args(["-c", "echo hunter2 is the key >&2; exit 3"])
//!     .timeout(Duration::from_secs(10))
//!     .redact("hunter2")
//!     .run()?;
//! assert_eq!(out.status.code(), Some(3));
//! assert_eq!(out.stderr.text().trim(), "<redacted> is the key");
//! # Ok::<(), charm_exec::ExecError>(())
//! ```

mod redact;
mod spawn;
mod sys;

pub use redact::{MARK, redact_bounded};

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest single argument Linux accepts, in bytes, its terminating NUL included
/// (`MAX_ARG_STRLEN`, 32 pages of 4 KiB).
pub const MAX_ARG_STRLEN: usize = 131_072;
/// The budget for argv and the environment together: Linux allows a quarter of the stack
/// limit, 2 MiB with the usual 8 MiB stack.
pub const ARG_MAX: usize = 2 * 1024 * 1024;
/// The default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The default limit of captured stdout and of captured stderr, in bytes.
pub const DEFAULT_LIMIT: usize = 64 * 1024;
/// Stdin up to this size is written at once into the command's empty pipe (Linux's `PIPE_BUF`:
/// a pipe always has room for one page, even when the user's pipe quota is used up).
const PIPE_BUF: usize = 4096;
/// How long a command is first waited for without reading its pipes (see [`Exec::run`]).
const EXIT_WAIT: Duration = Duration::from_millis(100);
/// `E2BIG` on Linux: what the kernel says when argv and the environment do not fit.
const E2BIG: i32 = 7;

/// A command to run, with its bounds.
#[derive(Clone)]
pub struct Exec {
    program: OsString,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    stdout_limit: usize,
    stderr_limit: usize,
    secrets: Vec<String>,
}

impl fmt::Debug for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exec")
            .field("program", &self.program.to_string_lossy())
            .field("args", &self.args)
            .field("stdin", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("stdout_limit", &self.stdout_limit)
            .field("stderr_limit", &self.stderr_limit)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// What a stream of the command said: at most its limit, secrets masked.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The kept bytes, with every secret replaced by [`MARK`].
    pub bytes: Vec<u8>,
    /// How many bytes the command wrote in all.
    pub total: u64,
    /// The limit the bytes were cut to.
    pub limit: usize,
}

impl Captured {
    /// The kept bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Whether the command wrote more than the limit.
    pub fn truncated(&self) -> bool {
        self.total > self.limit as u64
    }
}

impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} of {} bytes>", self.bytes.len(), self.total)
    }
}

/// How a command ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its exit status.
    pub status: ExitStatus,
    /// What it wrote on stdout (bounded, redacted).
    pub stdout: Captured,
    /// What it wrote on stderr (bounded, redacted).
    pub stderr: Captured,
}

/// A command that could not be run to completion.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// One argument is longer than Linux accepts.
    #[error(
        "argument {index} of {program} is {bytes} bytes; Linux accepts at most {} bytes per argument",
        MAX_ARG_STRLEN - 1
    )]
    ArgumentTooLong {
        /// The program.
        program: String,
        /// The argument's position (0 is the first argument after the program).
        index: usize,
        /// Its length in bytes.
        bytes: usize,
    },
    /// The arguments and environment together are longer than Linux accepts.
    #[error(
        "the arguments of {program} and the environment take {bytes} bytes; Linux accepts at most {limit}"
    )]
    ArgumentListTooLong {
        /// The program.
        program: String,
        /// Bytes needed.
        bytes: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The command did not finish in time; its process group was killed.
    #[error("{program} did not finish within {} s; its process group was killed", timeout.as_secs_f64())]
    TimedOut {
        /// The program.
        program: String,
        /// The timeout.
        timeout: Duration,
        /// What it wrote on stderr until then (bounded, redacted).
        stderr: Captured,
    },
    /// Waiting for the command failed.
    #[error("waiting for {program}: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The bytes an argv and an environment take on the new process's stack (strings with their
/// NULs, plus one pointer each and the two terminating null pointers).
pub fn argv_bytes<'a>(
    program: &OsStr,
    args: impl IntoIterator<Item = &'a str>,
    env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> usize {
    const POINTER: usize = std::mem::size_of::<usize>();
    let mut bytes = program.len() + 1 + POINTER;
    for a in args {
        bytes += a.len() + 1 + POINTER;
    }
    for (k, v) in env {
        bytes += k.len() + v.len() + 2 + POINTER;
    }
    bytes + 2 * POINTER
}

/// Checks an argv against Linux's limits (with this process's environment, which the command
/// inherits), without spawning anything.
pub fn check_argv(program: &OsStr, args: &[String]) -> Result<(), ExecError> {
    let name = || program.to_string_lossy().into_owned();
    for (index, a) in args.iter().enumerate() {
        if a.len() >= MAX_ARG_STRLEN {
            return Err(ExecError::ArgumentTooLong {
                program: name(),
                index,
                bytes: a.len(),
            });
        }
    }
    let bytes = argv_bytes(program, args.iter().map(String::as_str), []) + env_bytes();
    if bytes > ARG_MAX {
        return Err(ExecError::ArgumentListTooLong {
            program: name(),
            bytes,
            limit: ARG_MAX,
        });
    }
    Ok(())
}

/// The bytes this process's environment takes on a new process's stack, counted once: copying
/// the environment (as `std::env::vars_os` does) at every command cost a charm more CPU than
/// the count itself. A charm does not change its environment; if something did, a command that
/// no longer fits still fails as [`ExecError::ArgumentListTooLong`], from the spawn's `E2BIG`.
fn env_bytes() -> usize {
    static BYTES: OnceLock<usize> = OnceLock::new();
    *BYTES.get_or_init(|| {
        argv_bytes(OsStr::new(""), [], std::env::vars_os()) - argv_bytes(OsStr::new(""), [], [])
    })
}

/// What std's runtime does before `main` that a program entered without it (a charm's
/// `#![no_main]` entry, see `charm::main!`) still needs before it runs commands: SIGPIPE ignored
/// (a command that exits without reading its stdin makes the write fail with `EPIPE` instead of
/// killing this process), and stdin, stdout and stderr open (`/dev/null` for a closed one, so
/// that a file opened later never becomes fd 1 or 2 by accident).
pub fn prepare_process() {
    sys::ignore_sigpipe();
    for fd in 0..3 {
        if sys::is_closed(fd) {
            // open(2) takes the lowest free descriptor: the closed one. It stays open for good.
            if let Ok(null) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                let _ = std::os::fd::IntoRawFd::into_raw_fd(null);
            }
        }
    }
}

/// One output pipe of the command: what was kept of it, and how much it wrote.
struct Stream {
    pipe: Option<File>,
    kept: Vec<u8>,
    total: u64,
    keep: usize,
}

impl Stream {
    fn new(pipe: Option<impl Into<OwnedFd>>, keep: usize) -> Stream {
        Stream {
            pipe: pipe.map(|p| File::from(p.into())),
            kept: Vec::new(),
            total: 0,
            keep,
        }
    }

    /// Reads what the pipe holds now (it was reported ready): keeps up to `keep` bytes, counts
    /// the rest, and closes the pipe at its end.
    fn read_some(&mut self) {
        let Some(pipe) = &mut self.pipe else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        match pipe.read(&mut buf) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                self.total += n as u64;
                let room = self.keep.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) => {}
            Err(_) => self.pipe = None,
        }
    }
}

/// Waits for `child` to exit until `deadline`; `None` when it is still running then.
fn wait_until(child: &mut spawn::Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    // Its pipes are closed, so it is exiting (or it closed them and went on: rare).
    let mut pause = Duration::from_micros(50);
    let mut yields = 0;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        if let Some(exited) = child.exit_fd() {
            sys::poll_readable([Some(exited)], left)?;
        } else if yields < 64 {
            // The exit follows the close within microseconds: yield a few times first.
            yields += 1;
            std::thread::yield_now();
        } else {
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

impl Exec {
    /// Runs `program` (looked up on `PATH` unless it holds a `/`), with the defaults: no stdin,
    /// a timeout of [`DEFAULT_TIMEOUT`], [`DEFAULT_LIMIT`] bytes of each stream kept.
    pub fn new(program: impl AsRef<OsStr>) -> Exec {
        Exec {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            stdout_limit: DEFAULT_LIMIT,
            stderr_limit: DEFAULT_LIMIT,
            secrets: Vec::new(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Exec {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Exec {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Feeds `data` on stdin, then closes it (more than 4 KiB is written by a thread of its own).
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Exec {
        self.stdin = Some(data.into());
        self
    }

    /// Kills the command's process group after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Exec {
        self.timeout = timeout;
        self
    }

    /// Keeps at most `bytes` of stdout.
    pub fn stdout_limit(mut self, bytes: usize) -> Exec {
        self.stdout_limit = bytes;
        self
    }

    /// Keeps at most `bytes` of stderr.
    pub fn stderr_limit(mut self, bytes: usize) -> Exec {
        self.stderr_limit = bytes;
        self
    }

    /// Masks `secret` wherever it appears in the captured output (empty secrets are ignored).
    pub fn redact(mut self, secret: impl Into<String>) -> Exec {
        let secret = secret.into();
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
        self
    }

    /// The program.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    fn finish(&self, raw: Vec<u8>, total: u64, limit: usize) -> Captured {
        let secrets: Vec<&[u8]> = self.secrets.iter().map(String::as_bytes).collect();
        Captured {
            bytes: redact_bounded(&raw, limit, &secrets),
            total,
            limit,
        }
    }

    /// Runs the command to completion or to its timeout.
    pub fn run(&self) -> Result<Output, ExecError> {
        check_argv(&self.program, &self.args)?;
        let program = self.program.to_string_lossy().into_owned();
        let spawn_error = |source: std::io::Error| match source.raw_os_error() {
            Some(E2BIG) => ExecError::ArgumentListTooLong {
                program: program.clone(),
                bytes: argv_bytes(
                    &self.program,
                    self.args.iter().map(String::as_str),
                    std::env::vars_os(),
                ),
                limit: ARG_MAX,
            },
            _ => ExecError::Spawn {
                program: program.clone(),
                source,
            },
        };
        let spawn::Started {
            mut child,
            stdin,
            stdout,
            stderr,
        } = spawn::spawn(&self.program, &self.args, self.stdin.is_some()).map_err(spawn_error)?;
        // Keep enough beyond the limit that any secret starting before the cut is seen whole.
        let margin = self.secrets.iter().map(String::len).max().unwrap_or(1) - 1;
        if let (Some(data), Some(mut pipe)) = (self.stdin.as_ref(), stdin) {
            if data.len() <= PIPE_BUF {
                // A fresh pipe holds at least one page: this write never blocks, and a thread
                // (its stack, its start, its join) would cost more than the command's spawn.
                // An EPIPE (the command closed its stdin) is the command's business.
                let _ = pipe.write_all(data);
            } else {
                // A command that does not read its stdin must not block us: write from a thread.
                let data = data.clone();
                std::thread::spawn(move || {
                    let _ = pipe.write_all(&data);
                });
            }
        }
        let deadline = Instant::now() + self.timeout;
        let mut streams = [
            Stream::new(Some(stdout), self.stdout_limit.saturating_add(margin)),
            Stream::new(Some(stderr), self.stderr_limit.saturating_add(margin)),
        ];
        // Both pipes are read here as data arrives (no thread), so a chatty command never
        // blocks on a full pipe, until both close or the time is up.
        let wait_err = |source| ExecError::Wait {
            program: program.clone(),
            source,
        };
        // Sleep until the command exits rather than wake at each of its writes (each sleep and
        // wake-up is a context switch, the dearest part of a short command here): a pipe holds
        // 64 KiB, more than a hook tool answers. A command that writes more, or runs longer than
        // EXIT_WAIT, is then served by the loop below, which reads as data arrives.
        if let Some(exited) = child.exit_fd() {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = sys::poll_readable([Some(exited)], left.min(EXIT_WAIT));
        }
        let mut status = None;
        loop {
            let fds = streams
                .each_ref()
                .map(|s| s.pipe.as_ref().map(AsRawFd::as_raw_fd));
            if fds.iter().all(Option::is_none) {
                status = wait_until(&mut child, deadline).map_err(wait_err)?;
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let ready = sys::poll_readable(fds, left).map_err(wait_err)?;
            for (stream, ready) in streams.iter_mut().zip(ready) {
                if ready {
                    stream.read_some();
                }
            }
        }
        let [out, err] = streams;
        let Some(status) = status else {
            // The command, or something it started that still holds a pipe, is stuck.
            child.kill();
            let _ = child.wait();
            return Err(ExecError::TimedOut {
                program,
                timeout: self.timeout,
                stderr: self.finish(err.kept, err.total, self.stderr_limit),
            });
        };
        // The program never ran (fast spawn: its execve's error comes back at its end).
        if let Some(source) = child.exec_error() {
            return Err(spawn_error(source));
        }
        Ok(Output {
            status,
            stdout: self.finish(out.kept, out.total, self.stdout_limit),
            stderr: self.finish(err.kept, err.total, self.stderr_limit),
        })
    }
}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;
