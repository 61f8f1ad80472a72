//! Tests of `[[hook]]`, `[hooks]` and `[server] log`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::hooks::{HookKind, HookSettings};
use crate::log::{Facility, LogTarget};

const FILE: &str = "berth.toml";

fn doc(lines: &[&str]) -> String {
    let mut lines_all = vec!["[server]", "interfaces = [\"eth1\"]"];
    lines_all.extend_from_slice(lines);
    let mut text = lines_all.join("\n");
    text.push('\n');
    text
}

fn ok(text: &str) -> Config {
    parse(text, Path::new(FILE)).unwrap_or_else(|e| panic!("expected valid, got:\n{e}"))
}

fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new(FILE)) {
        Ok(_) => panic!("expected errors:\n{text}"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_hook_with_templates_and_settings() {
    let c = ok(&doc(&[
        "[[hook]]",
        "on = [\"commit\", \"release\", \"expiry\"]",
        "run = \"/etc/berth/dhcp-event\"",
        "args = [\"commit\", \"{ip}\", \"{mac}\", \"{hostname}\", \"auth\"]",
        "timeout = \"5s\"",
        "[hooks]",
        "enter_dir = \"/etc/berth/enter.d\"",
        "max_concurrent = 2",
        "queue = 10",
        "user = \"dhcp-hooks\"",
    ]));
    assert_eq!(c.hooks.hooks.len(), 1);
    let h = &c.hooks.hooks[0];
    assert_eq!(
        h.on,
        [HookKind::Commit, HookKind::Release, HookKind::Expiry]
    );
    assert_eq!(h.run, PathBuf::from("/etc/berth/dhcp-event"));
    let args: Vec<String> = h.args.iter().map(ToString::to_string).collect();
    assert_eq!(args, ["commit", "{ip}", "{mac}", "{hostname}", "auth"]);
    assert_eq!(h.timeout, Duration::from_secs(5));
    let s = &c.hooks.settings;
    assert_eq!(s.enter_dir, Some(PathBuf::from("/etc/berth/enter.d")));
    assert_eq!(s.exit_dir, None);
    assert_eq!((s.max_concurrent, s.queue), (2, 10));
    assert_eq!(s.user, "dhcp-hooks");
    assert!(
        c.hooks.wants(HookKind::Arrival),
        "an enter_dir runs for every event"
    );
}

#[test]
fn defaults_without_hooks() {
    let c = ok(&doc(&[]));
    assert!(c.hooks.hooks.is_empty());
    assert_eq!(c.hooks.settings, HookSettings::default());
    assert!(!c.hooks.any());
    assert_eq!(c.log, LogTarget::Stderr);
}

#[test]
fn an_unknown_template_field_is_pointed_at() {
    let e = errors(&doc(&[
        "[[hook]]",
        "on = [\"commit\"]",
        "run = \"/bin/true\"",
        "args = [\"{ip}\", \"x{ipaddr}\"]",
    ]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("berth.toml:6:19: args: unknown field `{ipaddr}`"),
        "{e:?}"
    );
}

#[test]
fn bad_hook_fields_each_have_their_error() {
    let e = errors(&doc(&[
        "[[hook]]",
        "on = [\"commit\", \"bound\", \"commit\"]",
        "run = \"dhcp-event\"",
        "timeout = \"0s\"",
        "[[hook]]",
        "on = []",
        "run = \"/bin/true\"",
        "wat = 1",
        "[hooks]",
        "max_concurrent = 0",
        "user = \"root\"",
        "exit_dir = \"relative\"",
    ]));
    let want = [
        "berth.toml:4:17: on: unknown event `bound`, expected one of `commit`, `renew`, `release`, `expiry`, `decline`, `arrival`, `promote`",
        "berth.toml:4:26: on: `commit` is listed twice",
        "berth.toml:5:7: run: `dhcp-event` is not an absolute path (hooks are run directly, never looked up in PATH)",
        "berth.toml:6:11: timeout: must be at least 1s",
        "berth.toml:10:1: unknown field `wat`, expected one of `on`, `run`, `args`, `timeout`",
        "berth.toml:12:18: max_concurrent: 0 is not between 1 and 256",
        "berth.toml:13:8: user: `root` cannot be used: hooks run as an unprivileged user",
        "berth.toml:14:12: exit_dir: `relative` is not an absolute path (hooks are run directly, never looked up in PATH)",
    ];
    assert_eq!(e, want);
}

#[test]
fn log_to_a_syslog_facility() {
    let c = ok(&doc(&["log = \"local7\""]));
    assert_eq!(
        c.log,
        LogTarget::Syslog {
            facility: Facility::parse("local7").expect("facility"),
            socket: "/dev/log".into(),
        }
    );
    let c = ok(&doc(&[
        "log = \"daemon\"",
        "syslog_socket = \"/run/systemd/journal/syslog\"",
    ]));
    assert!(
        matches!(c.log, LogTarget::Syslog { ref socket, .. } if socket == Path::new("/run/systemd/journal/syslog"))
    );
    assert_eq!(ok(&doc(&["log = \"stderr\""])).log, LogTarget::Stderr);
}

#[test]
fn a_bad_log_setting_is_an_error() {
    let e = errors(&doc(&["log = \"local9\""]));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "berth.toml:3:7: log: `local9` is neither `stderr` nor a syslog facility (kern, user,"
        ),
        "{e:?}"
    );
    let e = errors(&doc(&["syslog_socket = \"/dev/log\""]));
    assert_eq!(
        e,
        ["berth.toml:3:17: syslog_socket: only used with `log = \"<facility>\"`; set `log` too"]
    );
}
