//! Where the TUI's settings file lives: in the XDG config directory. Its
//! own test binary, since it sets `XDG_CONFIG_HOME` for the process.

use berth::app::settings;

#[test]
fn the_settings_file_lives_in_the_xdg_config_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    // SAFETY: the only test in this binary; nothing else reads the
    // environment meanwhile.
    unsafe { std::env::set_var("XDG_CONFIG_HOME", dir.path()) };
    let path = settings::default_path().expect("a config dir");
    assert_eq!(path, dir.path().join("berth/tui.toml"));
    // A broken file there: defaults and one message, no panic.
    std::fs::create_dir_all(dir.path().join("berth")).expect("dir");
    std::fs::write(&path, "view = [").expect("write");
    let l = settings::load(settings::default_path());
    assert_eq!(l.settings, settings::Settings::default());
    assert!(l.problem.is_some());
}
