//! The Prometheus endpoint's parts that know nothing of the daemon: the
//! text exposition format 0.0.4 ([`encode`]), lock-free histograms that a
//! writer thread fills and a scrape reads ([`histogram`]), and a small
//! HTTP/1.1 server that answers `GET /metrics` with whatever its caller's
//! scrape function returns ([`http`]).
//!
//! What is measured, and where it is read from, is `server/scrape.rs`'s:
//! the counters stay with their owners and are read at scrape time.

pub mod encode;
pub mod histogram;
pub mod http;

pub use encode::{Exposition, Kind};
pub use histogram::{Histogram, HistogramSnapshot};
