//! `[metrics]`: the Prometheus endpoint, off unless `listen` is set.

use std::net::SocketAddr;

use super::Reporter;
use super::raw_metrics::RawMetrics;

/// `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served (plain HTTP); `None`: nowhere.
    pub listen: Option<SocketAddr>,
}

/// Validates `[metrics]`.
pub(super) fn build(raw: Option<&RawMetrics>, report: &mut Reporter<'_>) -> MetricsConfig {
    let Some(listen) = raw.and_then(|r| r.listen.as_ref()) else {
        return MetricsConfig::default();
    };
    let text = listen.get_ref().trim();
    let addr = match text.parse::<SocketAddr>() {
        Ok(a) if a.port() == 0 => {
            report.error(
                listen.span(),
                format!("listen: `{text}` needs a port other than 0 (Prometheus must know where to scrape)"),
            );
            None
        }
        Ok(a) => Some(a),
        Err(_) => {
            report.error(
                listen.span(),
                format!(
                    "listen: `{text}` is not address:port (e.g. \"127.0.0.1:9267\" or \"[::1]:9267\")"
                ),
            );
            None
        }
    };
    MetricsConfig { listen: addr }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[server]\ninterfaces = [\"eth0\"]\n";

    fn parse(extra: &str) -> Result<super::MetricsConfig, String> {
        crate::config::parse(&format!("{BASE}{extra}"), Path::new("berth.toml"))
            .map(|c| c.metrics)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn off_unless_listen_is_set() {
        assert_eq!(parse("").expect("ok").listen, None);
        assert_eq!(parse("[metrics]\n").expect("ok").listen, None);
    }

    #[test]
    fn listen_is_an_address_and_port() {
        let m = parse("[metrics]\nlisten = \"127.0.0.1:9267\"\n").expect("ok");
        assert_eq!(m.listen, Some("127.0.0.1:9267".parse().expect("addr")));
        let m = parse("[metrics]\nlisten = \"[::1]:9267\"\n").expect("ok");
        assert_eq!(m.listen, Some("[::1]:9267".parse().expect("addr")));
    }

    #[test]
    fn bad_listen_is_reported_at_its_place() {
        let e = parse("[metrics]\nlisten = \"localhost\"\n").expect_err("no port");
        assert!(
            e.contains("berth.toml:4:10") && e.contains("`localhost` is not address:port"),
            "{e}"
        );
        let e = parse("[metrics]\nlisten = \"127.0.0.1:0\"\n").expect_err("port 0");
        assert!(
            e.contains("berth.toml:4:10") && e.contains("port other than 0"),
            "{e}"
        );
        let e = parse("[metrics]\nlisten = 9267\n").expect_err("not a string");
        assert!(e.contains("berth.toml:4:10"), "{e}");
        let e = parse("[metrics]\nport = 9267\n").expect_err("unknown key");
        assert!(e.contains("berth.toml:4:1") && e.contains("port"), "{e}");
    }
}
