//! The files API (`GET`/`POST /v1/files`): pull, push, list, make-dirs and remove, on container
//! paths mapped under the root, with Pebble's per-path errors and messages.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::http::{HttpResponse, Request};
use crate::response::{ApiError, ApiResult, Reply, envelope};
use crate::root::Root;
use crate::users::{self, Owner};
use crate::{glob, multipart, timefmt};

/// Pebble's minimum multipart boundary length.
const MIN_BOUNDARY: usize = 32;

/// A per-path error: `kind` is `not-found`, `permission-denied` or `generic-file-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileError {
    pub kind: &'static str,
    pub message: String,
}

impl FileError {
    pub fn generic(message: impl Into<String>) -> FileError {
        FileError {
            kind: "generic-file-error",
            message: message.into(),
        }
    }

    pub fn permission(message: impl Into<String>) -> FileError {
        FileError {
            kind: "permission-denied",
            message: message.into(),
        }
    }

    /// `<op> <container path>: <Go's errno text>`, with the kind the errno maps to.
    pub fn from_io(op: &str, path: &str, err: &io::Error) -> FileError {
        let kind = match err.raw_os_error() {
            Some(libc::ENOENT) => "not-found",
            Some(libc::EACCES) | Some(libc::EPERM) => "permission-denied",
            _ => match err.kind() {
                io::ErrorKind::NotFound => "not-found",
                io::ErrorKind::PermissionDenied => "permission-denied",
                _ => "generic-file-error",
            },
        };
        FileError {
            kind,
            message: format!("{op} {path}: {}", errno_text(err)),
        }
    }

    /// The same error with a prefix (the kind is kept, like Go's `%w`).
    fn context(mut self, what: &str) -> FileError {
        self.message = format!("{what}: {}", self.message);
        self
    }

    fn to_json(&self) -> Value {
        json!({"kind": self.kind, "message": self.message})
    }
}

/// Go's text for an errno (`syscall.Errno.Error()`).
pub(crate) fn errno_text(err: &io::Error) -> String {
    let known = match err.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory",
        Some(libc::EACCES) => "permission denied",
        Some(libc::EPERM) => "operation not permitted",
        Some(libc::EEXIST) => "file exists",
        Some(libc::ENOTEMPTY) => "directory not empty",
        Some(libc::ENOTDIR) => "not a directory",
        Some(libc::EISDIR) => "is a directory",
        Some(libc::EINVAL) => "invalid argument",
        Some(libc::ELOOP) => "too many levels of symbolic links",
        Some(libc::ENAMETOOLONG) => "file name too long",
        Some(libc::ENOSPC) => "no space left on device",
        Some(libc::EROFS) => "read-only file system",
        Some(libc::EXDEV) => "invalid cross-device link",
        Some(libc::EBUSY) => "device or resource busy",
        Some(libc::EMFILE) => "too many open files",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    text.to_lowercase()
}

/// `GET /v1/files`: `action=read` (pull, multipart) or `action=list`.
pub(crate) fn get(root: &Root, req: &Request, max_read: usize) -> ApiResult {
    let action = req.query("action").unwrap_or("");
    match action {
        "read" => {
            let paths: Vec<&str> = req.query_all("path").collect();
            if paths.is_empty() {
                return Err(ApiError::bad_request("must specify one or more paths"));
            }
            if req.header("accept") != Some("multipart/form-data") {
                return Err(ApiError::bad_request("must accept multipart/form-data"));
            }
            Ok(Reply::Raw(pull(root, &paths, max_read)))
        }
        "list" => {
            let path = req.query("path").unwrap_or("");
            if path.is_empty() {
                return Err(ApiError::bad_request("must specify path"));
            }
            let itself = req.query("itself").unwrap_or("");
            if !matches!(itself, "true" | "false" | "") {
                return Err(ApiError::bad_request(
                    "itself parameter must be \"true\" or \"false\"",
                ));
            }
            if !path.starts_with('/') {
                return Err(ApiError::bad_request(format!(
                    "path must be absolute, got {path:?}"
                )));
            }
            let pattern = req.query("pattern").unwrap_or("");
            match list(root, path, pattern, itself == "true") {
                Ok(entries) => Ok(Reply::Sync(Value::Array(entries))),
                Err(e) => {
                    let status = match e.kind {
                        "not-found" => 404,
                        "permission-denied" => 403,
                        _ => 400,
                    };
                    Err(ApiError::new(status, e.message).kind(e.kind))
                }
            }
        }
        other => Err(ApiError::bad_request(format!("invalid action {other:?}"))),
    }
}

