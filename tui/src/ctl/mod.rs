//! The ctl subcommands. OWNED BY THE CTL HELPER.
