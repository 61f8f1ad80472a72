//! The comparison table: one column per server, then berthd's ratios.

use berth_tests::perfdhcp::ExchangeStats;
use berth_tests::procstat::Memory;

use crate::servers::Kind;

/// The outcome of one server's rate search.
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    /// The highest rate asked that passed.
    pub best_rate: Option<u32>,
    /// What that step completed per second.
    pub best_completed_per_sec: f64,
    pub best_drop_ratio: f64,
    pub steps: u32,
}

/// The outcome of one server's fixed-rate run.
#[derive(Debug, Clone)]
pub struct FixedResult {
    pub completed: u64,
    pub drop_ratio: f64,
    pub cpu_ms_per_dora: Option<f64>,
    pub discover_offer: ExchangeStats,
    pub request_ack: ExchangeStats,
}

/// The outcome of filling one server with leases.
#[derive(Debug, Clone)]
pub struct FillResult {
    /// Clients that got an ACK.
    pub acked: u64,
    /// How long the fill took.
    pub secs: f64,
    /// Leases the server holds afterwards (none for the stateless one).
    pub leases: Option<usize>,
    pub memory: Option<Memory>,
    /// The renew storm after the fill: (ACKed, sent).
    pub renewed: Option<(u64, u64)>,
}

/// One row: a label and a figure per server.
struct Row {
    label: String,
    values: Vec<Option<f64>>,
    decimals: usize,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Prints the table.
pub fn print_table(
    servers: &[Kind],
    search: &[SearchResult],
    fixed: &[FixedResult],
    fill: &[FillResult],
    fixed_rate: u32,
    drop_limit_pct: f64,
) {
    let row = |label: String, decimals: usize, f: &dyn Fn(usize) -> Option<f64>| Row {
        label,
        values: (0..servers.len()).map(f).collect(),
        decimals,
    };
    let rows = [
        row(format!("max DORA/s, < {drop_limit_pct} % drops"), 0, &|i| {
            search[i]
                .best_rate
                .map(|_| search[i].best_completed_per_sec)
        }),
        row("  rate asked at that step".into(), 0, &|i| {
            search[i].best_rate.map(f64::from)
        }),
        row(format!("CPU ms per DORA at {fixed_rate}/s"), 3, &|i| {
            fixed[i].cpu_ms_per_dora
        }),
        row(
            format!("avg DISCOVER->OFFER ms at {fixed_rate}/s"),
            3,
            &|i| fixed[i].discover_offer.avg_delay_ms,
        ),
        row(
            format!("max DISCOVER->OFFER ms at {fixed_rate}/s"),
            3,
            &|i| fixed[i].discover_offer.max_delay_ms,
        ),
        row(format!("avg REQUEST->ACK ms at {fixed_rate}/s"), 3, &|i| {
            fixed[i].request_ack.avg_delay_ms
        }),
        row(format!("max REQUEST->ACK ms at {fixed_rate}/s"), 3, &|i| {
            fixed[i].request_ack.max_delay_ms
        }),
        row(format!("DORA completed at {fixed_rate}/s"), 0, &|i| {
            Some(fixed[i].completed as f64)
        }),
        row(format!("drops % at {fixed_rate}/s"), 2, &|i| {
            Some(fixed[i].drop_ratio * 100.0)
        }),
        row("fill: clients ACKed".into(), 0, &|i| {
            Some(fill[i].acked as f64)
        }),
        row("fill: seconds (closed loop)".into(), 1, &|i| {
            Some(fill[i].secs)
        }),
        row("fill: leases held".into(), 0, &|i| {
            fill[i].leases.map(|n| n as f64)
        }),
        row("renew storm: drops %".into(), 2, &|i| {
            fill[i]
                .renewed
                .map(|(a, n)| n.saturating_sub(a) as f64 * 100.0 / n.max(1) as f64)
        }),
        row("VmRSS MiB after the fill".into(), 1, &|i| {
            fill[i].memory.map(|m| mib(m.rss_kib))
        }),
        row("VmHWM MiB (peak)".into(), 1, &|i| {
            fill[i].memory.map(|m| mib(m.hwm_kib))
        }),
    ];
    let at = |k: Kind| servers.iter().position(|&s| s == k);
    let berthd = at(Kind::Berthd);
    // berthd's figure over each other server's, when both ran.
    let ratios: Vec<(String, usize)> = if berthd.is_some() {
        [Kind::Kea, Kind::Stateless]
            .into_iter()
            .filter_map(|other| at(other).map(|o| (format!("berthd/{other}"), o)))
            .collect()
    } else {
        Vec::new()
    };

    let label_w = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let col_w = 12;
    let mut head = format!("{:<label_w$}", "");
    for s in servers {
        head.push_str(&format!(" {:>col_w$}", s.name()));
    }
    for (name, _) in &ratios {
        head.push_str(&format!(" {:>18}", name));
    }
    println!("{head}");
    println!("{}", "-".repeat(head.len()));
    for r in &rows {
        let mut line = format!("{:<label_w$}", r.label);
        for v in &r.values {
            let cell = v.map_or_else(|| "-".to_string(), |x| format!("{x:.*}", r.decimals));
            line.push_str(&format!(" {cell:>col_w$}"));
        }
        for (_, o) in &ratios {
            let cell = match (berthd.and_then(|b| r.values[b]), r.values[*o]) {
                (Some(b), Some(x)) if x > 0.0 => format!("{:.2}", b / x),
                _ => "-".to_string(),
            };
            line.push_str(&format!(" {cell:>18}"));
        }
        println!("{line}");
    }
}
