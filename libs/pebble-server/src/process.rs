//! A child process in its own process group that can be signalled safely until it is reaped, and
//! the bounded tail of its output.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::sys;

/// A spawned child. Signals go through it: the pid stays ours (a zombie at worst) until
/// [`Proc::wait`] reaps it, and after that signalling is refused, so a recycled pid is never hit.
#[derive(Debug)]
pub(crate) struct Proc {
    pid: u32,
    child: Mutex<Option<Child>>,
}

impl Proc {
    /// Takes a child spawned with `process_group(0)` (it leads its own group).
    pub fn new(child: Child) -> Arc<Proc> {
        Arc::new(Proc {
            pid: child.id(),
            child: Mutex::new(Some(child)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `signal` to the process itself.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        let guard = self.lock();
        if guard.is_none() {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        sys::signal_process(self.pid, signal)
    }

    /// Sends `signal` to the process's whole group.
    pub fn signal_group(&self, signal: i32) -> io::Result<()> {
        let guard = self.lock();
        if guard.is_none() {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        sys::signal_group(self.pid, signal)
    }

    /// Blocks until the process exits and reaps it; returns its exit code (`128 + signo` when
    /// killed by a signal). Before reaping, `kill_rest()` decides whether the rest of the group
    /// gets SIGKILL (the zombie leader still pins the group id). Call from one thread only.
    pub fn wait(&self, kill_rest: impl FnOnce() -> bool) -> i32 {
        let _ = sys::wait_exited_unreaped(self.pid);
        let mut guard = self.lock();
        let Some(mut child) = guard.take() else {
            return -1;
        };
        if kill_rest() {
            let _ = sys::signal_group(self.pid, libc::SIGKILL);
        }
        match child.wait() {
            Ok(status) => exit_code(status),
            Err(_) => -1,
        }
    }
}

/// `code`, or `128 + signo` for a process killed by a signal.
pub(crate) fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => -1,
    }
}

/// The last lines of some output, bounded in line count and line length.
#[derive(Debug)]
pub(crate) struct Tail {
    lines: VecDeque<String>,
    partial: Vec<u8>,
    max_lines: usize,
    max_line: usize,
}

impl Tail {
    pub fn new(max_lines: usize, max_line: usize) -> Tail {
        Tail {
            lines: VecDeque::new(),
            partial: Vec::new(),
            max_lines,
            max_line,
        }
    }

    /// Adds bytes of output.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.end_line();
            } else if self.partial.len() < self.max_line {
                self.partial.push(b);
            }
        }
    }

    fn end_line(&mut self) {
        let line = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        self.lines.push_back(line);
        while self.lines.len() > self.max_lines {
            self.lines.pop_front();
        }
    }

    /// The kept lines, an unterminated last line included.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.lines.iter().cloned().collect();
        if !self.partial.is_empty() {
            out.push(String::from_utf8_lossy(&self.partial).into_owned());
        }
        let excess = out.len().saturating_sub(self.max_lines);
        out.drain(..excess);
        out
    }
}

/// Copies `reader` into `tail` on a thread of its own until EOF; the handle tells when it got there.
pub(crate) fn spawn_tail_reader(
    mut reader: impl Read + Send + 'static,
    tail: Arc<Mutex<Tail>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => tail
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    })
}

/// Waits up to `bound` for a tail reader to reach EOF: a process that printed and exited at once
/// may be seen exited before its last output is in the tail. A child the process left behind
/// may keep the pipe open, hence the bound.
pub(crate) fn drain_within(reader: &std::thread::JoinHandle<()>, bound: std::time::Duration) {
    let until = std::time::Instant::now() + bound;
    while !reader.is_finished() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Linux signal names (with the `SIG` prefix) to numbers.
pub(crate) fn signal_number(name: &str) -> Option<i32> {
    Some(match name {
        "SIGABRT" => libc::SIGABRT,
        "SIGALRM" => libc::SIGALRM,
        "SIGBUS" => libc::SIGBUS,
        "SIGCHLD" => libc::SIGCHLD,
        "SIGCONT" => libc::SIGCONT,
        "SIGFPE" => libc::SIGFPE,
        "SIGHUP" => libc::SIGHUP,
        "SIGILL" => libc::SIGILL,
        "SIGINT" => libc::SIGINT,
        "SIGIO" => libc::SIGIO,
        "SIGKILL" => libc::SIGKILL,
        "SIGPIPE" => libc::SIGPIPE,
        "SIGPROF" => libc::SIGPROF,
        "SIGPWR" => libc::SIGPWR,
        "SIGQUIT" => libc::SIGQUIT,
        "SIGSEGV" => libc::SIGSEGV,
        "SIGSTKFLT" => libc::SIGSTKFLT,
        "SIGSTOP" => libc::SIGSTOP,
        "SIGSYS" => libc::SIGSYS,
        "SIGTERM" => libc::SIGTERM,
        "SIGTRAP" => libc::SIGTRAP,
        "SIGTSTP" => libc::SIGTSTP,
        "SIGTTIN" => libc::SIGTTIN,
        "SIGTTOU" => libc::SIGTTOU,
        "SIGURG" => libc::SIGURG,
        "SIGUSR1" => libc::SIGUSR1,
        "SIGUSR2" => libc::SIGUSR2,
        "SIGVTALRM" => libc::SIGVTALRM,
        "SIGWINCH" => libc::SIGWINCH,
        "SIGXCPU" => libc::SIGXCPU,
        "SIGXFSZ" => libc::SIGXFSZ,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "process_test.rs"]
mod tests;
