//! The custody RPCs and the one kind of event each takes, written once: custody serves them from this table
//! ([`Serve`]) and clients call them from it ([`Rpc::call`]).
//!
//! Each role has a service listing the kinds of event that role may sign (governance's lists registry changes);
//! every RPC takes a [`SignedEnvelope`] and answers a [`SubmitResponse`]. Which service an envelope goes to does not
//! change how it is judged: custody checks the signer's role against the registry whatever the service, and only
//! refuses an envelope whose kind is not the one its RPC takes.
//!
//! Adding an RPC to `proto/` fails to compile until it has a row here (tonic's service traits require every method,
//! and [`Serve`] implements them from this table only); adding an [`EventKind`] fails to compile until
//! [`Rpc::for_kind`] routes it.

use std::future::Future;
use std::sync::Arc;

use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::decode::decode_payload;
use crate::event::EventError;
use crate::kind::EventKind;
use crate::participant::Role;
use crate::pb;
use crate::pb::{SignedEnvelope, SubmitResponse};

/// What takes the envelopes the custody RPCs receive: each RPC hands over its envelope with the kind it takes.
pub trait TakeEvent: Send + Sync + 'static {
    fn take(
        &self,
        envelope: SignedEnvelope,
        kind: EventKind,
    ) -> impl Future<Output = Result<SubmitResponse, Status>> + Send;
}

/// Serves every custody service (the `*ServiceServer` types of [`pb`] take it) with one [`TakeEvent`].
pub struct Serve<T>(pub Arc<T>);

impl<T> Clone for Serve<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Expands the table below into [`Rpc`] (its role, kind and client call) and [`Serve`]'s service implementations.
macro_rules! custody_rpcs {
    ($(
        $role:ident: $server:ident :: $service:ident, $client:ident :: $client_type:ident {
            $($rpc:ident: $method:ident => $kind:ident,)+
        }
    )+) => {
        /// One custody RPC, named by its service's role and its method.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Rpc {
            $($($rpc,)+)+
        }

        impl Rpc {
            /// Every custody RPC, service by service in the order of `services.proto`.
            pub const ALL: &'static [Rpc] = &[$($(Rpc::$rpc,)+)+];

            /// The role whose service holds this RPC.
            pub fn role(self) -> Role {
                match self {
                    $($(Rpc::$rpc => Role::$role,)+)+
                }
            }

            /// The one kind of event this RPC takes.
            pub fn kind(self) -> EventKind {
                match self {
                    $($(Rpc::$rpc => EventKind::$kind,)+)+
                }
            }

            /// Sends `envelope` to this RPC over `channel`.
            pub async fn call(
                self,
                channel: Channel,
                envelope: SignedEnvelope,
            ) -> Result<Response<SubmitResponse>, Status> {
                match self {
                    $($(Rpc::$rpc => pb::$client::$client_type::new(channel).$method(envelope).await,)+)+
                }
            }
        }

        $(
            #[tonic::async_trait]
            impl<T: TakeEvent> pb::$server::$service for Serve<T> {
                $(
                    async fn $method(
                        &self,
                        request: Request<SignedEnvelope>,
                    ) -> Result<Response<SubmitResponse>, Status> {
                        self.0.take(request.into_inner(), EventKind::$kind).await.map(Response::new)
                    }
                )+
            }
        )+
    };
}

