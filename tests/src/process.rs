//! Child processes with bounded waits, and the guard that ends them.
//!
//! Every process the test bed starts is a direct child (started through
//! `ip netns exec`, which execs in place, so the child's PID is the tool's
//! PID). It is ended by that PID only: SIGTERM, a bounded wait, then SIGKILL.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How often the polling helpers look again.
pub const POLL: Duration = Duration::from_millis(50);

/// Calls `probe` until it returns `Some`, at most until `timeout` has passed.
pub fn wait_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion, killing it if it takes longer than `timeout`.
/// Returns its output whatever its exit status.
pub fn run_output(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let what = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{what}`"))?;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut buf);
        }
        buf
    });
    let err_t = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    let status = match wait_child(&mut child, timeout)? {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{what}` did not finish within {timeout:?}; killed it");
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Runs `cmd` (bounded by `timeout`) and fails unless it exits 0. Returns stdout.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<String> {
    let what = describe(cmd);
    let out = run_output(cmd, timeout)?;
    if !out.status.success() {
        bail!(
            "`{what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ip ARGS...` (10 s bound), failing on a non-zero exit.
pub fn ip(args: &[&str]) -> Result<String> {
    run(Command::new("ip").args(args), Duration::from_secs(10))
}

/// Waits for `child` to exit, at most `timeout`. `None` if it is still running.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().context("waiting for a child process")? {
            return Ok(Some(s));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(POLL.min(Duration::from_millis(20)));
    }
}

/// A long-running child process whose stdout and stderr go to a log file.
/// Dropping it ends the process (SIGTERM, then SIGKILL after a grace period).
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `cmd` with stdin closed and stdout+stderr appended to `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Proc> {
        let what = describe(cmd);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open log file {}", log.display()))?;
        let file2 = file
            .try_clone()
            .context("cannot duplicate log file handle")?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(file2))
            .spawn()
            .with_context(|| format!("cannot start {name}: `{what}`"))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
            status: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name it was started under (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The log so far (lossy UTF-8, ANSI colour codes removed).
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// The exit status if the process has ended (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    pub fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }

    /// Waits at most `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let s = wait_child(&mut self.child, timeout)?;
        self.status = s;
        Ok(s)
    }

    /// Sends `sig` to this process (by its PID) if it is still running.
    pub fn signal(&mut self, sig: Signal) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let pid = i32::try_from(self.child.id()).map_err(|_| anyhow!("pid out of range"))?;
        kill(Pid::from_raw(pid), sig).with_context(|| format!("cannot signal {}", self.name))
    }

    /// SIGTERM, wait at most `grace`; SIGKILL if it is still there.
    /// Returns the exit status and whether SIGKILL was needed.
    pub fn terminate(&mut self, grace: Duration) -> Result<(ExitStatus, bool)> {
        if let Some(s) = self.try_status() {
            return Ok((s, false));
        }
        self.signal(Signal::SIGTERM)?;
        if let Some(s) = self.wait_exit(grace)? {
            return Ok((s, false));
        }
        let _ = self.child.kill();
        let s = wait_child(&mut self.child, Duration::from_secs(5))?
            .ok_or_else(|| anyhow!("{} (pid {}) survived SIGKILL", self.name, self.pid()))?;
        self.status = Some(s);
        Ok((s, true))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.terminate(Duration::from_secs(3));
    }
}

/// Reads a log file, lossy UTF-8, with ANSI escape sequences stripped.
pub fn read_log(path: &Path) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_end(&mut buf);
    }
    strip_ansi(&String::from_utf8_lossy(&buf))
}

/// The last `n` lines of `s` (with a note if lines were left off).
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let skip = lines.len().saturating_sub(n);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("[... {skip} earlier lines ...]\n"));
    }
    for l in &lines[skip..] {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Removes ANSI CSI escape sequences (colours) from `s`.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colours() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2024\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m listening"),
            "2024  INFO listening"
        );
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc\n", 2), "[... 1 earlier lines ...]\nb\nc\n");
        assert_eq!(tail("a\n", 5), "a\n");
    }

    #[test]
    fn run_is_bounded() {
        let start = Instant::now();
        let r = run(Command::new("sleep").arg("5"), Duration::from_millis(200));
        assert!(r.is_err());
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
