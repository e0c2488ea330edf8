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
    #[error(
        "topic '{topic}' partition {partition}: offset {from} is gone (the partition now starts at {low}): its \
         records were deleted by retention or the topic was recreated"
    )]
    Lost {
        topic: String,
        partition: i32,
        from: i64,
        low: i64,
    },
    #[error(
        "topic '{topic}': a resume offset (by partition: {offsets}) is no longer in the topic: its records were \
         deleted before they were read, or the topic was recreated; refusing to skip them (auto.offset.reset=error)"
    )]
    OffsetGone { topic: String, offsets: String },
    /// A blocking client call run on tokio's blocking pool panicked or was cancelled.
    #[error("kafka call on a blocking thread: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

impl KafkaError {
    /// Whether a message that failed to send was certainly not stored (refused before it left this process, or
    /// refused by the broker as such); otherwise (a delivery timeout, a lost connection) it may have been stored.
    pub fn certainly_not_stored(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode as C;
        match self {
            KafkaError::Client(ClientError(rdkafka::error::KafkaError::MessageProduction(code))) => matches!(
                code,
                C::QueueFull
                    | C::MessageSizeTooLarge
                    | C::InvalidMessageSize
                    | C::UnknownTopic
                    | C::UnknownTopicOrPartition
                    | C::UnknownPartition
                    | C::TopicAuthorizationFailed
                    | C::InvalidMessage
            ),
            _ => false,
        }
    }

    /// Whether the producer's queue is full (the broker is slower than the senders): nothing was sent, retrying
    /// after a moment can succeed.
    pub fn is_queue_full(&self) -> bool {
        use rdkafka::types::RDKafkaErrorCode as C;
        matches!(
            self,
            KafkaError::Client(ClientError(rdkafka::error::KafkaError::MessageProduction(C::QueueFull)))
        )
    }

    /// Whether records the caller needs are gone from the topic (retention, a recreated topic): retrying cannot
    /// help, and going on would skip them.
    pub fn is_data_loss(&self) -> bool {
        matches!(self, KafkaError::Lost { .. } | KafkaError::OffsetGone { .. })
    }
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
