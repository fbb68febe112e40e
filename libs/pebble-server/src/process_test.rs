//! Tests of `process.rs.rs`.

use super::*;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

#[test]
fn tail_keeps_the_last_lines_bounded() {
    let mut t = Tail::new(2, 4);
    t.push(b"one\ntwo\nthree-long\nfou");
    assert_eq!(t.lines(), ["thre", "fou"]);
}

#[test]
fn signals_reach_the_group_and_are_refused_after_reaping() -> io::Result<()> {
    let child = Command::new("sh")
        .args(["-c", "sleep 30 & wait"])
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()?;
    let proc = Proc::new(child);
    proc.signal_group(libc::SIGTERM)?;
    let code = proc.wait(|| true);
    assert_eq!(code, 128 + libc::SIGTERM);
    assert!(proc.signal(libc::SIGTERM).is_err());
    Ok(())
}

#[test]
fn signal_names_are_linux_names() {
    assert_eq!(signal_number("SIGHUP"), Some(libc::SIGHUP));
    assert_eq!(signal_number("HUP"), None);
    assert_eq!(signal_number("SIGFOO"), None);
}
