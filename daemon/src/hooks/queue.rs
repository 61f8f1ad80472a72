//! The bounded queue between the core task and the hook programs. The core
//! only ever `try_send`s: a full queue drops the event's hooks (reported),
//! so hooks never hold up DHCP. A worker task starts each event's programs
//! when one of `max_concurrent` slots is free.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use berth_proto::{Event, EventKind};
use tokio::sync::{Semaphore, mpsc};
use tracing::{info, warn};

use super::run::{self, Ending, Program, RunAs};
use super::{HookConfig, HookEvent, HookKind, env};
use crate::clock::{SystemClocks, TimeSource};
use crate::events::{EventLog, new_event};

/// What became of a submitted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// No hook runs for it.
    Nothing,
    /// Its hooks will run.
    Queued,
    /// The queue was full: its hooks were dropped (and an event says so).
    Dropped,
}

/// Who the event was about, for the result events.
#[derive(Debug, Clone)]
struct About {
    kind: HookKind,
    mac: Option<String>,
    ip: Option<std::net::Ipv4Addr>,
    hostname: Option<String>,
}

impl About {
    fn event(&self, ok: bool, detail: String) -> Event {
        let mut e = new_event(EventKind::HookResult);
        e.mac = self.mac.clone();
        e.ip = self.ip;
        e.hostname = self.hostname.clone();
        e.ok = ok;
        e.detail = detail;
        e
    }
}

/// One event's programs: the enter directory's, the hooks, the exit
/// directory's (with `exit_status`).
struct Job {
    about: About,
    env: Vec<(String, String)>,
    enter_dir: Option<PathBuf>,
    hooks: Vec<Program>,
    exit_dir: Option<PathBuf>,
    dir_timeout: Duration,
    run_as: Result<Option<RunAs>, String>,
}

fn unix_now() -> i64 {
    i64::try_from(SystemClocks.wall()).unwrap_or(i64::MAX)
}

/// The last line(s) of stderr worth showing in an event, at most 300 bytes.
fn stderr_tail(s: &str) -> String {
    let s = s.trim_end();
    let mut start = s.len().saturating_sub(300);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}

impl Job {
    async fn run(self, events: &EventLog) {
        let run_as = match &self.run_as {
            Ok(r) => *r,
            Err(why) => {
                let e = self.about.event(
                    false,
                    format!("{} hooks not run: {why}", self.about.kind.as_str()),
                );
                warn!("{}", e.detail);
                events.push(e, unix_now());
                return;
            }
        };
        let mut status = 0;
        for path in self.dir_programs(self.enter_dir.as_ref(), events) {
            self.one(program(path, &self.env, self.dir_timeout, run_as), events)
                .await;
        }
        for mut p in self.hooks.iter().cloned() {
            p.run_as = run_as;
            let s = self.one(p, events).await;
            if s != 0 {
                status = s;
            }
        }
        let mut env = self.env.clone();
        env.push(("exit_status".into(), status.to_string()));
        for path in self.dir_programs(self.exit_dir.as_ref(), events) {
            self.one(program(path, &env, self.dir_timeout, run_as), events)
                .await;
        }
    }

    fn dir_programs(&self, dir: Option<&PathBuf>, events: &EventLog) -> Vec<PathBuf> {
        let Some(dir) = dir else { return Vec::new() };
        run::programs_in(dir).unwrap_or_else(|e| {
            let ev = self
                .about
                .event(false, format!("cannot read {}: {e}", dir.display()));
            warn!("hook directory: {}", ev.detail);
            events.push(ev, unix_now());
            Vec::new()
        })
    }

    /// Runs one program and reports it; returns its status.
    async fn one(&self, p: Program, events: &EventLog) -> i32 {
        let r = run::run(&p).await;
        let ok = r.ending == Ending::Exited(0);
        let mut detail = format!(
            "{} {}: {}",
            self.about.kind.as_str(),
            p.path.display(),
            r.ending
        );
        let err = stderr_tail(&r.stderr);
        if !err.is_empty() {
            detail.push_str("; stderr: ");
            detail.push_str(&err);
        }
        if ok {
            info!("hook {detail}");
        } else {
            warn!("hook {detail}");
        }
        events.push(self.about.event(ok, detail), unix_now());
        r.ending.status()
    }
}

