//! `fake-ceph-mount`: a stand-in for `mount -t ceph` and `umount` on machines without Ceph (the
//! cephfs demo story): prints the command line it stands for, as `echo` would, and keeps a mount
//! table of its own in mountinfo format, which the client reads through its `mount-table`
//! option instead of `/proc/self/mountinfo`.
//!
//! ```text
//! fake-ceph-mount <mount-table> mount -t ceph <source> <mountpoint> [-o <options>]
//! fake-ceph-mount <mount-table> umount <mountpoint>
//! ```

use std::io::Write as _;
use std::process::ExitCode;

/// mountinfo escapes spaces, tabs, newlines and backslashes in octal.
fn escape(path: &str) -> String {
    path.chars()
        .map(|c| match c {
            ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// The positional arguments of a mount command line (`-t X` and `-o X` skipped).
fn positionals(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-t" | "-o" => {
                it.next();
            }
            other => out.push(other),
        }
    }
    out
}

fn run(args: &[String]) -> Result<(), (u8, String)> {
    let usage = || {
        (
            2,
            "usage: fake-ceph-mount <mount-table> mount|umount <args...>".to_string(),
        )
    };
    let (table, rest) = args.split_first().ok_or_else(usage)?;
    let (command, rest) = rest.split_first().ok_or_else(usage)?;
    println!("{command} {}", rest.join(" "));
    let text = std::fs::read_to_string(table).unwrap_or_default();
    let io = |e: std::io::Error| (1, format!("{table}: {e}"));
    match command.as_str() {
        "mount" => {
            let [source, mountpoint, ..] = positionals(rest)[..] else {
                return Err(usage());
            };
            let id = 100 + text.lines().count();
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(table)
                .map_err(io)?;
            writeln!(
                file,
                "{id} 1 0:{id} / {} rw - ceph {} rw",
                escape(mountpoint),
                escape(source)
            )
            .map_err(io)
        }
        "umount" => {
            let [mountpoint] = positionals(rest)[..] else {
                return Err(usage());
            };
            // Like the kernel: the latest mount at that point goes, one per umount.
            let field = escape(mountpoint);
            let mut lines: Vec<&str> = text.lines().collect();
            let Some(last) = lines
                .iter()
                .rposition(|l| l.split(' ').nth(4) == Some(field.as_str()))
            else {
                return Err((32, format!("umount: {mountpoint}: not mounted")));
            };
            lines.remove(last);
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(table, body).map_err(io)
        }
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}
