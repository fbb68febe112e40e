//! Starting a command, and waiting for it.
//!
//! `posix_spawn` (what std uses) runs the new process in this one's memory, `vfork`-like, and
//! suspends this process until the child has called `execve`: a sleep and a wake-up, each a
//! context switch, and musl adds a pipe to learn how the `execve` went. In a VM those are dear:
//! a static musl program running a small static C tool spends 80–84 µs of its CPU per command
//! through std, 58–67 µs this way. On Linux x86-64 and AArch64, [`spawn`] therefore clones with
//! `CLONE_VM` but without `CLONE_VFORK`:
//!
//! - the child runs on a stack of its own, in a `Launch` block this process leaves untouched
//!   until the child is reaped (musl's `clone` refuses `CLONE_CHILD_CLEARTID`, which would tell
//!   when its `execve` is done); a block whose child was not reaped is leaked, never freed under
//!   the child;
//! - the child makes raw system calls only: no `errno`, no lock, no allocation, nothing of the
//!   thread state it shares with the thread that cloned it; its handled signals are reset to
//!   their defaults and all signals stay blocked until just before `execve`, as `posix_spawn`
//!   does;
//! - the `execve`'s error comes back in the block and is read once the child is reaped;
//! - `CLONE_PIDFD` gives the descriptor the caller sleeps on until the command exits.
//!
//! Elsewhere, or when the kernel refuses (no `CLONE_PIDFD` before Linux 5.2), or when a standard
//! descriptor of this process is closed, std's `posix_spawn` starts the command instead. Either
//! way the command gets the same start: its own process group, stdin, stdout and stderr as
//! asked, no other descriptor, default signal handling with nothing blocked, this process's
//! environment, and the program looked up on `PATH` as `execvp` does.

use crate::sys;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;

/// A started command: its pipes and the handle to wait on it.
pub(crate) struct Started {
    /// The process.
    pub(crate) child: Child,
    /// The write end of its stdin, when stdin is a pipe.
    pub(crate) stdin: Option<File>,
    /// The read end of its stdout.
    pub(crate) stdout: File,
    /// The read end of its stderr.
    pub(crate) stderr: File,
}

/// A started command's process.
pub(crate) struct Child {
    pid: libc::pid_t,
    /// Readable once the process has exited (a pidfd), when the kernel gives one.
    exit_fd: Option<OwnedFd>,
    status: Option<ExitStatus>,
    /// The memory the child started in (fast path only).
    launch: Option<Launch>,
}

impl Child {
    /// The process id, which is also its process group's id.
    pub(crate) fn id(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// A descriptor that becomes readable when the process exits, if there is one.
    pub(crate) fn exit_fd(&self) -> Option<RawFd> {
        self.exit_fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// The exit status, if the process has exited (it is then reaped).
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reap(false)
    }

    /// Waits for the process to exit and reaps it.
    pub(crate) fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.reap(true)? {
                return Ok(status);
            }
        }
    }

    fn reap(&mut self, block: bool) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        match sys::wait_pid(self.pid, block) {
            Ok(Some(raw)) => {
                let status = ExitStatus::from_raw(raw);
                self.status = Some(status);
                if let Some(launch) = &mut self.launch {
                    launch.reaped();
                }
                Ok(Some(status))
            }
            Ok(None) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Kills the process's group and the process itself (should it not have made its group
    /// yet).
    pub(crate) fn kill(&self) {
        if self.status.is_none() {
            sys::kill_command(self.id());
        }
    }

    /// Why the program could not be started, once the process is reaped: the error of its
    /// `execve` (or of the set-up before it). `None` for a started program.
    pub(crate) fn exec_error(&self) -> Option<io::Error> {
        self.status?;
        self.launch.as_ref()?.exec_error()
    }
}

/// The descriptor every command without stdin data reads: `/dev/null`, opened once.
fn dev_null() -> Option<&'static File> {
    static NULL: OnceLock<Option<File>> = OnceLock::new();
    NULL.get_or_init(|| File::open("/dev/null").ok()).as_ref()
}

