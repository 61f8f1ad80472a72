//! What one durable write costs on this machine's disk: the floor under
//! berthd's REQUEST->ACK time and CPU per DORA when each ACK waits for a
//! flush of its own. No root, no network.
//!
//! Run: `cargo bench -p berth-tests --bench flush`
//!
//! Writes a WAL-sized frame (4,120 bytes: a 4 KiB page and its 24-byte
//! header, as SQLite's WAL does) and flushes it, with `fsync` and again
//! with `fdatasync`, `BENCH_FLUSHES` (1000) times in each of three ways:
//! - overwrite, back to back: into a file already that long, as a WAL is
//!   reused after a checkpoint, one flush right after the other (a busy
//!   writer);
//! - overwrite, paced: the same with 1 ms between flushes, as at 1,000
//!   DORA/s where each ACK has a flush to itself and the disk and CPU idle
//!   in between;
//! - append: each frame past the end of the file, as a new WAL grows (the
//!   file system has its own metadata to journal too).
//!
//! Prints the average, median, 99th percentile and worst time per flush, and
//! the CPU time the writing thread used per flush (`CLOCK_THREAD_CPUTIME_ID`
//! around the write and the flush; the kernel's own threads' share, the
//! journal's and the block layer's completions, is not in it).
//! `BENCH_FLUSH_DIR` (default: the system's temporary directory, where the
//! other benches keep their stores) picks the file system.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use berth_tests::bench::env_u32_within;

const FRAME: usize = 4096 + 24;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flush bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How the frames are placed and spaced.
#[derive(Clone, Copy)]
enum Way {
    Overwrite,
    Paced,
    Append,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Overwrite => "overwrite, back to back",
            Way::Paced => "overwrite, 1 ms apart",
            Way::Append => "append",
        }
    }
}

/// How each frame is made durable.
#[derive(Clone, Copy)]
enum Sync {
    /// `fsync`: data and every piece of metadata, the modification time too.
    All,
    /// `fdatasync`: data and only the metadata needed to read it back (the
    /// size), so an overwrite in place journals nothing.
    Data,
}

impl Sync {
    fn name(self) -> &'static str {
        match self {
            Sync::All => "fsync",
            Sync::Data => "fdatasync",
        }
    }
}

/// Per-flush times, sorted.
struct Measured {
    wall: Vec<Duration>,
    cpu: Duration,
}

fn run() -> Result<()> {
    let flushes = env_u32_within("BENCH_FLUSHES", 1000, 10..=1_000_000)? as usize;
    let dir = std::env::var_os("BENCH_FLUSH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::tempdir_in(&dir).with_context(|| format!("tempdir in {dir:?}"))?;
    println!(
        "flush: {flushes} frames of {FRAME} bytes, each written and flushed, in {}",
        dir.display()
    );
    println!();
    println!("| way | call | avg us | median us | p99 us | worst us | CPU us per flush |");
    println!("|---|---|---|---|---|---|---|");
    let ways = [Way::Overwrite, Way::Paced, Way::Append];
    for (way, sync) in ways
        .into_iter()
        .flat_map(|w| [(w, Sync::All), (w, Sync::Data)])
    {
        let path = tmp.path().join("frames");
        let m = measure(&path, way, sync, flushes)?;
        let n = m.wall.len();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let avg = m.wall.iter().sum::<Duration>() / u32::try_from(n).unwrap_or(u32::MAX);
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} |",
            way.name(),
            sync.name(),
            us(avg),
            us(m.wall[n / 2]),
            us(m.wall[(n * 99) / 100]),
            us(m.wall[n - 1]),
            us(m.cpu) / n as f64,
        );
        std::fs::remove_file(&path).with_context(|| format!("removing {path:?}"))?;
    }
    Ok(())
}

fn measure(path: &std::path::Path, way: Way, sync: Sync, flushes: usize) -> Result<Measured> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("creating {path:?}"))?;
    if !matches!(way, Way::Append) {
        // Written and flushed once, so the frames below overwrite blocks
        // the file system has already allocated.
        file.write_all_at(&vec![0u8; FRAME * flushes], 0)
            .context("preallocating")?;
        file.sync_all().context("fsync")?;
    }
    let frame = vec![0x5au8; FRAME];
    let mut wall = Vec::with_capacity(flushes);
    let mut cpu = Duration::ZERO;
    for i in 0..flushes {
        if matches!(way, Way::Paced) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (t0, c0) = (Instant::now(), thread_cpu()?);
        flush_one(&file, &frame, (i * FRAME) as u64, sync)?;
        wall.push(t0.elapsed());
        cpu += thread_cpu()?.saturating_sub(c0);
    }
    wall.sort();
    Ok(Measured { wall, cpu })
}

fn flush_one(file: &File, frame: &[u8], at: u64, sync: Sync) -> Result<()> {
    file.write_all_at(frame, at).context("write")?;
    match sync {
        Sync::All => file.sync_all().context("fsync"),
        Sync::Data => file.sync_data().context("fdatasync"),
    }
}

/// CPU time this thread has used.
fn thread_cpu() -> Result<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).context("clock_gettime");
    }
    Ok(Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    ))
}
