//! The `hello-k8s` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    hello_k8s::charm().run()
}
