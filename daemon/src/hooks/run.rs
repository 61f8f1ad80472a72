//! Running one program: directly with its arguments (no shell), an empty
//! environment but for what it is given, stdin from /dev/null, in a process
//! group of its own, as another user if asked; killed with its whole group
//! when its time is up. Only the tail of its output is kept.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How many bytes of each of stdout and stderr are kept (the last ones).
pub const OUTPUT_TAIL: usize = 4096;

/// Who a program runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// One program to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub run_as: Option<RunAs>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signalled(i32),
    /// Its time ran out: its process group was killed.
    TimedOut,
    /// It could not be started.
    NotStarted(String),
}

impl Ending {
    /// As a shell would put it in `$?` (`exit_status` for exit hooks):
    /// 124 for a timeout (as timeout(1)), 128 + N for signal N, 127 when
    /// it could not be started.
    pub fn status(&self) -> i32 {
        match self {
            Ending::Exited(c) => *c,
            Ending::Signalled(s) => 128 + s,
            Ending::TimedOut => 124,
            Ending::NotStarted(_) => 127,
        }
    }

    fn from_status(s: ExitStatus) -> Ending {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(c), _) => Ending::Exited(c),
            (None, Some(sig)) => Ending::Signalled(sig),
            (None, None) => Ending::Exited(-1),
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Exited(c) => write!(f, "exited {c}"),
            Ending::Signalled(s) => write!(f, "killed by signal {s}"),
            Ending::TimedOut => f.write_str("timed out; its process group was killed"),
            Ending::NotStarted(why) => write!(f, "could not be started: {why}"),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub ending: Ending,
    /// The last [`OUTPUT_TAIL`] bytes of stderr, lossy UTF-8.
    pub stderr: String,
    /// The last [`OUTPUT_TAIL`] bytes of stdout, lossy UTF-8.
    pub stdout: String,
}

/// Kills a hook's process group if the run is abandoned before it ends
/// (berthd shutting down): nothing it started outlives the daemon.
struct Group(Option<i32>);

impl Group {
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            // The group may be gone already; that is fine.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads `r` to its end, keeping the last [`OUTPUT_TAIL`] bytes.
async fn tail(r: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut r) = r else { return Vec::new() };
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > OUTPUT_TAIL {
                    kept.drain(..kept.len() - OUTPUT_TAIL);
                }
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `p` to its end or its timeout.
pub async fn run(p: &Program) -> RunResult {
    let mut cmd = Command::new(&p.path);
    cmd.args(&p.args)
        .env_clear()
        .envs(p.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so the timeout reaches whatever it started.
        .process_group(0)
        .kill_on_drop(true);
    // Under systemd berthd holds its network capabilities as ambient ones,
    // which exec would hand on to the hook: clear them in the child.
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            ) != 0
            {
                let e = io::Error::last_os_error();
                // Kernels without ambient capabilities have none to clear.
                if e.raw_os_error() != Some(libc::EINVAL) {
                    return Err(e);
                }
            }
            Ok(())
        });
    }
    if let Some(u) = p.run_as {
        // std drops supplementary groups (setgroups) before setuid.
        cmd.uid(u.uid).gid(u.gid);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return RunResult {
                ending: Ending::NotStarted(e.to_string()),
                stderr: String::new(),
                stdout: String::new(),
            };
        }
    };
    let mut group = Group(child.id().and_then(|id| i32::try_from(id).ok()));
    let (out, err) = (child.stdout.take(), child.stderr.take());
    // The output is read to its end too: a process the hook left behind
    // holding it open counts against the hook's time.
    let work = async {
        let (out, err, status) = tokio::join!(tail(out), tail(err), child.wait());
        (out, err, status)
    };
    match tokio::time::timeout(p.timeout, work).await {
        Ok((out, err, status)) => {
            // Finished in time: what it left running in the background
            // (with its output closed) is its own business.
            group.0 = None;
            RunResult {
                ending: status
                    .map_or_else(|e| Ending::NotStarted(e.to_string()), Ending::from_status),
                stderr: text(&err),
                stdout: text(&out),
            }
        }
        Err(_) => {
            group.kill();
            let _ = child.wait().await;
            RunResult {
                ending: Ending::TimedOut,
                stderr: String::new(),
                stdout: String::new(),
            }
        }
    }
}

/// The executables in `dir`, in name order: regular files with an execute
/// bit, not hidden, not editor backups (`~`). A missing directory has none.
pub fn programs_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn program(script: &str, timeout: Duration) -> (tempfile::TempDir, Program) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hook");
        std::fs::write(&path, script).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let p = Program {
            path,
            args: vec!["one".into(), "$(two) three".into()],
            env: vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("X".into(), "y".into()),
            ],
            timeout,
            run_as: None,
        };
        (dir, p)
    }

    #[tokio::test]
    async fn arguments_and_environment_arrive_as_given() {
        let (_d, p) = program(
            "#!/bin/sh\nprintf '%s|' \"$@\"; echo \"X=$X HOME=${HOME-unset}\"; echo oops >&2; exit 3\n",
            Duration::from_secs(10),
        );
        let r = run(&p).await;
        assert_eq!(r.ending, Ending::Exited(3));
        assert_eq!(r.stdout, "one|$(two) three|X=y HOME=unset\n");
        assert_eq!(r.stderr, "oops\n");
    }

    #[tokio::test]
    async fn a_hook_that_hangs_is_killed_with_its_children() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("child.pid");
        let (_d, p) = program(
            &format!(
                "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
                pidfile.display()
            ),
            Duration::from_millis(500),
        );
        let started = Instant::now();
        let r = run(&p).await;
        assert_eq!(r.ending, Ending::TimedOut);
        assert_eq!(r.ending.status(), 124);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not the sleep's 300 s"
        );
        let child: i32 = std::fs::read_to_string(&pidfile)
            .expect("the script wrote its child's pid")
            .trim()
            .parse()
            .expect("a pid");
        // The background sleep was in the group, so it dies too (a zombie
        // at most, reaped by whoever inherits it). SIGKILL is delivered
        // asynchronously: wait for it.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
        };
        for _ in 0..500 {
            if !alive() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!alive(), "the hook's child {child} was killed with it");
    }

    #[tokio::test]
    async fn only_the_tail_of_the_output_is_kept() {
        let (_d, p) = program(
            "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' a >&2\necho end >&2\n",
            Duration::from_secs(10),
        );
        let r = run(&p).await;
        assert_eq!(r.ending, Ending::Exited(0));
        assert_eq!(r.stderr.len(), OUTPUT_TAIL);
        assert!(r.stderr.ends_with("aaaend\n"));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported() {
        let p = Program {
            path: "/nonexistent/berth-hook".into(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(1),
            run_as: None,
        };
        let r = run(&p).await;
        assert!(matches!(r.ending, Ending::NotStarted(_)), "{:?}", r.ending);
        assert_eq!(r.ending.status(), 127);
    }

    #[test]
    fn directory_programs_run_in_name_order_and_skip_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, mode) in [
            ("20-b", 0o755),
            ("10-a", 0o755),
            ("30-not-executable", 0o644),
            (".hidden", 0o755),
            ("40-backup~", 0o755),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        std::fs::create_dir(dir.path().join("50-dir")).expect("mkdir");
        let names: Vec<String> = programs_in(dir.path())
            .expect("reads")
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["10-a", "20-b"]);
        assert!(
            programs_in(&dir.path().join("missing"))
                .expect("ok")
                .is_empty()
        );
    }
}
