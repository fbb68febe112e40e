//! Every system call std does not wrap: signals to processes and groups, waiting for a child without
//! reaping it, the peer UID of a socket, and user/group database look-ups.
//!
//! This is the crate's only module with `unsafe`; each block carries its SAFETY argument. Callers
//! get safe functions returning `io::Result`.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

/// Sends `signal` to process `pid`.
///
/// The caller must hold `pid` as an un-reaped child of ours (see `process::Proc`), so that the
/// pid cannot have been recycled for an unrelated process.
pub(crate) fn signal_process(pid: u32, signal: i32) -> io::Result<()> {
    let pid = to_pid(pid)?;
    // SAFETY: plain syscall with integer arguments; no memory is shared with the kernel.
    let r = unsafe { libc::kill(pid, signal) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sends `signal` to every process of the process group `pgid`.
///
/// The caller must hold the group leader `pgid` as an un-reaped child of ours: a zombie leader
/// keeps its pid, so the group id cannot name a recycled group.
pub(crate) fn signal_group(pgid: u32, signal: i32) -> io::Result<()> {
    let pgid = to_pid(pgid)?;
    // SAFETY: plain syscall with integer arguments; the negative pid selects the group.
    let r = unsafe { libc::kill(-pgid, signal) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Blocks until child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`): its pid and
/// process-group id stay reserved until the caller reaps it with `Child::wait`.
pub(crate) fn wait_exited_unreaped(pid: u32) -> io::Result<()> {
    loop {
        // SAFETY: `siginfo_t` is a plain C struct; all-zero bytes are a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child (the caller spawned it and has not reaped it); `info` is
        // a live, exclusively borrowed local that waitid writes before returning. WNOWAIT leaves
        // the child waitable, so std's `Child::wait` reaps it later.
        let r = unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The UID of the process at the other end of a Unix socket (`SO_PEERCRED`).
pub(crate) fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::ucred>())
        .map_err(|_| io::Error::other("ucred size"))?;
    // SAFETY: the fd is owned by `stream`, alive for the call; `cred` and `len` are live locals and
    // `len` holds the exact size of `cred`, so the kernel writes within bounds.
    let r = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(cred.uid)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the peer of a stream socket has closed its end (a non-blocking `MSG_PEEK`).
pub(crate) fn peer_closed(stream: &UnixStream) -> bool {
    let mut byte = [0u8; 1];
    // SAFETY: the fd is owned by `stream`, alive for the call; `byte` is a live local buffer of
    // exactly the length passed, and MSG_PEEK leaves the data in the socket.
    let r = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            byte.as_mut_ptr().cast::<libc::c_void>(),
            byte.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if r == 0 {
        return true;
    }
    if r > 0 {
        return false;
    }
    let err = io::Error::last_os_error();
    !matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// The signals the daemon binary handles itself (SIGHUP only to ignore it).
const TERMINATION: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

fn termination_set() -> libc::sigset_t {
    // SAFETY: `sigset_t` is a plain C bitmask; sigemptyset initialises it fully before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live local; sigemptyset/sigaddset only write into it.
    unsafe {
        libc::sigemptyset(&mut set);
        for sig in TERMINATION {
            libc::sigaddset(&mut set, sig);
        }
    }
    set
}

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it spawns later, so
/// that [`wait_termination_signal`] receives them. Call first thing in `main`. (Children get an
/// empty mask again: std resets it before `exec`.)
pub fn block_termination_signals() -> io::Result<()> {
    let set = termination_set();
    // SAFETY: `set` is a valid, initialised sigset; the old mask is not requested (null).
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

/// Waits for one of the blocked termination signals and returns its number.
pub fn wait_termination_signal() -> io::Result<i32> {
    let set = termination_set();
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is a valid sigset and `sig` a live local that sigwait writes before returning.
    let r = unsafe { libc::sigwait(&set, &mut sig) };
    if r == 0 {
        Ok(sig)
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

/// Makes `cmd`'s child start with no signal blocked, whatever the spawning thread blocks (the
/// daemon binary blocks SIGTERM/SIGINT/SIGHUP in every thread to `sigwait` for them).
pub(crate) fn unblock_signals_in_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: `sigset_t` is a plain C bitmask; sigemptyset initialises it fully.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty` is a live local that sigemptyset only writes into.
    unsafe { libc::sigemptyset(&mut empty) };
    // SAFETY: the closure runs in the forked child before exec; it only calls pthread_sigmask,
    // which is async-signal-safe, on a set prepared before the fork (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            if r == 0 {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(r))
            }
        });
    }
}

