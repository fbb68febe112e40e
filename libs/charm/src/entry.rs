//! A charm binary's process entry without std's runtime start-up: [`main!`](crate::main!).
//!
//! Juju starts a charm once per hook, so what runs before `main` is paid at every hook. std's
//! `main` first runs its runtime start-up: it reads `/proc/self/maps` to find the main thread's
//! stack guard, installs a SIGSEGV/SIGBUS handler on an alternate signal stack (to print "stack
//! overflow"), ignores SIGPIPE and checks that fds 0-2 are open. Measured with `make bench`,
//! that start-up is about a tenth of a millisecond of CPU per hook. A charm entered through
//! [`main!`](crate::main!) keeps what matters for a charm (SIGPIPE ignored, fds 0-2 open:
//! [`charm_exec::prepare_process`]) and leaves the rest out: a stack overflow then ends the
//! hook with SIGSEGV instead of a message (the hook fails either way).
//!
//! It also installs [`Allocator`] (dlmalloc) as the binary's allocator. A hook allocates and
//! frees small blocks all along; musl's allocator (release charms are static musl binaries)
//! hands freed pages back to the kernel and faults them in again: 37 mmap/munmap/brk calls in an
//! s3-integrator `config-changed` against 11 with dlmalloc, which keeps them for reuse (strace),
//! and a median of 1.09 against 1.26 ms of the charm's CPU per hook (`perf stat`, 3 x 40 runs).

use std::io::Write;

/// The allocator [`main!`](crate::main!) installs: dlmalloc, which keeps freed memory for reuse.
pub use dlmalloc::GlobalDlmalloc as Allocator;

/// Run before the charm: what std's start-up did that a charm still needs.
#[doc(hidden)]
pub fn start() {
    charm_exec::prepare_process();
}

/// Run after the charm: flushes stdout (std's runtime does it after `main`), gives the exit code.
#[doc(hidden)]
pub fn finish(code: u8) -> std::ffi::c_int {
    let _ = std::io::stdout().flush();
    std::ffi::c_int::from(code)
}

/// Defines a charm binary's entry point: `charm::main!(my_charm::charm());` in `src/main.rs`,
/// with `#![cfg_attr(not(test), no_main)]` at the top of the file. The expression gives the
/// [`Charm`](crate::Charm) to run; the process exits with [`Charm::run_code`](crate::Charm::run_code).
/// See the [module docs](crate::entry) for what it saves and what it leaves out.
///
/// ```text
/// //! src/main.rs of a charm
/// #![cfg_attr(not(test), no_main)]
/// charm::main!(my_charm::charm());
/// ```
///
/// (`no_main` is a crate attribute, so the example is not a doc-test; every charm in `charms/`
/// is built this way.)
#[macro_export]
macro_rules! main {
    ($charm:expr) => {
        /// The allocator of the charm binary (see the `charm::entry` docs).
        #[cfg(not(test))]
        #[global_allocator]
        static CHARM_ALLOCATOR: $crate::entry::Allocator = $crate::entry::Allocator;

        /// The process entry (C `main`): the charm, without std's runtime start-up.
        #[cfg(not(test))]
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::entry::start();
            let mut charm: $crate::Charm = $charm;
            let code = charm.run_code();
            $crate::entry::finish(code)
        }
    };
}
