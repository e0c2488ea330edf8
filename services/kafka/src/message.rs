//! A message as a consumer received it.

use rdkafka::Message as _;
use rdkafka::message::BorrowedMessage;

/// A received message, borrowed from its consumer (its payload is not copied).
#[derive(Debug)]
pub struct Message<'a>(BorrowedMessage<'a>);

impl<'a> Message<'a> {
    pub(crate) fn new(message: BorrowedMessage<'a>) -> Self {
        Self(message)
    }

    pub fn partition(&self) -> i32 {
        self.0.partition()
    }

    pub fn offset(&self) -> i64 {
        self.0.offset()
    }

    /// The payload; empty for a message without one.
    pub fn payload(&self) -> &[u8] {
        self.0.payload().unwrap_or_default()
    }
}
