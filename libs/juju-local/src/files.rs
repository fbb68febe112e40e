//! The model's files on disk: owner-only modes, atomic replacement, advisory locks and
//! one-write appends (the journal and the timeline).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Mode of every file the model writes: model state, hook contexts, journals, the timeline and
/// locks hold relation data, action results and charm state, which may be credentials.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of the directories the model creates for those files.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents readable by the owner only (existing ones keep their mode).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io("cannot create", dir, e))
}

/// Writes `data` to `path` atomically, readable by the owner only: a temporary file in the same
/// directory, fsync, then rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        // A leftover of a killed writer with this pid may have another mode: start afresh.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE_MODE)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("cannot write", path, e));
    }
    Ok(())
}

/// Reads a whole file as UTF-8.
pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))
}

/// An exclusive advisory lock on a file, released on drop.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Opens (creating if needed) `path` and blocks until the exclusive lock is held.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .mode(PRIVATE_FILE_MODE)
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("cannot open lock", path, e))?;
        file.lock().map_err(|e| Error::io("cannot lock", path, e))?;
        Ok(FileLock { _file: file })
    }
}

/// Appends one line to `path` under an exclusive lock, in a single write; a new file is readable
/// by the owner only.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .mode(PRIVATE_FILE_MODE)
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("cannot open", path, e))?;
    file.lock().map_err(|e| Error::io("cannot lock", path, e))?;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    file.write_all(buf.as_bytes())
        .map_err(|e| Error::io("cannot append to", path, e))?;
    Ok(())
}
