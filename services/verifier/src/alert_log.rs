//! The alerts log: a Kafka topic (one partition, kept for ever) that every verifier appends alerts and closures to,
//! with acks=all, before it answers; the source of truth of alerts. Every verifier folds it into Redis
//! ([`pedigree_store::Store::fold_alert`], idempotent), so all replicas answer alike and a Redis that lost its state
//! is filled again from the log's first record.

use std::time::Duration;

use pedigree_core::pb::AlertLogRecord;
use pedigree_kafka::{
    ClientSettings, Durability, PartitionReader, Producer, ProducerSettings, TopicSpec, ensure_topics,
};
use pedigree_store::Store;
use prost::Message;
use tokio::sync::watch;

/// How often the fold looks for new records.
const POLL: Duration = Duration::from_millis(100);
/// How long an append waits to see its record folded before answering without it (the record is in the log all
/// the same, and is folded as soon as the fold catches up).
const FOLD_WAIT: Duration = Duration::from_secs(5);
/// How long an append waits for the broker.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AlertLogError {
    #[error("alerts log unavailable: {0}")]
    Kafka(#[from] pedigree_kafka::KafkaError),
    #[error("the alerts log holds the record, not yet folded into redis: ask again shortly")]
    NotFolded,
}

/// Appends to the alerts log and knows how far this process folded it. Cheap to clone.
#[derive(Clone)]
pub struct AlertLog {
    producer: Producer,
    topic: String,
    /// The next log offset the fold will read: every record before it is in Redis.
    folded: watch::Receiver<i64>,
}

impl AlertLog {
    /// The producer, and the fold running in the background until every handle is dropped.
    pub fn start(
        settings: &ClientSettings,
        topic: &str,
        durability: &Durability,
        store: Store,
    ) -> pedigree_kafka::Result<Self> {
        let producer = Producer::new(
            settings,
            &ProducerSettings {
                delivery_timeout: DELIVERY_TIMEOUT,
                ..ProducerSettings::default()
            },
        )?;
        let (tx, folded) = watch::channel(0);
        tokio::spawn(fold(settings.clone(), TopicSpec::alerts(topic, durability), store, tx));
        Ok(Self {
            producer,
            topic: topic.to_string(),
            folded,
        })
    }

    /// Appends `record` (keyed by alert id) and waits until this process folded it into Redis.
    pub async fn append(&self, id: &str, record: &AlertLogRecord) -> Result<(), AlertLogError> {
        let landed = self
            .producer
            .send(&self.topic, id.as_bytes(), &record.encode_to_vec())
            .await?;
        let mut folded = self.folded.clone();
        let caught_up = tokio::time::timeout(FOLD_WAIT, folded.wait_for(|next| *next > landed.offset)).await;
        match caught_up {
            Ok(Ok(_)) => Ok(()),
            _ => Err(AlertLogError::NotFolded),
        }
    }
}

/// Creates the topic if missing, then folds every record into Redis for as long as anyone holds the receiver.
async fn fold(settings: ClientSettings, spec: TopicSpec, store: Store, tx: watch::Sender<i64>) {
    loop {
        match ensure_topics(&settings, std::slice::from_ref(&spec)).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, topic = %spec.name, "cannot create the alerts topic yet");
                if wait(&tx, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    }
    let mut reader: Option<PartitionReader> = None;
    let mut next: i64 = 0;
    loop {
        match fold_once(&settings, &spec.name, &store, &mut reader, next).await {
            Ok(folded) => {
                next = folded;
                tx.send_if_modified(|current| std::mem::replace(current, next) != next);
            }
            Err(e) => {
                tracing::warn!(error = %e, "folding the alerts log");
                reader = None;
            }
        }
        if wait(&tx, POLL).await {
            return;
        }
    }
}

/// Folds what the log holds from `next` (or from where Redis says, when another replica folded further; from the
/// first record, when Redis lost its alerts); returns the next offset to fold.
async fn fold_once(
    settings: &ClientSettings,
    topic: &str,
    store: &Store,
    reader: &mut Option<PartitionReader>,
    mut next: i64,
) -> anyhow::Result<i64> {
    match store.alerts_folded().await? {
        None if next > 0 => {
            tracing::warn!("redis holds no alerts: folding the alerts log again from its first record");
            next = 0;
        }
        Some(stored) if stored > next => next = stored,
        _ => {}
    }
    let mut open = match reader.take() {
        Some(reader) => reader,
        None => PartitionReader::new(settings, topic, 0)?,
    };
    let (open, records) = tokio::task::spawn_blocking(move || {
        let mut records = Vec::new();
        let read = open.read_range(next, |offset, payload| {
            records.push((offset, payload.to_vec()));
            Ok(())
        });
        (open, read.map(|_| records))
    })
    .await?;
    *reader = Some(open);
    let records = records?;
    let Some(&(last, _)) = records.last() else {
        return Ok(next);
    };
    for (offset, payload) in &records {
        store.fold_alert(*offset, payload).await?;
    }
    store.set_alerts_folded(last + 1).await?;
    Ok(last + 1)
}

/// Sleeps `period`; true when nobody holds the receiver any more (the verifier stopped).
async fn wait(tx: &watch::Sender<i64>, period: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(period) => false,
        () = tx.closed() => true,
    }
}