/// `POST /v1/files`: multipart push, or JSON make-dirs / remove.
pub(crate) fn post(root: &Root, req: &Request) -> ApiResult {
    let content_type = req.header("content-type").unwrap_or("");
    let media = req.media_type();
    if media.is_empty() || media.contains(' ') {
        return Err(ApiError::bad_request(format!(
            "invalid Content-Type {content_type:?}"
        )));
    }
    match media.as_str() {
        "multipart/form-data" => {
            let boundary = multipart::header_params(content_type)
                .into_iter()
                .find(|(k, _)| k == "boundary")
                .map(|(_, v)| v)
                .unwrap_or_default();
            if boundary.len() < MIN_BOUNDARY {
                return Err(ApiError::bad_request(format!(
                    "invalid boundary {boundary:?}"
                )));
            }
            push(root, &req.body, &boundary)
        }
        "application/json" => {
            #[derive(Deserialize)]
            struct Payload {
                #[serde(default)]
                action: Option<String>,
                #[serde(default)]
                dirs: Option<Vec<DirItem>>,
                #[serde(default)]
                paths: Option<Vec<RemoveItem>>,
            }
            let payload: Payload = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("cannot decode request body: {e}")))?;
            match payload.action.as_deref().unwrap_or("") {
                "make-dirs" => {
                    let dirs = payload.dirs.unwrap_or_default();
                    let results = dirs
                        .iter()
                        .map(|d| path_result(&d.path, make_dir(root, d)))
                        .collect();
                    Ok(Reply::Sync(Value::Array(results)))
                }
                "remove" => {
                    let paths = payload.paths.unwrap_or_default();
                    let results = paths
                        .iter()
                        .map(|p| {
                            path_result(
                                &p.path,
                                remove(root, &p.path, p.recursive.unwrap_or(false)),
                            )
                        })
                        .collect();
                    Ok(Reply::Sync(Value::Array(results)))
                }
                "write" => Err(ApiError::bad_request(
                    "must use multipart with \"write\" action",
                )),
                other => Err(ApiError::bad_request(format!("invalid action {other:?}"))),
            }
        }
        other => Err(ApiError::bad_request(format!(
            "invalid media type {other:?}"
        ))),
    }
}

fn path_result(path: &str, r: Result<(), FileError>) -> Value {
    let mut m = Map::new();
    m.insert("path".into(), json!(path));
    if let Err(e) = r {
        m.insert("error".into(), e.to_json());
    }
    Value::Object(m)
}

// Pull.

fn pull(root: &Root, paths: &[&str], max_read: usize) -> HttpResponse {
    let boundary = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut parts = Vec::new();
    let mut results = Vec::new();
    for path in paths {
        match read_file(root, path, max_read) {
            Ok(bytes) => {
                let headers = vec![
                    (
                        "Content-Disposition".to_string(),
                        format!(
                            "form-data; name=\"files\"; filename={}",
                            multipart::quote(path)
                        ),
                    ),
                    (
                        "Content-Type".to_string(),
                        "application/octet-stream".to_string(),
                    ),
                ];
                parts.push((headers, bytes));
                results.push(path_result(path, Ok(())));
            }
            Err(e) => results.push(path_result(path, Err(e))),
        }
    }
    let meta = envelope("sync", 200, Some(Value::Array(results)), None);
    let mut meta_bytes = serde_json::to_vec(&meta).unwrap_or_default();
    meta_bytes.push(b'\n');
    parts.push((
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            (
                "Content-Disposition".to_string(),
                "form-data; name=\"response\"".to_string(),
            ),
        ],
        meta_bytes,
    ));
    HttpResponse {
        status: 200,
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body: multipart::write(&boundary, &parts),
    }
}

