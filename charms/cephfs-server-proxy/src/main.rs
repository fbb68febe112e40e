//! The `cephfs-server-proxy` charm's `dispatch` binary.
//!
//! Entered without std's runtime start-up (`charm::main!`): it is paid at every hook.
#![cfg_attr(not(test), no_main)]

charm::main!(cephfs_server_proxy::charm());
