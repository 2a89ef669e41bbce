//! The SQLite database file: the marker that says its folder holds a
//! database, the file this process opened (device and inode), and whether
//! the folder still takes writes.
//!
//! A deleted or replaced database file would otherwise go on taking commits
//! into an unlinked inode, acknowledged and then gone at the next start; a
//! folder that lost its database (a volume that did not mount, a stray
//! `rm`) would otherwise start empty without a word.

use std::fs::Metadata;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::StoreError;

/// What the marker file says to whoever finds it.
const MARKER_TEXT: &str = "\
This folder holds handoff-gate's SQLite store (the file named like this one,
without `.marker`). While this marker exists and that file does not,
`handoff-gate serve` refuses to start instead of starting empty: restore the
database from a backup, or run `handoff-gate serve --init` once to start with
an empty store. See docs/operations.md, \"When something fails\".
";

/// The marker next to a database file: `handoff-gate.db.marker`.
pub fn marker_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".marker");
    database.with_file_name(name)
}

/// Device and inode: which file a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(metadata: &Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            device: metadata.dev(),
            inode: metadata.ino(),
        }
    }

    /// Elsewhere only the file's existence is checked.
    #[cfg(not(unix))]
    fn of(_: &Metadata) -> FileId {
        FileId {
            device: 0,
            inode: 0,
        }
    }
}

/// Refuse to start on a folder whose marker says it held a database that is
/// now missing (or an empty file in its place).
pub(super) fn refuse_lost(database: &Path) -> Result<(), StoreError> {
    let marker = marker_path(database);
    let present = std::fs::metadata(database).is_ok_and(|m| m.len() > 0);
    if marker.exists() && !present {
        return Err(StoreError::Missing {
            path: database.display().to_string(),
            marker: marker.display().to_string(),
        });
    }
    Ok(())
}

/// `serve --init`: forget that the folder held a database, so the next open
/// starts an empty one. Returns whether there was anything to forget.
pub(super) fn forget_lost(database: &Path) -> Result<bool, StoreError> {
    let marker = marker_path(database);
    if refuse_lost(database).is_ok() {
        return Ok(false);
    }
    std::fs::remove_file(&marker).map_err(|source| StoreError::Folder {
        folder: marker.display().to_string(),
        source,
    })?;
    Ok(true)
}

/// Whether `folder` takes new files: a probe file is created and removed.
pub(super) fn check_writable(folder: &Path) -> Result<(), StoreError> {
    let probe = folder.join(format!(".handoff-gate-probe-{}", std::process::id()));
    let fail = |source| StoreError::Folder {
        folder: folder.display().to_string(),
        source,
    };
    std::fs::File::create(&probe).map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

/// The database file this process opened.
#[derive(Debug)]
pub(super) struct DatabaseFile {
    path: PathBuf,
    opened: FileId,
    lost: AtomicBool,
}

impl DatabaseFile {
    /// Remember which file `path` names now, and mark its folder as holding
    /// a database.
    pub(super) fn opened(path: &Path) -> Result<DatabaseFile, StoreError> {
        let metadata = std::fs::metadata(path).map_err(|source| StoreError::Folder {
            folder: path.display().to_string(),
            source,
        })?;
        let marker = marker_path(path);
        if !marker.exists() {
            let write = || -> std::io::Result<()> {
                let mut file = crate::private_files::file_options()
                    .create(true)
                    .truncate(true)
                    .open(&marker)?;
                file.write_all(MARKER_TEXT.as_bytes())?;
                file.sync_all()
            };
            write().map_err(|source| StoreError::Folder {
                folder: marker.display().to_string(),
                source,
            })?;
        }
        Ok(DatabaseFile {
            path: path.to_owned(),
            opened: FileId::of(&metadata),
            lost: AtomicBool::new(false),
        })
    }

    /// The folder the database lives in.
    pub(super) fn folder(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// Whether the path still names the file that was opened. Once it does
    /// not, it never does again in this process: every write is refused
    /// until a restart (which then finds the marker and asks for a restore).
    pub(super) fn check(&self) -> Result<(), StoreError> {
        if !self.lost.load(Ordering::Acquire) {
            let what = match std::fs::metadata(&self.path) {
                Ok(metadata) if FileId::of(&metadata) == self.opened => return Ok(()),
                Ok(_) => "was replaced by another file",
                Err(_) => "was deleted",
            };
            if !self.lost.swap(true, Ordering::AcqRel) {
                tracing::error!(
                    path = %self.path.display(),
                    "THE DATABASE FILE {what} while the gateway runs: every write is refused (503) from now on, \
                     so nothing is acknowledged into a file that is gone. Stop the gateway, restore the file \
                     from a backup (docs/operations.md), start again"
                );
            }
        }
        Err(StoreError::Lost {
            path: self.path.display().to_string(),
        })
    }
}