fn read_file(root: &Root, path: &str, max_read: usize) -> Result<Vec<u8>, FileError> {
    let host = root.host_path(path, true)?;
    let meta = fs::metadata(&host).map_err(|e| FileError::from_io("stat", path, &e))?;
    if !meta.is_file() {
        return Err(FileError::generic(format!(
            "can only read a regular file: {path:?}"
        )));
    }
    if meta.len() > max_read as u64 {
        return Err(FileError::generic(format!(
            "cannot read {path:?}: {} bytes is over this server's limit of {max_read}",
            meta.len()
        )));
    }
    fs::read(&host).map_err(|e| FileError::from_io("open", path, &e))
}

// Push.

#[derive(Debug, Deserialize)]
struct WriteItem {
    path: String,
    #[serde(default, rename = "make-dirs")]
    make_dirs: Option<bool>,
    #[serde(default)]
    permissions: Option<String>,
    #[serde(default, rename = "user-id")]
    user_id: Option<i64>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default, rename = "group-id")]
    group_id: Option<i64>,
    #[serde(default)]
    group: Option<String>,
}

fn push(root: &Root, body: &[u8], boundary: &str) -> ApiResult {
    let parts = multipart::parse(body, boundary)
        .map_err(|e| ApiError::bad_request(format!("cannot read request metadata: {e}")))?;
    let mut parts = parts.into_iter();
    let Some(meta) = parts.next() else {
        return Err(ApiError::bad_request(
            "cannot read request metadata: multipart: NextPart: EOF",
        ));
    };
    if meta.name != "request" {
        return Err(ApiError::bad_request(format!(
            "metadata field name must be \"request\", got {:?}",
            meta.name
        )));
    }
    #[derive(Deserialize)]
    struct Payload {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        files: Option<Vec<WriteItem>>,
    }
    let payload: Payload = serde_json::from_slice(&meta.body)
        .map_err(|e| ApiError::bad_request(format!("cannot decode request metadata: {e}")))?;
    let action = payload.action.unwrap_or_default();
    if action != "write" {
        return Err(ApiError::bad_request(format!(
            "multipart action must be \"write\", got {action:?}"
        )));
    }
    let files = payload.files.unwrap_or_default();
    if files.is_empty() {
        return Err(ApiError::bad_request("must specify one or more files"));
    }
    let mut outcomes: Vec<(String, Result<(), FileError>)> = Vec::new();
    for part in parts {
        if part.name != "files" {
            return Err(ApiError::bad_request(format!(
                "field name must be \"files\", got {:?}",
                part.name
            )));
        }
        let path = part.filename.unwrap_or_default();
        let Some(item) = files.iter().rev().find(|f| f.path == path) else {
            return Err(ApiError::bad_request(format!(
                "no metadata for path {path:?}"
            )));
        };
        outcomes.retain(|(p, _)| *p != path);
        outcomes.push((path, write_file(root, item, &part.body)));
    }
    let results = files
        .iter()
        .map(|f| {
            let r = outcomes
                .iter()
                .find(|(p, _)| *p == f.path)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| {
                    Err(FileError::generic(format!(
                        "no file content for path {:?}",
                        f.path
                    )))
                });
            path_result(&f.path, r)
        })
        .collect();
    Ok(Reply::Sync(Value::Array(results)))
}

fn owner_of(
    user_id: Option<i64>,
    user: Option<&str>,
    group_id: Option<i64>,
    group: Option<&str>,
) -> Result<Owner, FileError> {
    let lookup = |e: String| FileError::generic(format!("cannot look up user and group: {e}"));
    let uid = users::id_from_i64(user_id, "user-id").map_err(lookup)?;
    let gid = users::id_from_i64(group_id, "group-id").map_err(lookup)?;
    users::normalize(uid, user, gid, group).map_err(lookup)
}

/// Pebble's permissions: exactly three octal digits, or the default when unset.
pub(crate) fn parse_permissions(p: Option<&str>, default: u32) -> Result<u32, FileError> {
    match p.filter(|p| !p.is_empty()) {
        None => Ok(default),
        Some(p) => match u32::from_str_radix(p, 8) {
            Ok(v) if p.len() == 3 => Ok(v),
            _ => Err(FileError::generic(format!(
                "permissions must be a 3-digit octal string, got {p:?}"
            ))),
        },
    }
}

