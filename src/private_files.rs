//! Files and folders only the gateway's own user may read: the folders it
//! creates are mode 0700 and the files 0600 (the SQLite database, whose
//! `-wal` and `-shm` files SQLite gives the database's mode, the mail
//! files, the generated secrets). Folders and files that already exist
//! keep their modes: an operator who chose others chose them.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::path::Path;

/// Create `dir` and any missing parents, each new one mode 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a file mode 0600 (write access; add the rest).
pub fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Create `path` empty, mode 0600, unless it exists.
pub fn create_file(path: &Path) -> io::Result<()> {
    match file_options().create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
