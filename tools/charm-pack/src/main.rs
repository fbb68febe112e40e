//! `charm-pack`: turns the workspace's charms into what `juju deploy` accepts.
//!
//! For every charm directory under `charms/` (one with a `metadata.yaml`) whose binary was built,
//! it writes the unpacked charm `build/charms/<name>/` (the binary as an executable `dispatch`,
//! `metadata.yaml`, `config.yaml`, `actions.yaml`, a generated `manifest.yaml`) and the same files
//! zipped as `build/<name>.charm`.
//!
//! ```text
//! charm-pack [--charms DIR] [--bin-dir DIR] [--out DIR] [NAME...]
//! ```
//!
//! Defaults: `charms`, `target/release`, `build`. The binary of a charm is the Cargo binary named
//! after the charm (`[[bin]] name = "<name>"`).

use charm::meta::Metadata;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What can go wrong while packing, with the path concerned.
#[derive(Debug)]
struct PackError(String);

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(what: impl std::fmt::Display, path: &Path, e: impl std::fmt::Display) -> PackError {
    PackError(format!("{what} {}: {e}", path.display()))
}

struct Args {
    charms: PathBuf,
    bin_dir: PathBuf,
    out: PathBuf,
    only: Vec<String>,
}

fn parse_args() -> Result<Args, PackError> {
    let mut args = Args {
        charms: PathBuf::from("charms"),
        bin_dir: PathBuf::from("target/release"),
        out: PathBuf::from("build"),
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| PackError(format!("{flag} needs a directory")))
        };
        match a.as_str() {
            "--charms" => args.charms = value("--charms")?,
            "--bin-dir" => args.bin_dir = value("--bin-dir")?,
            "--out" => args.out = value("--out")?,
            "-h" | "--help" => {
                return Err(PackError(
                    "usage: charm-pack [--charms DIR] [--bin-dir DIR] [--out DIR] [NAME...]".into(),
                ));
            }
            flag if flag.starts_with('-') => return Err(PackError(format!("unknown flag {flag}"))),
            name => args.only.push(name.to_string()),
        }
    }
    Ok(args)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Now (or `SOURCE_DATE_EPOCH`, for reproducible packs) as RFC 3339.
fn timestamp() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn manifest() -> Result<String, PackError> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64el",
        other => other,
    };
    let value = serde_json::json!({
        "charmcraft-version": "3.0.0",
        "charmcraft-started-at": timestamp(),
        "bases": [{"name": "ubuntu", "channel": "24.04", "architectures": [arch]}],
        "analysis": {"attributes": [
            {"name": "language", "result": "unknown"},
            {"name": "framework", "result": "unknown"},
        ]},
    });
    charm_yaml::to_string(&value).map_err(|e| PackError(format!("manifest.yaml: {e}")))
}

/// Files of one packed charm: (name in the charm, source path, mode).
fn files(src: &Path, binary: &Path) -> Vec<(&'static str, PathBuf, u32)> {
    let mut out = vec![("dispatch", binary.to_path_buf(), 0o755)];
    for name in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        let path = src.join(name);
        if path.is_file() {
            out.push((name, path, 0o644));
        }
    }
    out
}

fn pack(src: &Path, args: &Args) -> Result<Option<String>, PackError> {
    let meta_path = src.join("metadata.yaml");
    let text =
        std::fs::read_to_string(&meta_path).map_err(|e| err("cannot read", &meta_path, e))?;
    let value: serde_json::Value =
        charm_yaml::from_str(&text).map_err(|e| err("invalid", &meta_path, e))?;
    // Juju's deploy-time rules (containers, resources, storage, mounts), as the charm checks them.
    let meta =
        Metadata::from_json(&value.to_string()).map_err(|e| err("invalid", &meta_path, e))?;
    let name = meta.name;
    if !args.only.is_empty() && !args.only.contains(&name) {
        return Ok(None);
    }
    let binary = args.bin_dir.join(&name);
    if !binary.is_file() {
        return Err(PackError(format!(
            "{name}: no binary at {} (build it with `cargo build --release -p {name}`)",
            binary.display()
        )));
    }
    let unpacked = args.out.join("charms").join(&name);
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&unpacked).map_err(|e| err("cannot create", &unpacked, e))?;
    let manifest = manifest()?;
    let charm_file = args.out.join(format!("{name}.charm"));
    let file =
        std::fs::File::create(&charm_file).map_err(|e| err("cannot create", &charm_file, e))?;
    let mut zip = zip::ZipWriter::new(file);
    for (inside, path, mode) in files(src, &binary) {
        let bytes = std::fs::read(path.as_path()).map_err(|e| err("cannot read", &path, e))?;
        let target = unpacked.join(inside);
        std::fs::write(&target, &bytes).map_err(|e| err("cannot write", &target, e))?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .map_err(|e| err("cannot chmod", &target, e))?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        zip.start_file(inside, options)
            .map_err(|e| err("cannot add to", &charm_file, e))?;
        zip.write_all(&bytes)
            .map_err(|e| err("cannot write", &charm_file, e))?;
    }
    let target = unpacked.join("manifest.yaml");
    std::fs::write(&target, &manifest).map_err(|e| err("cannot write", &target, e))?;
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
    zip.start_file("manifest.yaml", options)
        .map_err(|e| err("cannot add to", &charm_file, e))?;
    zip.write_all(manifest.as_bytes())
        .map_err(|e| err("cannot write", &charm_file, e))?;
    zip.finish()
        .map_err(|e| err("cannot finish", &charm_file, e))?;
    let size = std::fs::metadata(&binary).map_or(0, |m| m.len());
    Ok(Some(format!(
        "{:<34} dispatch {:>7.1} KiB  -> {}",
        name,
        size as f64 / 1024.0,
        charm_file.display()
    )))
}

fn run() -> Result<(), PackError> {
    let args = parse_args()?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&args.charms)
        .map_err(|e| err("cannot list", &args.charms, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("metadata.yaml").is_file())
        .collect();
    dirs.sort();
    let mut packed = 0;
    for dir in dirs {
        if let Some(line) = pack(&dir, &args)? {
            println!("{line}");
            packed += 1;
        }
    }
    if packed == 0 {
        return Err(PackError("no charm packed".into()));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("charm-pack: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(20_781), (2026, 11, 24));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }

    #[test]
    fn manifest_names_the_base() {
        let m = manifest().unwrap();
        assert!(
            m.contains("channel: '24.04'") || m.contains("channel: \"24.04\""),
            "{m}"
        );
        assert!(m.contains("charmcraft-started-at"));
    }
}
