//! The cells every table shares: times in the viewer's zone, spans, dashes.

use berth_proto::UnixTime;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `t` as local date and time, `2024-05-01 14:00:00`.
pub fn local_time(t: UnixTime, tz: &TimeZone) -> String {
    crate::time::local(t, tz, false)
}

/// `t` as local date, time and zone abbreviation, `2024-05-01 14:00:00 CEST`.
pub fn local_time_zone(t: UnixTime, tz: &TimeZone) -> String {
    crate::time::local(t, tz, true)
}

/// A span in the two largest units: `45s`, `5m07s`, `1h02m`, `3d04h`.
/// Zero or negative spans are `0s`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// Time left until `ends`: a [`span`], or `expired` once it has passed.
pub fn remaining(ends: UnixTime, now: Timestamp) -> String {
    let left = ends.saturating_sub(now.as_second());
    if left <= 0 {
        "expired".to_string()
    } else {
        span(left)
    }
}

pub(super) fn or_dash(s: Option<&str>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}
