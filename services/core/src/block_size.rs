//! How large a block may grow. A block is one Kafka record, and Apache Kafka refuses records above its
//! `message.max.bytes` (1,048,588 bytes by default): the sequencer keeps every block under a configured maximum
//! (default [`DEFAULT_BLOCK_MAX_BYTES`]) by bounding what each batch's messages can add ([`block_cost`]), and custody
//! refuses an envelope that could never fit ([`max_envelope_bytes`]).

/// The default block size limit, under Kafka's default record limit.
pub const DEFAULT_BLOCK_MAX_BYTES: usize = 1_000_000;

/// Room kept in a block for everything but its events and rejections: the signed header with its resume offsets
/// (up to 256 partitions), the log frontier, and framing.
pub const BLOCK_OVERHEAD_BYTES: usize = 16 * 1024;

/// The longest reason a rejection carries (the sequencer cuts longer ones): it bounds what a rejection adds.
pub const REASON_MAX_BYTES: usize = 200;

/// The most a rejection takes in a block: the 32-byte id, the code, the reason and framing.
pub const REJECTION_MAX_BYTES: usize = 48 + REASON_MAX_BYTES;

/// Framing of one envelope inside a block (field tag and length).
const ENVELOPE_FRAMING: usize = 8;

/// The most one message of `len` bytes can add to a block: its envelope with framing (re-encoding never makes a
/// decoded envelope larger), or its rejection, whichever is larger.
pub fn block_cost(len: usize) -> usize {
    (len + ENVELOPE_FRAMING).max(REJECTION_MAX_BYTES)
}

/// The most a batch's messages may add to a block of at most `block_max_bytes`.
pub fn event_budget(block_max_bytes: usize) -> usize {
    block_max_bytes.saturating_sub(BLOCK_OVERHEAD_BYTES)
}

/// The largest envelope (encoded) that fits in a block of at most `block_max_bytes`.
pub fn max_envelope_bytes(block_max_bytes: usize) -> usize {
    event_budget(block_max_bytes).saturating_sub(ENVELOPE_FRAMING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_and_budgets() {
        assert_eq!(block_cost(0), REJECTION_MAX_BYTES);
        assert_eq!(block_cost(1000), 1008);
        assert_eq!(event_budget(DEFAULT_BLOCK_MAX_BYTES), 1_000_000 - 16_384);
        assert_eq!(event_budget(10), 0);
        assert_eq!(block_cost(max_envelope_bytes(300_000)), event_budget(300_000));
        // The largest payload the format allows fits in a default block with room to spare.
        assert!(crate::envelope::MAX_PAYLOAD_BYTES + 1024 < max_envelope_bytes(DEFAULT_BLOCK_MAX_BYTES));
    }
}
