//! The operator-typed values that berthd's config, the control API, the ctl
//! and the TUI all read: durations, host names and MAC addresses. One parser
//! each, here, so the four cannot disagree about what is valid.
//!
//! The rules:
//!
//! - **Durations** ([`parse_duration`]): plain seconds (`3600`), or one or
//!   more `<number><unit>` parts with units `w`, `d`, `h`, `m`, `s` (any
//!   case, spaces between parts allowed), each unit at most once and largest
//!   first: `90s`, `30m`, `2h`, `1d`, `1w`, `1h30m`, `1d 2h`. `1m30m` or
//!   `30m1h` are refused as likely typos. Zero is a valid duration; callers
//!   that need a positive one say so themselves.
//! - **Host names** ([`check_hostname`]): RFC 952 as relaxed by RFC 1123
//!   section 2.1: labels of letters, digits and `-`, separated by `.`; a
//!   label is 1 to 63 characters and neither starts nor ends with `-`; the
//!   whole name is at most 253 characters; the last label is not all digits
//!   (so a name never looks like an address). `_` is not allowed.
//! - **MAC addresses** ([`MacAddr`]'s `FromStr`): six hex pairs separated by
//!   `:` or `-`, any case, surrounding spaces ignored; shown as lowercase
//!   `aa:bb:cc:dd:ee:ff`.
//!
//! Every error names the input and what is wrong with it.
//!
//! [`examples`] lists inputs with their expected outcome; the crates that
//! take these values test their own entry points against it.

mod duration;
pub mod examples;
mod hostname;
mod mac;

pub use duration::{DURATION_HELP, DurationError, format_duration, parse_duration};
pub use hostname::{HostnameError, MAX_HOSTNAME_LEN, MAX_LABEL_LEN, check_hostname};
pub use mac::{BadMac, MacAddr, MacText};
