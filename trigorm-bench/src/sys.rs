//! The process and file-system side: peak RSS, the directory for the database files.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};

/// This process's peak resident set size (`VmHWM` of /proc/self/status), in KiB; `None`
/// where /proc is missing.
pub fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Where the database files go: a directory the user named, or a fresh temporary one that
/// is removed at the end unless [`WorkDir::keep`] was called.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    remove: bool,
}

impl WorkDir {
    /// A new, empty directory under the system's temporary directory.
    pub fn fresh() -> Result<WorkDir> {
        let base = std::env::temp_dir();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        for attempt in 0..100u32 {
            let path = base.join(format!("trigorm-bench-{}-{nanos}-{attempt}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(WorkDir { path, remove: true }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(anyhow!(
                        "cannot create a temporary directory in {}: {e} (pass --dir PATH)",
                        base.display()
                    ))
                }
            }
        }
        bail!("cannot create a fresh temporary directory in {}", base.display())
    }

    /// The directory the user named: created if missing, and checked to be a writable
    /// directory (by creating and removing a file in it). Kept at the end.
    pub fn given(path: &Path) -> Result<WorkDir> {
        let shown = path.display();
        match fs::metadata(path) {
            Ok(m) if !m.is_dir() => bail!("--dir {shown} is not a directory"),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(path)
                    .map_err(|e| anyhow!("--dir {shown} does not exist and cannot be created: {e}"))?;
            }
            Err(e) => bail!("--dir {shown} cannot be read: {e}"),
        }
        let path = fs::canonicalize(path).with_context(|| format!("--dir {shown}"))?;
        let probe = path.join(format!(".trigorm-bench-probe-{}", std::process::id()));
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .and_then(|mut f| f.write_all(b"probe").and_then(|()| f.sync_all()));
        let _ = fs::remove_file(&probe);
        written.map_err(|e| anyhow!("--dir {shown} is not writable: {e}"))?;
        Ok(WorkDir { path, remove: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the directory in place (to inspect a failed run).
    pub fn keep(&mut self) {
        self.remove = false;
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Remove a database file and its WAL and shared-memory files, if present.
pub fn remove_db(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow!("cannot remove {}: {e}", Path::new(&p).display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_kib().is_some_and(|k| k > 0));
        }
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let d = WorkDir::fresh().expect("temp dir");
        let f = d.path().join("f");
        fs::write(&f, b"x").expect("write");
        let e = WorkDir::given(&f).expect_err("a file");
        assert!(e.to_string().contains("is not a directory"), "{e}");
        let sub = d.path().join("a/b");
        let w = WorkDir::given(&sub).expect("created");
        assert!(w.path().is_dir());
        let removed = d.path().to_path_buf();
        drop(d);
        assert!(!removed.exists());
    }
}