/// The real UID and GID of this process.
pub(crate) fn current_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid take no arguments, cannot fail and touch no memory of ours.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// A user database entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// A group database entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub name: String,
    pub gid: u32,
}

/// Looks a user up by name; `Ok(None)` if there is none.
pub(crate) fn user_by_name(name: &str) -> io::Result<Option<UserEntry>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    passwd_lookup(|pwd, buf, len, result| {
        // SAFETY: `cname` is a NUL-terminated string alive for the call; the other pointers come
        // from `passwd_lookup`, which guarantees they are valid and `buf` holds `len` bytes.
        unsafe { libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, result) }
    })
}

/// Looks a user up by UID; `Ok(None)` if there is none.
pub(crate) fn user_by_uid(uid: u32) -> io::Result<Option<UserEntry>> {
    passwd_lookup(|pwd, buf, len, result| {
        // SAFETY: the pointers come from `passwd_lookup`, which guarantees they are valid and
        // `buf` holds `len` bytes.
        unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) }
    })
}

/// Looks a group up by name; `Ok(None)` if there is none.
pub(crate) fn group_by_name(name: &str) -> io::Result<Option<GroupEntry>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    group_lookup(|grp, buf, len, result| {
        // SAFETY: `cname` is a NUL-terminated string alive for the call; the other pointers come
        // from `group_lookup`, which guarantees they are valid and `buf` holds `len` bytes.
        unsafe { libc::getgrnam_r(cname.as_ptr(), grp, buf, len, result) }
    })
}

/// Looks a group up by GID; `Ok(None)` if there is none.
pub(crate) fn group_by_gid(gid: u32) -> io::Result<Option<GroupEntry>> {
    group_lookup(|grp, buf, len, result| {
        // SAFETY: the pointers come from `group_lookup`, which guarantees they are valid and
        // `buf` holds `len` bytes.
        unsafe { libc::getgrgid_r(gid, grp, buf, len, result) }
    })
}

/// The largest buffer a look-up may use (entries with huge member lists fail beyond it).
const MAX_LOOKUP_BUF: usize = 1 << 20;

fn passwd_lookup(
    mut call: impl FnMut(
        *mut libc::passwd,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
) -> io::Result<Option<UserEntry>> {
    let mut size = 1024usize;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: `passwd` is a plain C struct of integers and pointers; all-zero is valid.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let r = call(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if r == libc::ERANGE && size < MAX_LOOKUP_BUF {
            size *= 4;
            continue;
        }
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: on success the strings of `pwd` point into `buf`, which is still alive, and are
        // NUL-terminated; they are copied out before `buf` is dropped.
        let (name, home) = unsafe { (c_string(pwd.pw_name), c_string(pwd.pw_dir)) };
        return Ok(Some(UserEntry {
            name,
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home,
        }));
    }
}

fn group_lookup(
    mut call: impl FnMut(
        *mut libc::group,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::group,
    ) -> libc::c_int,
) -> io::Result<Option<GroupEntry>> {
    let mut size = 1024usize;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: `group` is a plain C struct of integers and pointers; all-zero is valid.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        let r = call(&mut grp, buf.as_mut_ptr(), buf.len(), &mut result);
        if r == libc::ERANGE && size < MAX_LOOKUP_BUF {
            size *= 4;
            continue;
        }
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: on success `gr_name` points into `buf`, still alive, and is NUL-terminated.
        let name = unsafe { c_string(grp.gr_name) };
        return Ok(Some(GroupEntry {
            name,
            gid: grp.gr_gid,
        }));
    }
}

/// Copies a C string; a null pointer reads as "".
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string alive for the call.
unsafe fn c_string(ptr: *const libc::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

fn to_pid(pid: u32) -> io::Result<libc::pid_t> {
    match libc::pid_t::try_from(pid) {
        // pid 0 or 1 would signal our own group or init: never a child of ours.
        Ok(p) if p > 1 => Ok(p),
        _ => Err(io::Error::other("pid out of range")),
    }
}
