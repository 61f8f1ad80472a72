//! Opens the TUI against `BERTH_SOCKET` (or the default socket), as `berth`
//! with no arguments will: for trying the TUI while `main.rs` is elsewhere.
//!
//! `BERTH_SOCKET=/tmp/berth-fake.sock cargo run -p berth --example tui_dev`

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    berth::app::run(Some(berth_proto::socket_path())).await
}
