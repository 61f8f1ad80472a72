//! Per-user TUI settings: `tui.toml` in the user's config directory (the
//! XDG one on Linux, `$XDG_CONFIG_HOME/berth/tui.toml`, else
//! `~/.config/berth/tui.toml`, found with the `directories` crate).
//!
//! ```toml
//! socket = "/run/berth/control.sock"   # when neither --socket nor BERTH_SOCKET is given
//! color = true                         # false: bold and reverse only (NO_COLOR also turns it off)
//! hidden_columns = ["vendor", "if"]    # column titles to leave out of the tables
//! # Kept by the TUI itself when it quits:
//! view = "leases"
//! sort = "hostname"
//! sort_desc = false
//! filter = ""
//! ```
//!
//! A missing file means the defaults. A broken one (bad TOML, an unknown
//! key, a value of the wrong kind) also means the defaults, and one message
//! saying what is wrong; the TUI then never overwrites it, so the
//! operator's file is theirs to fix.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{LeaseSort, Model, View};

/// What `tui.toml` holds; every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The control socket when neither `--socket` nor `BERTH_SOCKET` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// `false` turns colours off (as `NO_COLOR` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<bool>,
    /// Column titles (any case) the tables leave out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_columns: Vec<String>,
    /// The view the TUI opens on: its title, e.g. `leases`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// The leases view's sort column, e.g. `hostname`, `time left`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Sort descending.
    pub sort_desc: bool,
    /// The filter the TUI opens with.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter: String,
}

/// Settings as read, and whether the TUI may write them back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub settings: Settings,
    /// Why the file was not used, for the one message.
    pub problem: Option<String>,
    /// Where they live; `None` when no config directory is known.
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// Whether quitting may save the session's view, sort and filter: not
    /// over a file the operator has to fix.
    pub fn writable(&self) -> bool {
        self.problem.is_none() && self.path.is_some()
    }
}

/// `tui.toml`'s place: the platform's config directory for `berth`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "berth").map(|d| d.config_dir().join("tui.toml"))
}

/// Reads the settings at `path` (usually [`default_path`]).
pub fn load(path: Option<PathBuf>) -> Loaded {
    let Some(path) = path else {
        return Loaded::default();
    };
    let settings = match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    };
    match settings {
        Ok(settings) => Loaded {
            settings,
            problem: None,
            path: Some(path),
        },
        Err(e) => Loaded {
            settings: Settings::default(),
            problem: Some(format!("settings ignored, using defaults: {e}")),
            path: Some(path),
        },
    }
}

/// Parses `tui.toml`, checking the names of views and sort columns too.
pub fn parse(text: &str) -> Result<Settings, String> {
    let s: Settings = toml::from_str(text).map_err(|e| e.message().to_string())?;
    if let Some(v) = &s.view
        && view_named(v).is_none()
    {
        return Err(format!(
            "view `{v}` is not one of {}",
            View::ALL.map(|v| v.title().to_lowercase()).join(", ")
        ));
    }
    if let Some(o) = &s.sort
        && sort_named(o).is_none()
    {
        return Err(format!("sort `{o}` is not a leases column"));
    }
    Ok(s)
}

fn view_named(name: &str) -> Option<View> {
    View::ALL
        .into_iter()
        .find(|v| v.title().eq_ignore_ascii_case(name.trim()))
}

fn sort_named(name: &str) -> Option<LeaseSort> {
    let mut s = LeaseSort::Ip;
    for _ in 0..8 {
        if s.name().eq_ignore_ascii_case(name.trim()) {
            return Some(s);
        }
        s = s.next();
    }
    None
}

/// Puts `s` into a fresh model.
pub fn apply(s: &Settings, m: &mut Model) {
    if let Some(v) = s.view.as_deref().and_then(view_named) {
        m.view = v;
    }
    if let Some(o) = s.sort.as_deref().and_then(sort_named) {
        m.sort = o;
    }
    m.sort_desc = s.sort_desc;
    m.filter = s.filter.clone();
    if s.color == Some(false) {
        m.color = false;
    }
    m.hidden_columns = s.hidden_columns.iter().map(|c| c.to_lowercase()).collect();
}