custody_rpcs! {
    Manufacturer: manufacturer_service_server::ManufacturerService,
    manufacturer_service_client::ManufacturerServiceClient {
        ManufacturerCommission: commission => Commission,
        ManufacturerShip: ship => Ship,
        ManufacturerDecommission: decommission => Decommission,
        ManufacturerUndo: undo => Undo,
        ManufacturerRecall: recall => Recall,
        ManufacturerWithdraw: withdraw => Withdraw,
        ManufacturerReceive: receive => Receive,
        ManufacturerPack: pack => Pack,
        ManufacturerUnpack: unpack => Unpack,
        ManufacturerVoidShipment: void_shipment => VoidShipment,
        ManufacturerRegisterProduct: register_product => RegisterProduct,
        ManufacturerTransferProduct: transfer_product => TransferProduct,
        ManufacturerQuarantine: quarantine => Quarantine,
        ManufacturerClearSuspect: clear_suspect => ClearSuspect,
        ManufacturerDeclareIllegitimate: declare_illegitimate => DeclareIllegitimate,
    }
    Distributor: distributor_service_server::DistributorService,
    distributor_service_client::DistributorServiceClient {
        DistributorReceive: receive => Receive,
        DistributorShip: ship => Ship,
        DistributorDecommission: decommission => Decommission,
        DistributorUndo: undo => Undo,
        DistributorReturn: r#return => Return,
        DistributorPack: pack => Pack,
        DistributorUnpack: unpack => Unpack,
        DistributorQuarantine: quarantine => Quarantine,
        DistributorVoidShipment: void_shipment => VoidShipment,
    }
    Pharmacy: pharmacy_service_server::PharmacyService,
    pharmacy_service_client::PharmacyServiceClient {
        PharmacyReceive: receive => Receive,
        PharmacyDispense: dispense => Dispense,
        PharmacyDecommission: decommission => Decommission,
        PharmacyUndo: undo => Undo,
        PharmacyReturn: r#return => Return,
        PharmacyPack: pack => Pack,
        PharmacyUnpack: unpack => Unpack,
        PharmacyQuarantine: quarantine => Quarantine,
        PharmacyVoidShipment: void_shipment => VoidShipment,
    }
    Hospital: hospital_service_server::HospitalService,
    hospital_service_client::HospitalServiceClient {
        HospitalReceive: receive => Receive,
        HospitalDispense: dispense => Dispense,
        HospitalDecommission: decommission => Decommission,
        HospitalUndo: undo => Undo,
        HospitalReturn: r#return => Return,
        HospitalVoidShipment: void_shipment => VoidShipment,
        HospitalPack: pack => Pack,
        HospitalUnpack: unpack => Unpack,
        HospitalQuarantine: quarantine => Quarantine,
    }
    ThirdPartyLogistics: third_party_logistics_service_server::ThirdPartyLogisticsService,
    third_party_logistics_service_client::ThirdPartyLogisticsServiceClient {
        ThirdPartyLogisticsReceive: receive => Receive,
        ThirdPartyLogisticsShip: ship => Ship,
        ThirdPartyLogisticsDecommission: decommission => Decommission,
        ThirdPartyLogisticsUndo: undo => Undo,
        ThirdPartyLogisticsVoidShipment: void_shipment => VoidShipment,
        ThirdPartyLogisticsPack: pack => Pack,
        ThirdPartyLogisticsUnpack: unpack => Unpack,
        ThirdPartyLogisticsQuarantine: quarantine => Quarantine,
    }
    Repackager: repackager_service_server::RepackagerService,
    repackager_service_client::RepackagerServiceClient {
        RepackagerReceive: receive => Receive,
        RepackagerCommission: commission => Commission,
        RepackagerShip: ship => Ship,
        RepackagerDecommission: decommission => Decommission,
        RepackagerUndo: undo => Undo,
        RepackagerReturn: r#return => Return,
        RepackagerRecall: recall => Recall,
        RepackagerWithdraw: withdraw => Withdraw,
        RepackagerVoidShipment: void_shipment => VoidShipment,
        RepackagerPack: pack => Pack,
        RepackagerUnpack: unpack => Unpack,
        RepackagerRegisterProduct: register_product => RegisterProduct,
        RepackagerTransferProduct: transfer_product => TransferProduct,
        RepackagerQuarantine: quarantine => Quarantine,
        RepackagerClearSuspect: clear_suspect => ClearSuspect,
        RepackagerDeclareIllegitimate: declare_illegitimate => DeclareIllegitimate,
    }
    Authority: authority_service_server::AuthorityService,
    authority_service_client::AuthorityServiceClient {
        AuthorityClearSuspect: clear_suspect => ClearSuspect,
        AuthorityDeclareIllegitimate: declare_illegitimate => DeclareIllegitimate,
    }
    Governance: governance_service_server::GovernanceService,
    governance_service_client::GovernanceServiceClient {
        GovernanceRegisterParticipant: register_participant => Register,
        GovernanceRotateKey: rotate_key => RotateKey,
        GovernanceRevokeParticipant: revoke_participant => Revoke,
        GovernanceAttestPrefixes: attest_prefixes => AttestPrefixes,
        GovernanceRotateSequencerKey: rotate_sequencer_key => RotateSequencerKey,
    }
}

