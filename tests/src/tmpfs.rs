//! A small tmpfs for a test that needs a disk that fills up: mounted on a
//! fresh temporary directory, unmounted again on drop (also when the test
//! panics; lazily, should something still hold a file open in it).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::process::run_output;

/// A mounted tmpfs of a fixed size.
#[derive(Debug)]
pub struct Tmpfs {
    // Dropped after the unmount (fields drop after `Drop::drop` runs).
    dir: TempDir,
    mounted: bool,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) with
    /// mode 0755 on a new temporary directory. Needs root.
    pub fn mount(bytes: u64) -> Result<Tmpfs> {
        let dir = tempfile::Builder::new()
            .prefix("berth-tmpfs.")
            .tempdir()
            .context("cannot create the mount point")?;
        let out = run_output(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o"])
                .arg(format!("size={bytes},mode=0755"))
                .arg("berth-test")
                .arg(dir.path()),
            Duration::from_secs(10),
        )?;
        if !out.status.success() {
            bail!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Tmpfs { dir, mounted: true })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` until the file system says it is full; returns its
    /// path and how many bytes fit.
    pub fn fill(&self, name: &str) -> Result<(PathBuf, u64)> {
        let path = self.path().join(name);
        let mut f: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let mut written = 0u64;
        // Big writes first, then ever smaller ones, so the last page fills too.
        for chunk in [1 << 16, 4096, 512, 1] {
            let buf = vec![0u8; chunk];
            loop {
                match f.write(&buf) {
                    Ok(0) => break,
                    Ok(n) => written += n as u64,
                    Err(e) if e.kind() == ErrorKind::StorageFull => break,
                    Err(e) => return Err(e).context("filling the tmpfs"),
                }
            }
        }
        Ok((path, written))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if self.mounted {
            // `-l`: detach now even if a process still holds a file here.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
            self.mounted = false;
        }
    }
}