fn write_file(root: &Root, item: &WriteItem, content: &[u8]) -> Result<(), FileError> {
    let path = item.path.as_str();
    let host = root.host_path(path, false)?;
    if host == root.dir() {
        return Err(FileError::generic(format!("open {path}: is a directory")));
    }
    let owner = owner_of(
        item.user_id,
        item.user.as_deref(),
        item.group_id,
        item.group.as_deref(),
    )?;
    if item.make_dirs.unwrap_or(false) {
        let parent = parent_of(path);
        make_dirs_under(root, &parent, 0o755, owner, true)
            .map_err(|e| e.context("cannot create directory"))?;
    }
    let mode = parse_permissions(item.permissions.as_deref(), 0o644)?;
    let (Some(dir), Some(name)) = (host.parent(), host.file_name()) else {
        return Err(FileError::generic(format!(
            "cannot write to {path:?}: not a file path"
        )));
    };
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let tmp = dir.join(format!("{}.{suffix}~", name.to_string_lossy()));
    // Errors name the temporary file as Pebble's do (Go's `*PathError` of its own temp file, a
    // container path), and a rename both paths (Go's `*LinkError`).
    let temp_display = format!("{path}.{suffix}~");
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| FileError::from_io("open", &temp_display, &e))?;
        f.write_all(content)
            .and_then(|()| f.flush())
            .map_err(|e| FileError::from_io("write", &temp_display, &e))?;
        // Set after creation so the mode is exact whatever the umask.
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))
            .map_err(|e| FileError::from_io("chmod", &temp_display, &e))?;
        chown(&tmp, owner).map_err(|e| FileError::from_io("chown", &temp_display, &e))?;
        fs::rename(&tmp, &host)
            .map_err(|e| FileError::from_io("rename", &format!("{temp_display} {path}"), &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn chown(host: &Path, owner: Owner) -> io::Result<()> {
    match owner.ids {
        Some((uid, gid)) => std::os::unix::fs::lchown(host, Some(uid), Some(gid)),
        None => Ok(()),
    }
}

fn parent_of(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => trimmed[..i].to_string(),
    }
}

/// Creates `path` (a container path) and, with `parents`, every missing parent, each with `mode`
/// and `owner`. An existing directory is fine only with `parents`.
fn make_dirs_under(
    root: &Root,
    path: &str,
    mode: u32,
    owner: Owner,
    parents: bool,
) -> Result<(), FileError> {
    let host = root.host_path(path, true)?;
    if !parents {
        return make_one_dir(&host, path, mode, owner);
    }
    // The missing tail of `host`, shallowest first.
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cur = host.clone();
    while cur.starts_with(root.dir()) && fs::symlink_metadata(&cur).is_err() {
        missing.push(cur.clone());
        match cur.parent() {
            Some(p) => cur = p.to_path_buf(),
            None => break,
        }
    }
    if let Ok(meta) = fs::metadata(&cur)
        && !meta.is_dir()
    {
        let shown = root
            .container_path(&cur)
            .unwrap_or_else(|| path.to_string());
        return Err(FileError::generic(format!(
            "mkdir {shown}: not a directory"
        )));
    }
    for dir in missing.iter().rev() {
        let shown = root.container_path(dir).unwrap_or_else(|| path.to_string());
        match make_one_dir(dir, &shown, mode, owner) {
            Ok(()) => {}
            // Lost a race with another creator: fine if it is a directory.
            Err(_) if dir.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn make_one_dir(host: &Path, shown: &str, mode: u32, owner: Owner) -> Result<(), FileError> {
    fs::create_dir(host).map_err(|e| FileError::from_io("mkdir", shown, &e))?;
    fs::set_permissions(host, fs::Permissions::from_mode(mode))
        .map_err(|e| FileError::from_io("chmod", shown, &e))?;
    chown(host, owner).map_err(|e| FileError::from_io("chown", shown, &e))
}

// Make-dirs and remove.

#[derive(Debug, Deserialize)]
struct DirItem {
    #[serde(default)]
    path: String,
    #[serde(default, rename = "make-parents")]
    make_parents: Option<bool>,
    #[serde(default)]
    permissions: Option<String>,
    #[serde(default, rename = "user-id")]
    user_id: Option<i64>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default, rename = "group-id")]
    group_id: Option<i64>,
    #[serde(default)]
    group: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RemoveItem {
    #[serde(default)]
    path: String,
    #[serde(default)]
    recursive: Option<bool>,
}

fn make_dir(root: &Root, d: &DirItem) -> Result<(), FileError> {
    if !d.path.starts_with('/') {
        return Err(FileError::generic(format!(
            "paths must be absolute, got {:?}",
            d.path
        )));
    }
    let mode = parse_permissions(d.permissions.as_deref(), 0o755)?;
    let owner = owner_of(d.user_id, d.user.as_deref(), d.group_id, d.group.as_deref())?;
    make_dirs_under(root, &d.path, mode, owner, d.make_parents.unwrap_or(false))
}

fn remove(root: &Root, path: &str, recursive: bool) -> Result<(), FileError> {
    let host = root.host_path(path, false)?;
    if host == root.dir() {
        return Err(FileError::generic(format!(
            "remove {path}: cannot remove the container root"
        )));
    }
    let meta = match fs::symlink_metadata(&host) {
        Ok(m) => m,
        Err(e) if recursive && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(FileError::from_io("remove", path, &e)),
    };
    let result = if meta.is_dir() {
        if recursive {
            fs::remove_dir_all(&host)
        } else {
            fs::remove_dir(&host)
        }
    } else {
        fs::remove_file(&host)
    };
    match result {
        Err(e) if recursive && e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(|e| FileError::from_io("remove", path, &e)),
    }
}

// List.

fn list(root: &Root, path: &str, pattern: &str, itself: bool) -> Result<Vec<Value>, FileError> {
    let host = root.host_path(path, true)?;
    let meta = fs::metadata(&host).map_err(|e| FileError::from_io("stat", path, &e))?;
    let clean = clean_path(path);
    let mut entries: Vec<(String, String, fs::Metadata)> = Vec::new();
    if !meta.is_dir() || itself {
        let name = if clean == "/" {
            "/".to_string()
        } else {
            clean.rsplit('/').next().unwrap_or("").to_string()
        };
        entries.push((name, clean.clone(), meta));
    } else {
        let read = fs::read_dir(&host).map_err(|e| FileError::from_io("open", path, &e))?;
        for entry in read {
            let entry = entry.map_err(|e| FileError::from_io("readdirent", path, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry
                .metadata()
                .map_err(|e| FileError::from_io("lstat", &join(&clean, &name), &e))?;
            let full = join(&clean, &name);
            entries.push((name, full, meta));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let mut out = Vec::new();
    for (name, full, meta) in entries {
        if !pattern.is_empty() && !glob::matches(pattern, &name).map_err(FileError::generic)? {
            continue;
        }
        out.push(file_info(&full, &name, &meta));
    }
    Ok(out)
}

fn clean_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn file_info(full: &str, name: &str, meta: &fs::Metadata) -> Value {
    use std::os::unix::fs::FileTypeExt;
    let ft = meta.file_type();
    let kind = if ft.is_file() {
        "file"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_fifo() {
        "named-pipe"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "unknown"
    };
    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    let mut m = Map::new();
    m.insert("path".into(), json!(full));
    m.insert("name".into(), json!(name));
    m.insert("type".into(), json!(kind));
    if ft.is_file() {
        m.insert("size".into(), json!(meta.len()));
    }
    m.insert(
        "permissions".into(),
        json!(format!("{:03o}", meta.mode() & 0o777)),
    );
    m.insert("last-modified".into(), json!(timefmt::rfc3339(modified)));
    m.insert("user-id".into(), json!(meta.uid()));
    m.insert("user".into(), json!(users::user_name(meta.uid())));
    m.insert("group-id".into(), json!(meta.gid()));
    m.insert("group".into(), json!(users::group_name(meta.gid())));
    Value::Object(m)
}

#[cfg(test)]
#[path = "files_test.rs"]
mod tests;