/// Starts `program` with `args` in a process group of its own; stdin is a pipe when
/// `piped_stdin`, else `/dev/null`; stdout and stderr are pipes.
pub(crate) fn spawn(program: &OsStr, args: &[String], piped_stdin: bool) -> io::Result<Started> {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    if let Some(started) = fast::spawn(program, args, piped_stdin)? {
        return Ok(started);
    }
    spawn_std(program, args, piped_stdin)
}

/// [`spawn`] through std's `posix_spawn`.
fn spawn_std(program: &OsStr, args: &[String], piped_stdin: bool) -> io::Result<Started> {
    static KEPT: std::sync::Once = std::sync::Once::new();
    KEPT.call_once(sys::keep_spawn_heap);
    let stdin = if piped_stdin {
        Stdio::piped()
    } else {
        dev_null()
            .and_then(|f| f.try_clone().ok())
            .map_or_else(Stdio::null, Stdio::from)
    };
    let mut child = std::process::Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let out = |fd: Option<OwnedFd>| {
        fd.map(File::from)
            .ok_or_else(|| io::Error::other("no pipe"))
    };
    Ok(Started {
        stdin: child.stdin.take().map(|p| File::from(OwnedFd::from(p))),
        stdout: out(child.stdout.take().map(OwnedFd::from))?,
        stderr: out(child.stderr.take().map(OwnedFd::from))?,
        child: Child {
            pid,
            exit_fd: sys::pidfd_open(child.id()),
            status: None,
            launch: None,
        },
    })
    // `child` is dropped unreaped: std never waits in its drop; `Child::wait` reaps.
}

/// The child's memory of the fast path, with its lifetime rule (see the module docs).
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
use fast::Launch;

/// Without the fast path nothing is ever launched this way.
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
struct Launch;

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
impl Launch {
    fn reaped(&mut self) {}

