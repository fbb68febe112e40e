//! The `hello-storage` charm's `dispatch` binary.
//!
//! Entered without std's runtime start-up (`charm::main!`): it is paid at every hook.
#![cfg_attr(not(test), no_main)]

charm::main!(hello_storage::charm());