fn program(
    path: PathBuf,
    env: &[(String, String)],
    timeout: Duration,
    run_as: Option<RunAs>,
) -> Program {
    Program {
        path,
        args: Vec::new(),
        env: env.to_vec(),
        timeout,
        run_as,
    }
}

/// Who hooks run as: `user` when berthd is root (never root itself), else
/// berthd's own user, which is already unprivileged.
fn run_as(user: &str) -> Result<Option<RunAs>, String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => Ok(Some(RunAs {
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        })),
        Ok(None) => Err(format!(
            "user `{user}` ([hooks] user) does not exist, and hooks never run as root"
        )),
        Err(e) => Err(format!("cannot look up user `{user}`: {e}")),
    }
}

/// The core's end of the hook queue.
pub struct Dispatcher {
    config: HookConfig,
    tx: Option<mpsc::Sender<Job>>,
    events: Arc<EventLog>,
    run_as: Result<Option<RunAs>, String>,
}

impl Dispatcher {
    /// A dispatcher for `config`, reporting to `events`. With any hook
    /// configured it starts its worker task, so it must be called inside a
    /// tokio runtime.
    pub fn new(config: HookConfig, events: Arc<EventLog>) -> Self {
        let (tx, run_as) = if config.any() {
            let (tx, rx) = mpsc::channel(config.settings.queue.max(1));
            tokio::spawn(work(rx, config.settings.max_concurrent, events.clone()));
            (Some(tx), run_as(&config.settings.user))
        } else {
            (None, Ok(None))
        };
        if let Err(why) = &run_as {
            warn!("hooks will not run: {why}");
        }
        Dispatcher {
            config,
            tx,
            events,
            run_as,
        }
    }

    /// The configuration it runs.
    pub fn config(&self) -> &HookConfig {
        &self.config
    }

    /// Whether an event of `kind` runs anything (so the caller can skip
    /// building it).
    pub fn wants(&self, kind: HookKind) -> bool {
        self.tx.is_some() && self.config.wants(kind)
    }

    /// Queues the programs for `e`; never waits.
    pub fn submit(&self, e: &HookEvent) -> Submitted {
        let Some(tx) = &self.tx else {
            return Submitted::Nothing;
        };
        if !self.config.wants(e.kind) {
            return Submitted::Nothing;
        }
        let env = env::build(e);
        let hooks = self
            .config
            .hooks
            .iter()
            .filter(|h| h.on.contains(&e.kind))
            .map(|h| Program {
                path: h.run.clone(),
                args: h.args.iter().map(|t| t.render(e)).collect(),
                env: env.clone(),
                timeout: h.timeout,
                run_as: None,
            })
            .collect();
        let about = About {
            kind: e.kind,
            mac: e.mac.clone(),
            ip: e.lease.as_ref().map(|l| l.ip),
            hostname: e.hostname.clone(),
        };
        let s = &self.config.settings;
        let job = Job {
            about: about.clone(),
            env,
            enter_dir: s.enter_dir.clone(),
            hooks,
            exit_dir: s.exit_dir.clone(),
            dir_timeout: s.dir_timeout,
            run_as: self.run_as.clone(),
        };
        match tx.try_send(job) {
            Ok(()) => Submitted::Queued,
            Err(_) => {
                let ev = about.event(
                    false,
                    format!(
                        "{} hooks dropped: {} events already waiting ([hooks] queue)",
                        e.kind.as_str(),
                        s.queue
                    ),
                );
                warn!("{}", ev.detail);
                self.events.push(ev, unix_now());
                Submitted::Dropped
            }
        }
    }
}

