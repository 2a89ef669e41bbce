//! Mail written to files while no SMTP relay is configured: one
//! `{intake id}.eml` per intake, written whole (a temporary file renamed
//! into place), so a second delivery of the same intake replaces its file
//! instead of adding one, erasure finds it by id, and retention by the time
//! in its id.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::store::IntakeId;

/// The folder of `.eml` files.
#[derive(Debug, Clone)]
pub struct MailFolder {
    dir: PathBuf,
}

impl MailFolder {
    /// Use (and create) `dir`.
    pub fn create(dir: &Path) -> std::io::Result<MailFolder> {
        crate::private_files::create_dir_all(dir)?;
        Ok(MailFolder {
            dir: dir.to_owned(),
        })
    }

    /// Where an intake's email goes.
    pub fn path_of(&self, id: &IntakeId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    /// Write an intake's email, replacing an earlier copy.
    pub async fn write(&self, id: &IntakeId, message: &[u8]) -> std::io::Result<()> {
        self.write_named(&id.to_string(), message).await.map(drop)
    }

    /// Write `{stem}.eml` (mode 0600), replacing an earlier copy; returns its
    /// path. The whole write (create, write, fsync, rename) is one blocking
    /// task: one hand-off to the blocking threads instead of one per step.
    pub async fn write_named(&self, stem: &str, message: &[u8]) -> std::io::Result<PathBuf> {
        let partial = self.dir.join(format!(".{stem}.eml.partial"));
        let path = self.dir.join(format!("{stem}.eml"));
        let message = message.to_vec();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut file = crate::private_files::file_options()
                .create(true)
                .truncate(true)
                .open(&partial)?;
            file.write_all(&message)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)?;
            Ok(path)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Remove an intake's email (and its autoresponse). Returns whether
    /// there was one.
    pub async fn remove(&self, id: &IntakeId) -> std::io::Result<bool> {
        let mut removed = false;
        for path in [
            self.path_of(id),
            self.dir.join(format!("{id}-autoresponse.eml")),
        ] {
            match tokio::fs::remove_file(path).await {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Remove the emails of intakes created before `cutoff_ms` (the time
    /// in a UUIDv7 id; for other names, the file's modification time).
    /// Returns how many.
    pub async fn prune(&self, cutoff_ms: i64) -> std::io::Result<u64> {
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(mail_stem) else {
                continue;
            };
            let created_ms = match uuid::Uuid::parse_str(stem)
                .ok()
                .and_then(|id| id.get_timestamp())
            {
                Some(timestamp) => {
                    let (seconds, nanos) = timestamp.to_unix();
                    i64::try_from(seconds * 1000 + u64::from(nanos / 1_000_000)).unwrap_or(i64::MAX)
                }
                None => entry
                    .metadata()
                    .await?
                    .modified()?
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            };
            if created_ms < cutoff_ms {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The id part of a mail file's name (`{id}.eml`, or `.{id}.eml.partial`
/// left by a crash mid-write).
fn mail_stem(name: &str) -> Option<&str> {
    name.strip_suffix(".eml").or_else(|| {
        name.strip_prefix('.')
            .and_then(|n| n.strip_suffix(".eml.partial"))
    })
}

#[cfg(test)]
mod tests {
    use super::mail_stem;

    #[test]
    fn mail_files_are_named_by_intake_id() {
        let id = "01a20c3c-77cb-7345-b77e-cb4bbf003987";
        assert_eq!(mail_stem(&format!("{id}.eml")), Some(id));
        assert_eq!(mail_stem(&format!(".{id}.eml.partial")), Some(id));
        assert_eq!(mail_stem("notes.txt"), None);
    }
}