/// `s` with the session's view, sort and filter, to save on quit.
pub fn remember(s: &Settings, m: &Model) -> Settings {
    Settings {
        view: Some(m.view.title().to_lowercase()),
        sort: Some(m.sort.name().to_string()),
        sort_desc: m.sort_desc,
        filter: m.filter.clone(),
        ..s.clone()
    }
}

/// Writes `s` to `path`, making its directory.
pub fn save(path: &Path, s: &Settings) -> Result<(), String> {
    let text = toml::to_string(s).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model::new("/run/berth/control.sock", true)
    }

    #[test]
    fn a_missing_file_is_the_defaults_without_a_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = load(Some(dir.path().join("berth/tui.toml")));
        assert_eq!(l.settings, Settings::default());
        assert_eq!(l.problem, None);
        assert!(l.writable());
    }

    #[test]
    fn a_broken_file_is_the_defaults_with_one_message_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tui.toml");
        for (text, says) in [
            ("view = ", "tui.toml"),
            ("colour = false", "unknown field `colour`"),
            ("color = \"no\"", "invalid type"),
            (
                "view = \"lobby\"",
                "view `lobby` is not one of arrivals, leases",
            ),
            ("sort = \"size\"", "sort `size` is not a leases column"),
        ] {
            std::fs::write(&path, text).expect("write");
            let l = load(Some(path.clone()));
            assert_eq!(l.settings, Settings::default(), "{text}");
            let problem = l.problem.clone().expect("a message");
            assert!(problem.starts_with("settings ignored, using defaults: "));
            assert!(problem.contains(says), "{text}: {problem}");
            assert!(!l.writable());
        }
        let dir_as_file = load(Some(dir.path().to_path_buf()));
        assert!(
            dir_as_file.problem.is_some(),
            "unreadable: a message, no crash"
        );
    }

    #[test]
    fn settings_open_the_tui_where_it_was_left_and_are_saved_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("berth/tui.toml");
        std::fs::create_dir_all(dir.path().join("berth")).expect("dir");
        std::fs::write(
            &path,
            "socket = \"/tmp/b.sock\"\ncolor = false\nhidden_columns = [\"Vendor\"]\n\
             view = \"Pools\"\nsort = \"time left\"\nsort_desc = true\nfilter = \"phone\"\n",
        )
        .expect("write");
        let l = load(Some(path.clone()));
        assert_eq!(l.problem, None);
        assert_eq!(l.settings.socket, Some(PathBuf::from("/tmp/b.sock")));
        let mut m = model();
        apply(&l.settings, &mut m);
        assert_eq!(m.view, View::Pools);
        assert_eq!(m.sort, LeaseSort::Ends);
        assert!(m.sort_desc);
        assert_eq!(m.filter, "phone");
        assert!(!m.color);
        assert_eq!(m.hidden_columns, ["vendor"]);

        m.view = View::Quarantine;
        m.sort = LeaseSort::Mac;
        m.filter.clear();
        save(&path, &remember(&l.settings, &m)).expect("save");
        let again = load(Some(path)).settings;
        assert_eq!(again.view.as_deref(), Some("quarantine"));
        assert_eq!(again.sort.as_deref(), Some("mac"));
        assert_eq!(again.filter, "");
        assert_eq!(again.socket, Some(PathBuf::from("/tmp/b.sock")), "kept");
        assert_eq!(again.hidden_columns, ["Vendor"], "kept as written");
    }

    #[test]
    fn saving_makes_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/tui.toml");
        save(&path, &remember(&Settings::default(), &model())).expect("save");
        assert_eq!(load(Some(path)).settings.view.as_deref(), Some("arrivals"));
    }
}
