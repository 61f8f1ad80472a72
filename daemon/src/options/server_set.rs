//! The options the server sets itself (or that are framing or the client's
//! own). One list, used by configuration validation (such an option cannot be
//! configured) and by the reply builder (a configured or requested value for
//! one of these is never sent; the server writes its own): the two cannot
//! disagree about what a configured option does.

use super::code;

/// One option the configuration may not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSet {
    /// The DHCP-space code.
    pub code: u8,
    /// What to do instead, or why it is not configurable; starts with "; "
    /// so it can follow the refusal directly. Empty when there is nothing
    /// useful to add.
    pub instead: &'static str,
    /// Never dropped to make a reply fit: a reply without it is useless.
    pub essential: bool,
}

const fn set(code: u8, instead: &'static str, essential: bool) -> ServerSet {
    ServerSet {
        code,
        instead,
        essential,
    }
}

/// The list, by code.
pub const SERVER_SET: &[ServerSet] = &[
    set(code::PAD, "", false),
    set(
        code::SUBNET_MASK,
        "; it follows from the subnet's cidr",
        true,
    ),
    set(code::REQUESTED_IP, "; only a client sends it", false),
    set(
        code::LEASE_TIME,
        "; set default_lease and max_lease instead",
        true,
    ),
    set(code::OVERLOAD, "", false),
    set(code::MESSAGE_TYPE, "", true),
    set(code::SERVER_ID, "; set server_id in [server] instead", true),
    set(
        code::PARAMETER_REQUEST_LIST,
        "; only a client sends it",
        false,
    ),
    set(
        code::MESSAGE,
        "; the server sends it only with a NAK, to say why",
        true,
    ),
    set(code::MAX_MESSAGE_SIZE, "; only a client sends it", false),
    set(code::RENEWAL_TIME, "; it follows from the lease time", true),
    set(
        code::REBINDING_TIME,
        "; it follows from the lease time",
        true,
    ),
    set(code::CLIENT_ID, "; only a client sends it", false),
    set(
        code::RELAY_AGENT_INFO,
        "; the server echoes the relay's own",
        false,
    ),
    set(code::END, "", false),
];

/// The entry for `code`, if the server sets it.
pub fn server_set(code: u8) -> Option<&'static ServerSet> {
    SERVER_SET.iter().find(|s| s.code == code)
}

/// True for codes the server sets itself; the configuration may not set them
/// and the reply builder never sends a configured value for them.
pub fn is_server_set(code: u8) -> bool {
    server_set(code).is_some()
}

const fn essential_count() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < SERVER_SET.len() {
        if SERVER_SET[i].essential {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The essential codes of [`SERVER_SET`]: what a reply keeps when it must
/// drop options to fit.
pub const ESSENTIAL: [u8; essential_count()] = {
    let mut out = [0u8; essential_count()];
    let mut n = 0;
    let mut i = 0;
    while i < SERVER_SET.len() {
        if SERVER_SET[i].essential {
            out[n] = SERVER_SET[i].code;
            n += 1;
        }
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_set_codes() {
        for c in [0, 1, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61, 82, 255] {
            assert!(is_server_set(c), "{c}");
        }
        for c in [3, 6, 12, 15, 60, 66, 67, 119, 121] {
            assert!(!is_server_set(c), "{c}");
        }
    }

    #[test]
    fn list_is_sorted_and_unique() {
        for pair in SERVER_SET.windows(2) {
            assert!(pair[0].code < pair[1].code, "{pair:?}");
        }
    }

    #[test]
    fn essential_follows_the_list() {
        assert_eq!(ESSENTIAL, [1, 51, 53, 54, 56, 58, 59]);
        for s in SERVER_SET {
            assert_eq!(ESSENTIAL.contains(&s.code), s.essential, "{}", s.code);
        }
    }

    #[test]
    fn hints_can_follow_the_refusal() {
        for s in SERVER_SET {
            assert!(s.instead.is_empty() || s.instead.starts_with("; "), "{s:?}");
        }
    }
}