/// Starts each queued event's programs once a slot is free.
async fn work(mut rx: mpsc::Receiver<Job>, max_concurrent: usize, events: Arc<EventLog>) {
    let slots = Arc::new(Semaphore::new(max_concurrent.max(1)));
    while let Some(job) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let events = events.clone();
        tokio::spawn(async move {
            job.run(&events).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;
    use crate::hooks::{HookSettings, HookSpec, LeaseFacts, Template};

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    fn event() -> HookEvent {
        let mut e = HookEvent::new(HookKind::Commit);
        e.mac = Some("02:00:00:00:00:aa".into());
        e.lease = Some(LeaseFacts {
            ip: "192.0.2.100".parse().expect("ip"),
            hostname: None,
            lease_time: Some(60),
            expiry: Some(100),
        });
        e
    }

    async fn results(log: &EventLog, n: usize) -> Vec<Event> {
        for _ in 0..200 {
            let b = log.since(0);
            if b.events.len() >= n {
                return b.events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        log.since(0).events
    }

    #[tokio::test]
    async fn enter_hooks_exit_run_in_order_and_exit_gets_the_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let (enter, exit) = (dir.path().join("enter"), dir.path().join("exit"));
        std::fs::create_dir(&enter).expect("mkdir");
        std::fs::create_dir(&exit).expect("mkdir");
        let o = out.display();
        script(&enter, "10-a", &format!("echo enter-a $reason >> {o}"));
        script(&enter, "20-b", &format!("echo enter-b >> {o}"));
        let hook = script(
            dir.path(),
            "hook",
            &format!("echo hook \"$@\" >> {o}; exit 7"),
        );
        script(&exit, "10-x", &format!("echo exit $exit_status >> {o}"));
        let config = HookConfig {
            hooks: vec![HookSpec {
                on: vec![HookKind::Commit],
                run: hook,
                args: vec![
                    Template::parse("{event}").expect("t"),
                    Template::parse("{ip}").expect("t"),
                ],
                timeout: Duration::from_secs(10),
            }],
            settings: HookSettings {
                enter_dir: Some(enter),
                exit_dir: Some(exit),
                ..HookSettings::default()
            },
        };
        let log = Arc::new(EventLog::new(100, 0));
        let d = Dispatcher::new(config, log.clone());
        if d.run_as.as_ref().is_ok_and(Option::is_some) {
            // As root the programs run as `nobody`, who cannot write here.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .expect("chmod");
        }
        assert_eq!(d.submit(&event()), Submitted::Queued);
        let evs = results(&log, 4).await;
        assert_eq!(evs.len(), 4, "{evs:?}");
        assert!(evs.iter().all(|e| e.kind == EventKind::HookResult));
        assert!(
            !evs[2].ok && evs[2].detail.contains("exited 7"),
            "{:?}",
            evs[2]
        );
        let text = std::fs::read_to_string(&out).expect("output");
        assert_eq!(
            text,
            "enter-a COMMIT\nenter-b\nhook commit 192.0.2.100\nexit 7\n"
        );
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hook = script(dir.path(), "hook", "sleep 2");
        let config = HookConfig {
            hooks: vec![HookSpec {
                on: vec![HookKind::Commit],
                run: hook,
                args: Vec::new(),
                timeout: Duration::from_secs(10),
            }],
            settings: HookSettings {
                max_concurrent: 1,
                queue: 1,
                ..HookSettings::default()
            },
        };
        let log = Arc::new(EventLog::new(100, 0));
        let d = Dispatcher::new(config, log.clone());
        let got: Vec<Submitted> = (0..10).map(|_| d.submit(&event())).collect();
        assert!(got.contains(&Submitted::Dropped), "{got:?}");
        let dropped = log
            .since(0)
            .events
            .into_iter()
            .filter(|e| !e.ok && e.detail.contains("dropped"))
            .count();
        assert_eq!(
            dropped,
            got.iter().filter(|s| **s == Submitted::Dropped).count()
        );
        let mut other = event();
        other.kind = HookKind::Expiry;
        assert_eq!(d.submit(&other), Submitted::Nothing, "no hook for expiry");
    }
}
