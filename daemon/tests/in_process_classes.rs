//! Classes and `explain` through the whole server in-process (see
//! `harness`): explain answers over the control socket from the server's
//! state, allocates nothing, and says what the next DISCOVER gets.

mod harness;

use berth_proto::ExplainRequest;
use berthd::packet::{MessageType, code};
use harness::*;

const CLASS: &str = r#"
[[class]]
name = "phones"
match = { vendor_class_prefix = "snom" }
next_server = "192.0.2.1"
filename = "{vendor_class}.cfg"
options = { tftp-server-name = "192.0.2.1" }
"#;

fn explain_req(mac: berthd::addr::MacAddr, vendor: Option<&str>) -> ExplainRequest {
    ExplainRequest {
        mac: mac.to_string(),
        vendor_class: vendor.map(str::to_string),
        ..ExplainRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_allocates_nothing_and_matches_what_a_discover_gets() {
    let mut h = Harness::start(CLASS).await;
    let e = h
        .api
        .explain(ctx(), explain_req(A, Some("snom370")))
        .await
        .expect("rpc")
        .expect("explained");
    assert_eq!(e.classes, ["phones"]);
    assert_eq!(e.address, Some(POOL));
    assert_eq!(e.interface, "test0");
    assert_eq!(e.filename.as_deref(), Some("snom370.cfg"));
    let tftp = e.options.iter().find(|o| o.code == 66).expect("option 66");
    assert_eq!(
        (tftp.value.as_str(), tftp.source.as_str()),
        ("192.0.2.1", "class phones")
    );
    // Nothing was held: the pool's one address is still everyone's.
    let other = h
        .api
        .explain(ctx(), explain_req(B, None))
        .await
        .expect("rpc")
        .expect("explained");
    assert_eq!(other.address, Some(POOL));
    assert!(other.classes.is_empty());
    assert!(other.options.iter().all(|o| o.code != 66));
    assert!(h.lease_states().await.is_empty(), "no lease, no hold");

    let mut p = h.packet(A, MessageType::Discover);
    p.options.set_bytes(code::VENDOR_CLASS, b"snom370");
    let offer = h.send(&p, WAIT).await.expect("an offer");
    assert_eq!(kind(&offer), MessageType::Offer);
    assert_eq!(offer.yiaddr, POOL);
    assert_eq!(offer.file, b"snom370.cfg".to_vec());
    assert_eq!(offer.siaddr, SERVER);
    assert_eq!(offer.options.get(66), Some(b"192.0.2.1".as_slice()));

    let bad = h
        .api
        .explain(
            ctx(),
            ExplainRequest {
                interface: Some("eth9".into()),
                ..explain_req(A, None)
            },
        )
        .await
        .expect("rpc");
    assert!(bad.is_err_and(|e| e.message.contains("eth9")));
    h.stop().await;
}
