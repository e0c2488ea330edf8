//! The kinds of events, on their own so that who may sign what ([`crate::participant::Role::may_sign`]) and what an
//! event holds ([`crate::event::Body`]) can both name a kind without depending on each other.

/// The kinds of custody and governance events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Commission,
    Ship,
    Receive,
    Dispense,
    Decommission,
    Undo,
    Recall,
    Withdraw,
    Return,
    Register,
    RotateKey,
    Revoke,
    Pack,
    Unpack,
    VoidShipment,
    AttestPrefixes,
    RegisterProduct,
    TransferProduct,
    Quarantine,
    ClearSuspect,
    DeclareIllegitimate,
    RotateSequencerKey,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Commission => "commission",
            EventKind::Ship => "ship",
            EventKind::Receive => "receive",
            EventKind::Dispense => "dispense",
            EventKind::Decommission => "decommission",
            EventKind::Undo => "undo",
            EventKind::Recall => "recall",
            EventKind::Withdraw => "withdraw",
            EventKind::Return => "return",
            EventKind::Register => "register participant",
            EventKind::RotateKey => "rotate key",
            EventKind::Revoke => "revoke participant",
            EventKind::Pack => "pack",
            EventKind::Unpack => "unpack",
            EventKind::VoidShipment => "void shipment",
            EventKind::AttestPrefixes => "attest prefixes",
            EventKind::RegisterProduct => "register product",
            EventKind::TransferProduct => "transfer product",
            EventKind::Quarantine => "quarantine",
            EventKind::ClearSuspect => "clear suspect",
            EventKind::DeclareIllegitimate => "declare illegitimate",
            EventKind::RotateSequencerKey => "rotate sequencer key",
        }
    }
}
