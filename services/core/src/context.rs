//! Where in the chain an event is applied: shared by the pack rules ([`crate::transition`]), the state machine
//! ([`crate::state`]) and registry changes ([`crate::governance`]).

/// Where an event is applied: the block's height and the sequencer's clock (which times undo windows and expiry, so
/// a replay of the log decides exactly as the live sequencer did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub height: u64,
    pub time_ms: i64,
    /// Position the event takes among the block's accepted events (if it is accepted).
    pub index: u32,
}

impl BlockContext {
    pub fn new(height: u64, time_ms: i64) -> Self {
        Self {
            height,
            time_ms,
            index: 0,
        }
    }

    /// The same block, for the event at `index` among its accepted events.
    pub fn at_index(self, index: usize) -> Self {
        Self {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            ..self
        }
    }
}
