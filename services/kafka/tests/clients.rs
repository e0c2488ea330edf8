//! Every client on a real tansu broker: what the producer appends, the events consumer receives from the offsets it
//! was assigned, a reader reads by range, and the tail reads from where it opened, also across a pause.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pedigree_devstack::{Broker, Storage};
use pedigree_kafka::{
    ClientSettings, EventsConsumer, Landed, Producer, ProducerSettings, TopicSpec, TopicTail, all_watermarks,
    ensure_topics, partition_count, read_last, read_range, watermarks,
};

const TOPIC: &str = "clients.test";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// Polls the tail until a message arrives (at most 20 s): its (partition, offset, payload).
fn poll_one(tail: &TopicTail) -> (i32, i64, Vec<u8>) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(message) = tail.poll(Duration::from_millis(20)) {
            let message = message.unwrap();
            return (message.partition(), message.offset(), message.payload().to_vec());
        }
    }
    panic!("nothing arrived at the tail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_reads_what_the_producer_appended() {
    let broker = Broker::start(Storage::Memory).unwrap();
    let kafka = ClientSettings::new(broker.brokers());
    let spec = TopicSpec::events(TOPIC, 1, &Default::default());
    ensure_topics(&kafka, std::slice::from_ref(&spec)).await.unwrap();
    // Creating an existing topic is not an error.
    ensure_topics(&kafka, &[spec]).await.unwrap();
    let (k, t) = (kafka.clone(), TOPIC);
    assert_eq!(blocking(move || partition_count(&k, t)).await.unwrap(), 1);

    let producer = Producer::new(&kafka, &ProducerSettings::default()).unwrap();
    let mut landed: Vec<Landed> = Vec::new();
    for i in 0..4 {
        landed.push(producer.send(TOPIC, b"k", format!("m{i}").as_bytes()).await.unwrap());
    }
    producer.flush(Duration::from_secs(5)).unwrap();
    for (i, l) in landed.iter().enumerate() {
        assert_eq!((l.partition, l.offset), (0, landed[0].offset + i as i64));
    }
    let k = kafka.clone();
    let (low, high) = blocking(move || watermarks(&k, TOPIC, 0)).await.unwrap();
    assert_eq!(high, landed[3].offset + 1);
    // Every partition's watermarks with one client (the sequencer's lag measure): the same.
    let k = kafka.clone();
    assert_eq!(
        blocking(move || all_watermarks(&k, TOPIC)).await.unwrap(),
        [(low, high)]
    );
    let k = kafka.clone();
    assert!(blocking(move || all_watermarks(&k, "no.such.topic")).await.is_err());

    // The events consumer starts at the offset it was given, and says at once when nothing more is fetched.
    let offsets = BTreeMap::from([(0, landed[1].offset)]);
    let consumer = EventsConsumer::assign(&kafka, TOPIC, &offsets, 1024 * 1024)
        .await
        .unwrap();
    for (i, l) in landed.iter().enumerate().skip(1) {
        let message = tokio::time::timeout(Duration::from_secs(20), consumer.recv())
            .await
            .expect("a message within 20 s")
            .unwrap();
        assert_eq!((message.partition(), message.offset()), (0, l.offset));
        assert_eq!(message.payload(), format!("m{i}").as_bytes());
    }
    assert!(consumer.fetched().await.is_none());

    // A reader reads a range up to the end, and the last message.
    let k = kafka.clone();
    let from = landed[2].offset;
    let ranged = blocking(move || {
        let mut read = Vec::new();
        let count = read_range(&k, TOPIC, 0, from, |offset, payload| {
            read.push((offset, payload.to_vec()));
            Ok(())
        })
        .unwrap();
        (count, read)
    })
    .await;
    let (count, read) = ranged;
    assert_eq!(count, 2);
    assert_eq!(
        read,
        [(landed[2].offset, b"m2".to_vec()), (landed[3].offset, b"m3".to_vec())]
    );
    let k = kafka.clone();
    let last = blocking(move || read_last(&k, TOPIC, 0)).await.unwrap();
    assert_eq!(last, Some((landed[3].offset, b"m3".to_vec())));

    // The tail starts where the topic ended, and reads what was appended while paused once resumed.
    let k = kafka.clone();
    let (tail, starts) = blocking(move || TopicTail::open(&k, TOPIC)).await.unwrap();
    assert_eq!(starts, std::collections::HashMap::from([(0, high)]));
    let appended = producer.send(TOPIC, b"k", b"m4").await.unwrap();
    let (tail, first) = blocking(move || {
        let first = poll_one(&tail);
        tail.pause().unwrap();
        (tail, first)
    })
    .await;
    assert_eq!(first, (0, appended.offset, b"m4".to_vec()));
    let appended = producer.send(TOPIC, b"k", b"m5").await.unwrap();
    let second = blocking(move || {
        tail.resume().unwrap();
        poll_one(&tail)
    })
    .await;
    assert_eq!(second, (0, appended.offset, b"m5".to_vec()));
}

/// A consumer whose resume offset the topic does not hold halts with the topic and the offsets named
/// (`auto.offset.reset=error`), instead of skipping to an end of the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offset_the_topic_does_not_hold_is_an_error_not_a_skip() {
    let broker = Broker::start(Storage::Memory).unwrap();
    let kafka = ClientSettings::new(broker.brokers());
    let topic = "offsets.gone";
    ensure_topics(&kafka, &[TopicSpec::events(topic, 1, &Default::default())])
        .await
        .unwrap();
    let producer = Producer::new(&kafka, &ProducerSettings::default()).unwrap();
    for i in 0..3 {
        producer.send(topic, b"k", format!("m{i}").as_bytes()).await.unwrap();
    }
    let offsets = BTreeMap::from([(0, 1_000)]);
    let error = EventsConsumer::assign(&kafka, topic, &offsets, 1024 * 1024)
        .await
        .err()
        .expect("offset 1000 is not in a 3-message topic");
    let message = error.to_string();
    assert!(
        message.contains(topic) && message.contains("1000") && message.contains("refusing to skip"),
        "{message}"
    );
    // At the end (nothing new yet) is fine, and so is reading from the start.
    let at_end = BTreeMap::from([(0, 3)]);
    assert!(
        EventsConsumer::assign(&kafka, topic, &at_end, 1024 * 1024)
            .await
            .is_ok()
    );
    let k = kafka.clone();
    let read = blocking(move || read_range(&k, topic, 0, 0, |_, _| Ok(())))
        .await
        .unwrap();
    assert_eq!(read, 3);
}
