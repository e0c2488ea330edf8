//! The blocks watcher on a real tansu broker: blocks appended while it is paused are read once it resumes, before
//! `resume` returns (the exactly-once check after the scans depends on it).

use std::time::Duration;

use pedigree_core::event::event_id;
use pedigree_core::pb::{Block, SignedEnvelope};
use pedigree_devstack::{Broker, Storage};
use pedigree_kafka::{ClientSettings, Producer, ProducerSettings, TopicSpec, ensure_topics};
use pedigree_loadtest::watcher::Watcher;
use prost::Message;

const TOPIC: &str = "watched.blocks";

fn block(payload: &[u8]) -> Vec<u8> {
    Block {
        events: vec![SignedEnvelope {
            payload: payload.to_vec(),
            ..SignedEnvelope::default()
        }],
        ..Block::default()
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_reads_what_was_appended_while_paused() {
    let broker = Broker::start(Storage::Memory).unwrap();
    let kafka = ClientSettings::new(broker.brokers());
    let spec = TopicSpec::blocks(TOPIC, &Default::default());
    ensure_topics(&kafka, &[spec]).await.unwrap();
    let producer = Producer::new(&kafka, &ProducerSettings::default()).unwrap();
    let send = |payload: &'static [u8]| {
        let producer = producer.clone();
        async move { producer.send(TOPIC, b"k", &block(payload)).await.unwrap() }
    };

    let watcher = Watcher::start(&kafka, TOPIC).await.unwrap();
    send(b"before the pause").await;
    assert!(watcher.resume(Duration::from_secs(20)).await.unwrap());
    assert!(watcher.seen(&event_id(b"before the pause")).is_some());

    watcher.pause();
    let (a, b) = (b"while paused, one".as_slice(), b"while paused, two".as_slice());
    send(b"while paused, one").await;
    send(b"while paused, two").await;
    assert!(watcher.resume(Duration::from_secs(20)).await.unwrap());
    for payload in [a, b] {
        let seen = watcher
            .seen(&event_id(payload))
            .expect("a block appended while paused was read on resume");
        assert_eq!(seen.count, 1);
    }
    let (_, report) = watcher.stop();
    assert_eq!(report.blocks, 3);
}