impl Rpc {
    /// The RPC a client sends an event of `kind` to when any will do: the first service (in the order of the table)
    /// that takes it. Written out so that a new kind fails to compile until it is routed.
    pub fn for_kind(kind: EventKind) -> Rpc {
        match kind {
            EventKind::Commission => Rpc::ManufacturerCommission,
            EventKind::Ship => Rpc::ManufacturerShip,
            EventKind::Decommission => Rpc::ManufacturerDecommission,
            EventKind::Undo => Rpc::ManufacturerUndo,
            EventKind::Recall => Rpc::ManufacturerRecall,
            EventKind::Withdraw => Rpc::ManufacturerWithdraw,
            EventKind::Receive => Rpc::DistributorReceive,
            EventKind::Dispense => Rpc::PharmacyDispense,
            EventKind::Return => Rpc::PharmacyReturn,
            EventKind::Register => Rpc::GovernanceRegisterParticipant,
            EventKind::RotateKey => Rpc::GovernanceRotateKey,
            EventKind::Revoke => Rpc::GovernanceRevokeParticipant,
            EventKind::Pack => Rpc::ManufacturerPack,
            EventKind::Unpack => Rpc::ManufacturerUnpack,
            EventKind::VoidShipment => Rpc::ManufacturerVoidShipment,
            EventKind::AttestPrefixes => Rpc::GovernanceAttestPrefixes,
            EventKind::RotateSequencerKey => Rpc::GovernanceRotateSequencerKey,
            EventKind::RegisterProduct => Rpc::ManufacturerRegisterProduct,
            EventKind::TransferProduct => Rpc::ManufacturerTransferProduct,
            EventKind::Quarantine => Rpc::ManufacturerQuarantine,
            EventKind::ClearSuspect => Rpc::ManufacturerClearSuspect,
            EventKind::DeclareIllegitimate => Rpc::ManufacturerDeclareIllegitimate,
        }
    }

    /// The RPC for the kind of event `envelope` holds (its payload decoded, nothing checked).
    pub fn for_envelope(envelope: &SignedEnvelope) -> Result<Rpc, EventError> {
        // The role given here only labels the decoded event; the kind is all that is needed.
        Ok(Rpc::for_kind(
            decode_payload(&envelope.payload, Role::Governance)?.body.kind(),
        ))
    }

    /// The RPC of `role`'s service that takes `kind`, if that service takes it.
    pub fn of(role: Role, kind: EventKind) -> Option<Rpc> {
        Rpc::ALL
            .iter()
            .copied()
            .find(|rpc| rpc.role() == role && rpc.kind() == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_routed_to_an_rpc_that_takes_it() {
        for rpc in Rpc::ALL {
            assert_eq!(Rpc::for_kind(rpc.kind()).kind(), rpc.kind(), "{rpc:?}");
        }
    }

    #[test]
    fn a_roles_service_takes_exactly_the_kinds_the_role_may_sign() {
        let roles = [
            Role::Manufacturer,
            Role::Distributor,
            Role::Pharmacy,
            Role::Hospital,
            Role::ThirdPartyLogistics,
            Role::Repackager,
            Role::Auditor,
            Role::Authority,
            Role::Governance,
        ];
        for role in roles {
            for kind in Rpc::ALL.iter().map(|rpc| rpc.kind()) {
                assert_eq!(Rpc::of(role, kind).is_some(), role.may_sign(kind), "{role:?} {kind:?}");
            }
        }
    }
}
