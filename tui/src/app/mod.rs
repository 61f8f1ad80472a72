//! The interactive TUI. OWNED BY THE TUI HELPER.
