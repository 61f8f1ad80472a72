//! `berth`: the TUI (no arguments) or a control subcommand. OWNED BY THE CTL HELPER.
fn main() {}
