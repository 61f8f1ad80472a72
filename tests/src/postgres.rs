//! A throw-away PostgreSQL cluster for tests.
//!
//! [`Cluster::start`] makes a cluster with Debian's `initdb` in a temporary
//! directory and runs `postgres` on a Unix socket in that directory (no TCP
//! listener at all), as the `postgres` user when we are root (initdb refuses
//! root), with `fsync=off` (throw-away data; commits still wait for their
//! WAL write). Dropping the [`Cluster`] stops the server by its PID (fast
//! shutdown, then SIGKILL) and removes the directory, on success and on panic
//! alike. [`Cluster::shared`] lets concurrent tests share one cluster.
//!
//! ```no_run
//! use berth_tests::postgres::{Cluster, postgres_or_skip};
//! if !postgres_or_skip("example") { return; }
//! let pg = Cluster::start().expect("cluster"); // or Cluster::shared()
//! let url = pg.create_database("leases").expect("database");
//! // ... point a store at `url`; `pg.psql("leases", "SELECT ...")` to look inside ...
//! ```

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use crate::process::{Proc, run_output, tail, wait_until};

/// The role the test cluster is created with (trust authentication, superuser).
pub const USER: &str = "berth";

/// The socket's port number. Nothing listens on TCP; the number only names
/// the socket file (`.s.PGSQL.5432`) in the cluster's own directory.
const PORT: u16 = 5432;

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb`.
pub fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Call first in every test that needs PostgreSQL:
/// `if !postgres_or_skip("name") { return; }`.
///
/// Installed: returns true. Missing and `CI=true`: panics (CI must run these;
/// contrib/dev/test.sh installs the package). Otherwise prints a loud SKIPPED
/// line to the real stderr and returns false.
pub fn postgres_or_skip(test: &str) -> bool {
    if bin_dir().is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb), \
             and CI=true: run contrib/dev/test.sh, which installs the `postgresql` package"
        );
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! {test}: SKIPPED (PostgreSQL is not installed: apt-get install postgresql) !!!!!\n"
    );
    false
}

/// A running test cluster; stopped and deleted on drop.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    /// Holds the data directory, the socket and the server log.
    dir: tempfile::TempDir,
    server: Option<Proc>,
}

impl Cluster {
    /// A cluster shared by the tests of this process that run at the same
    /// time (give each its own database): started by the first, stopped and
    /// removed when the last one drops its handle, so a test binary makes a
    /// few clusters instead of one per test. A test that stops or restarts
    /// the server needs a cluster of its own ([`Cluster::start`]).
    pub fn shared() -> Result<Arc<Cluster>> {
        static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
        let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cluster) = slot.upgrade() {
            return Ok(cluster);
        }
        let cluster = Arc::new(Cluster::start()?);
        *slot = Arc::downgrade(&cluster);
        Ok(cluster)
    }

    /// initdb + start, waiting (at most 30 s) until the server accepts connections.
    pub fn start() -> Result<Cluster> {
        let bin = bin_dir().context(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): \
             apt-get install postgresql",
        )?;
        let dir = tempfile::Builder::new()
            .prefix("berth-pg-")
            .tempdir()
            .context("creating the cluster's temporary directory")?;
        let owner = server_user()?;
        if let Some((uid, gid)) = owner {
            chown(dir.path(), Some(uid), Some(gid))
                .with_context(|| format!("chown {} to postgres", dir.path().display()))?;
        }
        // Others may reach the socket (a daemon under test runs as its own
        // user); the data directory below stays 0700, as initdb makes it.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
            .with_context(|| format!("chmod {}", dir.path().display()))?;
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ])
            // The cluster is thrown away; durability of the test data itself
            // is not what these tests check (commits still wait for the WAL).
            .arg("--no-sync");
        as_owner(&mut initdb, dir.path(), owner);
        let out = run_output(&mut initdb, Duration::from_secs(60))?;
        if !out.status.success() {
            bail!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut cluster = Cluster {
            bin,
            dir,
            server: None,
        };
        cluster.start_server()?;
        Ok(cluster)
    }

    /// Starts the server on the existing data directory (after [`Cluster::stop`]).
    pub fn start_server(&mut self) -> Result<()> {
        if self.server.is_some() {
            return Ok(());
        }
        let owner = server_user()?;
        let mut cmd = Command::new(self.bin.join("postgres"));
        cmd.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-k")
            .arg(self.dir.path())
            .args(["-p", &PORT.to_string(), "-c", "listen_addresses="])
            // Test data need not survive a power cut; without fsync a
            // shutdown takes milliseconds instead of seconds. Commits still
            // wait for their WAL write (synchronous_commit stays on).
            .args(["-c", "fsync=off"]);
        as_owner(&mut cmd, self.dir.path(), owner);
        let log = self.dir.path().join("server.log");
        let mut server = Proc::spawn("postgres", &mut cmd, &log)?;
        let socket = self.socket_dir();
        let ready = wait_until(Duration::from_secs(30), || {
            if !server.is_running() {
                return Some(false);
            }
            let out = Command::new(self.bin.join("pg_isready"))
                .arg("-q")
                .arg("-h")
                .arg(&socket)
                .args(["-p", &PORT.to_string(), "-U", USER, "-d", "postgres"])
                .status()
                .ok()?;
            out.success().then_some(true)
        });
        if ready != Some(true) {
            let log = server.log();
            drop(server);
            bail!(
                "postgres did not become ready within 30 s:\n{}",
                tail(&log, 30)
            );
        }
        self.server = Some(server);
        Ok(())
    }

    /// Fast shutdown (SIGINT: abort transactions, drop clients), keeping the
    /// data directory. [`Cluster::start_server`] brings it back.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut server) = self.server.take() {
            server.signal(Signal::SIGINT)?;
            if server.wait_exit(Duration::from_secs(15))?.is_none() {
                bail!("postgres did not stop within 15 s of SIGINT (killing it)");
            }
        }
        Ok(())
    }

    /// Kills the server by its PID (SIGKILL: a crash, no shutdown at all),
    /// keeping the data directory; its backends notice and exit.
    /// [`Cluster::start_server`] brings it back (crash recovery).
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut server) = self.server.take() {
            server.signal(Signal::SIGKILL)?;
            if server.wait_exit(Duration::from_secs(15))?.is_none() {
                bail!("postgres did not die within 15 s of SIGKILL");
            }
            // The backends hold the shared memory until they have gone;
            // a new postmaster refuses to start before that.
            let data = self.dir.path().join("data");
            let _ = wait_until(Duration::from_secs(15), || {
                processes_of(&data).is_empty().then_some(())
            });
        }
        Ok(())
    }

    /// The PIDs of the server and its backends (for CPU accounting).
    pub fn pids(&self) -> Vec<u32> {
        processes_of(&self.dir.path().join("data"))
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        crate::process::read_log(&self.dir.path().join("server.log"))
    }

    /// A connection URL for database `db` over the cluster's Unix socket.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{USER}@/{db}?host={}&port={PORT}",
            self.socket_dir().display()
        )
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, db: &str) -> Result<String> {
        self.psql("postgres", &format!("CREATE DATABASE \"{db}\""))?;
        Ok(self.url(db))
    }

    /// Runs `sql` in database `db` with psql (stopping at the first error);
    /// returns the rows, unaligned, `|` between columns, one per line.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.arg("-h")
            .arg(self.socket_dir())
            .args(["-p", &PORT.to_string(), "-U", USER, "-d", db])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
        let out = run_output(&mut cmd, Duration::from_secs(30))?;
        if !out.status.success() {
            bail!(
                "psql {db}: `{sql}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Stop the server before the TempDir removes its data directory.
        if let Err(e) = self.stop() {
            eprintln!("postgres test cluster: {e}");
        }
    }
}

/// The `postgres` account's uid/gid when we are root (the server must not
/// run as root); `None` when we are not root (it then runs as us).
fn server_user() -> Result<Option<(u32, u32)>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name("postgres")
        .context("looking up the postgres user")?
        .context("no `postgres` user (the postgresql package creates it)")?;
    Ok(Some((user.uid.as_raw(), user.gid.as_raw())))
}

/// The processes of the cluster at `data`: `postgres` processes working in
/// that directory (the server chdirs there; its backends inherit it).
fn processes_of(data: &Path) -> Vec<u32> {
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cwd = fs::read_link(e.path().join("cwd")).ok()?;
            let comm = fs::read_to_string(e.path().join("comm")).ok()?;
            (comm.trim() == "postgres" && cwd.starts_with(data)).then_some(pid)
        })
        .collect()
}

fn as_owner(cmd: &mut Command, dir: &Path, owner: Option<(u32, u32)>) {
    // Run from a directory the server's user can enter.
    cmd.current_dir(dir);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
}
