//! UTC instants from the daemon shown in the viewer's time zone: one place
//! for the ctl tables and the TUI.

use berth_proto::UnixTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// `ts` in `tz`, or `None` when it is beyond jiff's range (years past 9999).
pub fn zoned(ts: UnixTime, tz: &TimeZone) -> Option<Zoned> {
    Timestamp::from_second(ts)
        .ok()
        .map(|t| t.to_zoned(tz.clone()))
}

/// `2024-05-01 14:00:00`, with ` CEST` when `with_zone`; an instant out of
/// range shows as its raw value, `@<seconds>`.
pub fn local(ts: UnixTime, tz: &TimeZone, with_zone: bool) -> String {
    let pattern = if with_zone {
        "%Y-%m-%d %H:%M:%S %Z"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    match zoned(ts, tz) {
        Some(z) => z.strftime(pattern).to_string(),
        None => format!("@{ts}"),
    }
}
