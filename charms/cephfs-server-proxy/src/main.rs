//! The `cephfs-server-proxy` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    cephfs_server_proxy::charm().run()
}