    fn exec_error(&self) -> Option<io::Error> {
        None
    }
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod fast {
    use super::{Child, Started, dev_null};
    use crate::sys;
    use std::ffi::{CString, OsStr, c_char, c_int, c_void};
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
    use std::sync::atomic::{AtomicI32, Ordering};

    unsafe extern "C" {
        /// libc's environment (`KEY=value` strings, null-terminated).
        static environ: *const *const c_char;
    }

    /// Longest path the child tries (Linux's `PATH_MAX`, its NUL included).
    const PATH_MAX: usize = 4096;

    /// The child's stack: its frames are a path buffer and a few hundred bytes (no recursion).
    const STACK: usize = 32 * 1024;
    /// Linux's `_NSIG - 1` on x86-64 and AArch64: the highest signal number.
    const MAX_SIGNAL: usize = 64;
    /// The kernel's `sigset_t` size (`rt_sigaction`'s and `rt_sigprocmask`'s last argument).
    const SIGSET_SIZE: usize = 8;

    /// What the child reads, and writes back, of this process's memory. Boxed, so that the
    /// addresses given to the kernel and to the child stay put.
    struct Block {
        /// The errno that stopped the child before or at `execve`; 0 if none did.
        errno: AtomicI32,
        /// The child's stdin, stdout and stderr, in order.
        fds: [RawFd; 3],
        /// The program as given: a path if it holds a `/`, else a name to look up in `search`.
        program: CString,
        /// `PATH` (its default when unset), for a program without a `/`.
        search: Option<Vec<u8>>,
        /// argv, null-terminated, pointing into `args`.
        argv: Vec<*const c_char>,
        /// The strings argv points to (the program, then the arguments).
        #[expect(dead_code, reason = "owned for argv's pointers, never read by name")]
        args: Vec<CString>,
        /// This process's `environ`, read by the child's `execve` as `posix_spawn` reads it.
        /// Changing the environment from another thread while a command starts breaks this,
        /// as it breaks every reader of `environ`: std's `set_var` leaves that to its caller.
        envp: *const *const c_char,
        /// The child's stack (uninitialised capacity; the child's frames live at its top).
        stack: Vec<u8>,
    }

    /// A child's [`Block`], freed only once the child is reaped (it no longer runs in it).
    pub(super) struct Launch {
        /// From `Box::into_raw`: shared with the child until it is reaped.
        block: *mut Block,
        reaped: bool,
    }

    impl Launch {
        /// Records that the child was reaped: the block can be read, and freed.
        pub(super) fn reaped(&mut self) {
            self.reaped = true;
        }

        /// The error that kept the program from starting, once the child is reaped.
        pub(super) fn exec_error(&self) -> Option<io::Error> {
            if !self.reaped {
                return None;
            }
            // SAFETY: the block lives until this Launch drops, and the child that wrote into it
            // is gone.
            let errno = unsafe { &*self.block }.errno.load(Ordering::Acquire);
            (errno != 0).then(|| io::Error::from_raw_os_error(errno))
        }
    }

    impl Drop for Launch {
        fn drop(&mut self) {
            if self.reaped {
                // SAFETY: from Box::into_raw in `spawn`, freed only here, once; the child is
                // gone.
                drop(unsafe { Box::from_raw(self.block) });
            }
            // Otherwise the child may still run on its stack, or read the rest before its
            // execve: the block is leaked, never freed under the child.
        }
    }

    fn cstring(bytes: &[u8]) -> io::Result<CString> {
        CString::new(bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "nul byte found in provided data",
            )
        })
    }

    /// Starts the command as the module docs say; `Ok(None)` when this way is not possible
    /// here and std's should be used.
    pub(super) fn spawn(
        program: &OsStr,
        args: &[String],
        piped_stdin: bool,
    ) -> io::Result<Option<Started>> {
        let Some(null) = dev_null() else {
            return Ok(None);
        };
        if program.is_empty() {
            // execvp's answer (a PATH search would try the directories themselves).
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let name = cstring(program.as_bytes())?;
        let search = if program.as_bytes().contains(&b'/') {
            None
        } else {
            // musl's and glibc's default when PATH is not set.
            Some(std::env::var_os("PATH").map_or_else(
                || b"/usr/local/bin:/bin:/usr/bin".to_vec(),
                |p| p.into_vec(),
            ))
        };
        let mut strings = Vec::with_capacity(args.len() + 1);
        strings.push(name.clone());
        for a in args {
            strings.push(cstring(a.as_bytes())?);
        }
        let (stdin_read, stdin_write) = if piped_stdin {
            let (r, w) = sys::pipe()?;
            (Some(r), Some(w))
        } else {
            (None, None)
        };
        let (stdout_read, stdout_write) = sys::pipe()?;
        let (stderr_read, stderr_write) = sys::pipe()?;
        let fds = [
            stdin_read
                .as_ref()
                .map_or(null.as_raw_fd(), AsRawFd::as_raw_fd),
            stdout_write.as_raw_fd(),
            stderr_write.as_raw_fd(),
        ];
        // A descriptor at 0, 1 or 2 (one of ours was closed) could be overwritten by another's
        // dup before it is read; std's way orders that itself.
        if fds.iter().any(|fd| *fd < 3) {
            return Ok(None);
        }
        let argv = strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let block = Box::new(Block {
            errno: AtomicI32::new(0),
            fds,
            program: name,
            search,
            argv,
            args: strings,
            // SAFETY: reading the pointer libc keeps; see the field's docs.
            envp: unsafe { environ },
            stack: Vec::with_capacity(STACK),
        });
        let stack_top = {
            let base = block.stack.as_ptr() as usize;
            // The ABIs want a 16-byte aligned stack pointer.
            (base + block.stack.capacity()) & !15
        };
        let mut pidfd: c_int = -1;
        let flags = libc::CLONE_VM | libc::CLONE_PIDFD | libc::SIGCHLD;
        let block_ptr = Box::into_raw(block);
        let old_mask = sys::block_all_signals();
        // SAFETY: `child_main` only reads `*block_ptr` and writes its atomic, and runs on the
        // stack inside the block, which stays allocated until the child is reaped (see
        // `Launch`'s drop). `pidfd` is live for the kernel's write before clone returns. The
        // child shares this thread's TLS, so it touches no errno, lock or allocator (raw
        // system calls only). musl's clone refuses CLONE_CHILD_CLEARTID, hence the reaping.
        let pid = unsafe {
            libc::clone(
                child_main,
                stack_top as *mut c_void,
                flags,
                block_ptr.cast::<c_void>(),
                &mut pidfd as *mut c_int,
                std::ptr::null_mut::<c_void>(),
                std::ptr::null_mut::<c_int>(),
            )
        };
        let clone_error = io::Error::last_os_error();
        sys::restore_signals(&old_mask);
        if pid <= 0 {
            // SAFETY: no child was made, so the block was never shared; from into_raw above.
            drop(unsafe { Box::from_raw(block_ptr) });
            return match clone_error.raw_os_error() {
                Some(libc::EINVAL | libc::ENOSYS | libc::EPERM) => Ok(None),
                _ => Err(clone_error),
            };
        }
        let exit_fd = sys::owned_fd(pidfd);
        // The child has its own copies of these (its descriptor table was copied at clone).
        drop((stdin_read, stdout_write, stderr_write));
        Ok(Some(Started {
            child: Child {
                pid,
                exit_fd,
                status: None,
                launch: Some(Launch {
                    block: block_ptr,
                    reaped: false,
                }),
            },
            stdin: stdin_write.map(File::from),
            stdout: File::from(stdout_read),
            stderr: File::from(stderr_read),
        }))
    }

    /// `dir/name` (`name` alone for an empty `dir`, the current directory, as execvp), written
    /// into `buf`; `None` if it does not fit. `name` ends with its NUL. No allocation and no
    /// panic: the child calls it.
    pub(super) fn join_path<'a>(buf: &'a mut [u8], dir: &[u8], name: &[u8]) -> Option<&'a [u8]> {
        let slash = usize::from(!dir.is_empty());
        let full = buf.get_mut(..dir.len() + slash + name.len())?;
        let (head, tail) = full.split_at_mut(dir.len());
        head.copy_from_slice(dir);
        match tail.split_first_mut() {
            Some((first, rest)) if slash == 1 => {
                *first = b'/';
                rest.copy_from_slice(name);
            }
            _ => tail.copy_from_slice(name),
        }
        Some(full)
    }

    /// `execve(path, argv, envp)` from the child: the errno if it returns.
    fn execve(block: &Block, path: *const c_char) -> isize {
        // SAFETY: `path` is NUL-terminated (the block's program or the child's buffer), argv
        // and envp null-terminated arrays of such strings; the kernel copies them.
        let r = unsafe {
            raw::syscall4(
                libc::SYS_execve,
                path as usize,
                block.argv.as_ptr() as usize,
                block.envp as usize,
                0,
            )
        };
        -r
    }

    /// The kernel's `struct sigaction` on x86-64 and AArch64 (handler, flags, restorer, mask).
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: usize,
        restorer: usize,
        mask: u64,
    }

    /// The child, from clone to `execve`. Raw system calls only, and no panic path that can be
    /// taken: it shares this process's memory and this thread's TLS.
    extern "C" fn child_main(arg: *mut c_void) -> c_int {
        // SAFETY: `arg` is the `Block` that `spawn` keeps alive for us (see there).
        let block = unsafe { &*arg.cast::<Block>() };
        let fail = |errno: isize| -> c_int {
            block.errno.store(
                i32::try_from(errno).unwrap_or(libc::EINVAL),
                Ordering::Release,
            );
            127
        };
        // Handlers this process installed are its code, not the command's: default them (and
        // SIGPIPE, which charms ignore), before any signal is let through.
        for signal in 1..=MAX_SIGNAL {
            if signal == libc::SIGKILL as usize || signal == libc::SIGSTOP as usize {
                continue;
            }
            let mut old = KernelSigaction {
                handler: 0,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            let default = KernelSigaction {
                handler: 0,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            // SAFETY: a query into `old`, a live struct of the kernel's layout.
            let r = unsafe {
                raw::syscall4(
                    libc::SYS_rt_sigaction,
                    signal,
                    0,
                    &mut old as *mut KernelSigaction as usize,
                    SIGSET_SIZE,
                )
            };
            let handled = r == 0 && old.handler > 1;
            if handled || signal == libc::SIGPIPE as usize {
                // SAFETY: sets SIG_DFL from `default`, a live struct of the kernel's layout.
                unsafe {
                    raw::syscall4(
                        libc::SYS_rt_sigaction,
                        signal,
                        &default as *const KernelSigaction as usize,
                        0,
                        SIGSET_SIZE,
                    )
                };
            }
        }
        // SAFETY: setpgid(0, 0) reads no memory.
        let r = unsafe { raw::syscall4(libc::SYS_setpgid, 0, 0, 0, 0) };
        if r < 0 {
            return fail(-r);
        }
        for (target, fd) in block.fds.iter().enumerate() {
            let fd = *fd as usize;
            // SAFETY: descriptor operations read no memory of ours. `fd` is never `target`
            // (spawn makes sure they are all above 2), so dup3 cannot fail with EINVAL.
            let r = unsafe { raw::syscall4(libc::SYS_dup3, fd, target, 0, 0) };
            if r < 0 {
                return fail(-r);
            }
        }
        let empty: u64 = 0;
        // SAFETY: reads the empty mask from a live u64.
        unsafe {
            raw::syscall4(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK as usize,
                &empty as *const u64 as usize,
                0,
                SIGSET_SIZE,
            )
        };
        // As execvp: a path that is not there, or not a directory, is skipped; a path that
        // is not allowed is remembered; any other error stops the search.
        let errno = match &block.search {
            None => execve(block, block.program.as_ptr()),
            Some(search) => {
                let name = block.program.as_bytes_with_nul();
                let mut buf = [0u8; PATH_MAX];
                let mut errno = libc::ENOENT as isize;
                let mut denied = false;
                for dir in search.split(|b| *b == b':') {
                    let Some(full) = join_path(&mut buf, dir, name) else {
                        continue;
                    };
                    errno = execve(block, full.as_ptr().cast());
                    if errno == libc::EACCES as isize {
                        denied = true;
                    } else if errno != libc::ENOENT as isize && errno != libc::ENOTDIR as isize {
                        break;
                    }
                }
                if denied && (errno == libc::ENOENT as isize || errno == libc::ENOTDIR as isize) {
                    libc::EACCES as isize
                } else {
                    errno
                }
            }
        };
        fail(errno)
    }

    /// Raw system calls: no errno (the child shares the errno of the thread that cloned it).
    mod raw {
        /// System call `n` with four arguments; a negative errno on failure.
        ///
        /// # Safety
        /// The arguments must be what system call `n` expects; pointers must be valid for it.
        pub(super) unsafe fn syscall4(
            n: libc::c_long,
            a: usize,
            b: usize,
            c: usize,
            d: usize,
        ) -> isize {
            let ret: isize;
            // SAFETY: the caller's. x86-64's `syscall` clobbers rcx and r11, AArch64's `svc 0`
            // nothing beyond x0.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                core::arch::asm!(
                    "syscall",
                    inlateout("rax") n as isize => ret,
                    in("rdi") a,
                    in("rsi") b,
                    in("rdx") c,
                    in("r10") d,
                    lateout("rcx") _,
                    lateout("r11") _,
                    options(nostack),
                );
            }
            #[cfg(target_arch = "aarch64")]
            unsafe {
                core::arch::asm!(
                    "svc 0",
                    in("x8") n,
                    inlateout("x0") a as isize => ret,
                    in("x1") b,
                    in("x2") c,
                    in("x3") d,
                    options(nostack),
                );
            }
            ret
        }
    }
}

#[cfg(test)]
#[path = "spawn_test.rs"]
mod tests;
