//! Driving a terminal program (the `berth` TUI) for real in tmux: a private
//! tmux server (its own socket in a tempdir), send-keys, capture-pane.
//! Dropping it kills that private server only.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tempfile::TempDir;

use crate::netns::unique_stem;
use crate::process::{run, run_output, wait_until};

/// A tmux session running one command, on a private tmux server.
#[derive(Debug)]
pub struct Tmux {
    dir: TempDir,
    session: String,
}

/// Single-quotes `s` for the shell tmux runs the command with.
fn sh_word(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

impl Tmux {
    /// Starts `program args...` in a detached `width`x`height` session. The
    /// pane stays after the program exits (`remain-on-exit`), so its last
    /// screen can still be read.
    pub fn start<I, S>(program: &Path, args: I, width: u16, height: u16) -> Result<Tmux>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let dir = tempfile::Builder::new()
            .prefix("berth-tmux.")
            .tempdir()
            .context("cannot create tempdir")?;
        let session = unique_stem();
        // The TUI reads and writes its settings under XDG_CONFIG_HOME: a
        // test's own, so no test sees another's (or the machine's) settings.
        let config = dir.path().join("config");
        let mut line = format!("env XDG_CONFIG_HOME={} ", sh_word(config.as_os_str()));
        line.push_str(&sh_word(program.as_os_str()));
        for a in args {
            line.push(' ');
            line.push_str(&sh_word(a.as_ref()));
        }
        let t = Tmux { dir, session };
        // The server is started with remain-on-exit set before the command runs.
        run(
            t.tmux()
                .args(["-f", "/dev/null", "new-session", "-d", "-s"])
                .arg(&t.session)
                .arg("-x")
                .arg(width.to_string())
                .arg("-y")
                .arg(height.to_string())
                .arg("sleep 3600")
                .args([";", "set-option", "-g", "remain-on-exit", "on"])
                .args([";", "respawn-pane", "-k", "-t"])
                .arg(&t.session)
                .arg(&line),
            Duration::from_secs(10),
        )
        .context("cannot start tmux")?;
        Ok(t)
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(self.dir.path().join("tmux.sock"));
        c
    }

    /// `send-keys` (tmux key names: "q", "Enter", "C-c", "Down", ...).
    pub fn send_keys(&self, keys: &[&str]) -> Result<()> {
        run(
            self.tmux()
                .args(["send-keys", "-t"])
                .arg(&self.session)
                .args(keys),
            Duration::from_secs(10),
        )
        .map(|_| ())
    }

    /// The visible screen, as text.
    pub fn capture(&self) -> Result<String> {
        run(
            self.tmux()
                .args(["capture-pane", "-p", "-t"])
                .arg(&self.session),
            Duration::from_secs(10),
        )
    }

    /// Waits until the screen contains every one of `needles`; returns it.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) -> Result<String> {
        let mut last = String::new();
        wait_until(timeout, || {
            last = self.capture().unwrap_or_default();
            needles
                .iter()
                .all(|n| last.contains(n))
                .then(|| last.clone())
        })
        .ok_or_else(|| {
            anyhow!("screen has not shown {needles:?} within {timeout:?}; it shows:\n{last}")
        })
    }

    /// Has the program in the pane exited? (`pane_dead`.)
    pub fn exited(&self) -> bool {
        run_output(
            self.tmux()
                .args(["display-message", "-p", "-t"])
                .arg(&self.session)
                .arg("#{pane_dead} #{pane_dead_status}"),
            Duration::from_secs(10),
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).starts_with('1'))
        .unwrap_or(true)
    }

    /// Waits at most `timeout` for the program to exit.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        wait_until(timeout, || self.exited().then_some(())).is_some()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- tmux screen ({}) ----\n{}",
                self.session,
                self.capture().unwrap_or_default()
            );
        }
        // Our private server (its own socket) only.
        let _ = run_output(self.tmux().arg("kill-server"), Duration::from_secs(10));
    }
}
