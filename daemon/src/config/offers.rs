//! `[[subnet]] max_offers`: how many offers a subnet holds at once, and its
//! default (half the subnet's dynamic addresses, at least
//! [`MIN_DEFAULT_OFFERS`]).

use toml::Spanned;

use super::Reporter;
use crate::addr::Range;

/// The smallest default bound: small pools keep room for a burst of
/// clients arriving together.
pub const MIN_DEFAULT_OFFERS: u32 = 16;

/// The default bound for a subnet with `ranges`.
pub fn default_max_offers(ranges: &[Range]) -> u32 {
    let dynamic: u64 = ranges.iter().map(Range::len).sum();
    u32::try_from(dynamic / 2)
        .unwrap_or(u32::MAX)
        .max(MIN_DEFAULT_OFFERS)
}

/// Validates `max_offers` (at least 1) or picks the default.
pub(super) fn max_offers(
    raw: Option<&Spanned<i64>>,
    ranges: &[Range],
    report: &mut Reporter<'_>,
) -> u32 {
    let Some(v) = raw else {
        return default_max_offers(ranges);
    };
    match u32::try_from(*v.get_ref()) {
        Ok(n) if n >= 1 => n,
        _ => {
            report.error(
                v.span(),
                format!(
                    "max_offers: {} is not between 1 and {}",
                    v.get_ref(),
                    u32::MAX
                ),
            );
            default_max_offers(ranges)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: &str, b: &str) -> Range {
        Range {
            start: a.parse().expect("ip"),
            end: b.parse().expect("ip"),
        }
    }

    #[test]
    fn the_default_is_half_the_dynamic_addresses_but_at_least_16() {
        assert_eq!(default_max_offers(&[range("10.0.0.1", "10.0.0.200")]), 100);
        assert_eq!(
            default_max_offers(&[
                range("10.0.0.1", "10.0.0.100"),
                range("10.0.1.1", "10.0.1.100")
            ]),
            100
        );
        assert_eq!(default_max_offers(&[range("10.0.0.1", "10.0.0.3")]), 16);
        assert_eq!(default_max_offers(&[]), 16);
    }
}
