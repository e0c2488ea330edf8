//! What went wrong with the broker.

/// A Kafka error.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("kafka: {0}")]
    Client(#[source] ClientError),
    #[error("kafka security settings: {0}")]
    Security(String),
    #[error("topic '{topic}': {reason}")]
    Topic { topic: String, reason: String },
    /// A blocking client call run on tokio's blocking pool panicked or was cancelled.
    #[error("kafka call on a blocking thread: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

/// An error of the client library, opaque so that no other crate depends on that library's types.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ClientError(rdkafka::error::KafkaError);

impl From<rdkafka::error::KafkaError> for KafkaError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        Self::Client(ClientError(e))
    }
}

pub type Result<T> = std::result::Result<T, KafkaError>;
