//! The `cephfs-client` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    cephfs_client::charm().run()
}
