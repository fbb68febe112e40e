//! Files: `GET /v1/files` (list, and the JSON part of a pull) and the bodies of `POST /v1/files`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ErrorResult;
use crate::wire::{is_false, wire_enum};

wire_enum! {
    /// `type` of a file entry.
    pub enum FileType {
        /// A regular file.
        File = "file",
        /// A directory.
        Directory = "directory",
        /// A symbolic link.
        Symlink = "symlink",
        /// A Unix socket.
        Socket = "socket",
        /// A FIFO.
        NamedPipe = "named-pipe",
        /// A device node.
        Device = "device",
        /// Anything else.
        Unknown = "unknown",
    }
}

/// Unix permission bits, sent as exactly three octal digits (`"644"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions(u32);

impl Permissions {
    /// The permission bits of `mode` (anything above `0o777` is dropped).
    pub const fn from_mode(mode: u32) -> Permissions {
        Permissions(mode & 0o777)
    }

    /// The bits.
    pub const fn mode(self) -> u32 {
        self.0
    }

    /// Reads wire text: exactly three octal digits, as Pebble requires.
    pub fn parse(text: &str) -> Result<Permissions, String> {
        if text.len() == 3 && text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            u32::from_str_radix(text, 8)
                .map(Permissions)
                .map_err(|e| e.to_string())
        } else {
            Err(format!(
                "permissions must be a 3-digit octal string, got {text:?}"
            ))
        }
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03o}", self.0)
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Permissions::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One entry of `GET /v1/files?action=list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileInfo {
    /// Absolute path.
    pub path: String,
    /// Base name.
    pub name: String,
    /// Kind of file.
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Size in bytes (regular files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Permission bits.
    pub permissions: Permissions,
    /// RFC 3339, seconds.
    pub last_modified: String,
    /// Owner UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// Owner name (empty when the UID has none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Group GID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
    /// Group name (empty when the GID has none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
}

/// Owner and mode of a file or directory to create. Unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ownership {
    /// Permission bits (Pebble's default: 644 for files, 755 for directories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// Owner UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// Owner name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Group GID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
    /// Group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// One file of a push (the `request` part of the multipart body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WriteFile {
    /// Absolute path; the content part's `filename` is this same full path.
    pub path: String,
    /// Create missing parents (mode 755, same owner).
    #[serde(default, skip_serializing_if = "is_false")]
    pub make_dirs: bool,
    /// Mode and owner.
    #[serde(flatten)]
    pub ownership: Ownership,
}

/// One directory of a `make-dirs` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MakeDir {
    /// Absolute path.
    pub path: String,
    /// Create missing parents too, and accept an existing directory.
    #[serde(default, skip_serializing_if = "is_false")]
    pub make_parents: bool,
    /// Mode and owner.
    #[serde(flatten)]
    pub ownership: Ownership,
}

/// One path of a `remove` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovePath {
    /// Absolute path.
    pub path: String,
    /// `rm -rf` semantics (a missing path is fine).
    #[serde(default, skip_serializing_if = "is_false")]
    pub recursive: bool,
}

/// Body of `POST /v1/files` (JSON for make-dirs and remove; the `request` part for write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FilesRequest {
    /// Push files (multipart only).
    Write {
        /// The files.
        files: Vec<WriteFile>,
    },
    /// Create directories.
    MakeDirs {
        /// The directories.
        dirs: Vec<MakeDir>,
    },
    /// Remove paths.
    Remove {
        /// The paths.
        paths: Vec<RemovePath>,
    },
}

/// One per-path result of `POST /v1/files` and of a pull's `response` part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathResult {
    /// The path.
    pub path: String,
    /// Why this path failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorResult>,
}
