//! Failures the sequencer must not retry: the log or Redis is not what the chain says (history gone from a topic,
//! Redis holding another chain, a block that does not apply again, a block over the size limit). Sealing on would
//! build a new chain over a lost one or seal something wrong, so the process exits and an operator looks. Every
//! other failure (Redis or the broker unreachable, a timeout) is retried with backoff ([`crate::sealer`]).

use std::fmt;

/// A failure that stops the sequencer.
#[derive(Debug)]
pub struct Halt(pub String);

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Halt {}

/// Whether `error` must stop the sequencer rather than be retried.
pub fn is_fatal(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<Halt>()
            || cause
                .downcast_ref::<pedigree_kafka::KafkaError>()
                .is_some_and(pedigree_kafka::KafkaError::is_data_loss)
    })
}

/// Fails with a [`Halt`].
macro_rules! halt {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::halt::Halt(format!($($arg)*))))
    };
}
pub(crate) use halt;

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn halts_and_lost_records_are_fatal_anywhere_in_the_chain() {
        let halted: anyhow::Result<()> = Err(anyhow::Error::new(Halt("redis holds another chain".into())));
        assert!(is_fatal(&halted.context("following the chain").unwrap_err()));
        let lost = pedigree_kafka::KafkaError::Lost {
            topic: "pedigree.blocks".into(),
            partition: 0,
            from: 0,
            low: 12,
        };
        assert!(is_fatal(&anyhow::Error::new(lost).context("reading")));
        assert!(!is_fatal(&anyhow::anyhow!("redis: broken pipe")));
    }
}
