//! What the block device under a directory wrote: write requests, sectors
//! and cache flushes, from `/sys/dev/block/MAJ:MIN/stat`. A durable server's
//! flushes per lease are the stable part of its cost on a virtual disk
//! (each one is a round trip to the host), and they show how well group
//! commit shares them. The counts are the whole device's: other writers on
//! the machine add to them.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// Counters of one block device, since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskCounts {
    /// Write requests completed.
    pub writes: u64,
    /// 512-byte sectors written.
    pub sectors: u64,
    /// Flush requests completed (0 on kernels before 5.5, which lack the field).
    pub flushes: u64,
}

impl DiskCounts {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: DiskCounts) -> DiskCounts {
        DiskCounts {
            writes: self.writes.saturating_sub(earlier.writes),
            sectors: self.sectors.saturating_sub(earlier.sectors),
            flushes: self.flushes.saturating_sub(earlier.flushes),
        }
    }
}

/// The device holding `dir` (its sysfs `stat` file).
#[derive(Debug, Clone)]
pub struct Disk {
    stat: PathBuf,
}

impl Disk {
    /// The device `dir` lives on. Fails for a directory on no block device
    /// (tmpfs, overlay), naming it.
    pub fn under(dir: &Path) -> Result<Disk> {
        let dev = fs::metadata(dir)
            .with_context(|| format!("cannot stat {}", dir.display()))?
            .dev();
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let stat = PathBuf::from(format!("/sys/dev/block/{major}:{minor}/stat"));
        if !stat.exists() {
            return Err(anyhow!(
                "{} is on device {major}:{minor}, which is no block device",
                dir.display()
            ));
        }
        Ok(Disk { stat })
    }

    /// The device's counters now.
    pub fn counts(&self) -> Result<DiskCounts> {
        let text = fs::read_to_string(&self.stat)
            .with_context(|| format!("cannot read {}", self.stat.display()))?;
        parse_disk_stat(&text)
            .ok_or_else(|| anyhow!("cannot parse {}: {text:?}", self.stat.display()))
    }
}

/// Fields of a block device `stat` line (see the kernel's
/// Documentation/block/stat.rst): writes completed is the 5th, sectors
/// written the 7th, flushes completed the 16th.
pub fn parse_disk_stat(text: &str) -> Option<DiskCounts> {
    let f: Vec<u64> = text
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    Some(DiskCounts {
        writes: *f.get(4)?,
        sectors: *f.get(6)?,
        flushes: f.get(15).copied().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sectors_and_flushes_by_position() {
        let line = "  100 2 300 4 5000 6 77000 8 0 9 10 11 12 13 14 4990 16\n";
        let c = parse_disk_stat(line).expect("parses");
        assert_eq!(
            c,
            DiskCounts {
                writes: 5000,
                sectors: 77000,
                flushes: 4990
            }
        );
        let before = DiskCounts {
            writes: 4000,
            sectors: 70000,
            flushes: 4000,
        };
        assert_eq!(c.since(before).flushes, 990);
        // A kernel without the flush fields.
        let old = "100 2 300 4 5000 6 77000 8 0 9 10";
        assert_eq!(parse_disk_stat(old).map(|c| c.flushes), Some(0));
        assert_eq!(parse_disk_stat("1 2 x"), None);
        assert_eq!(parse_disk_stat("1 2 3"), None);
    }
}
