//! gRPC server reflection as clients use it (grpcurl, Postman, Python's grpcio-reflection): each port lists exactly
//! the services it answers, the same over `grpc.reflection.v1` and over `v1alpha` (the only one some clients ask),
//! and each listed service can be described.

use pedigree_e2e::Stack;
use tonic::transport::Channel;

const HEALTH: &str = "grpc.health.v1.Health";
const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";

/// One request, one answer, in the reflection protocol of `$version`.
macro_rules! reflection_client {
    ($name:ident, $version:ident) => {
        /// The services listed over this version, sorted; and for each, whether a file describing it is served.
        async fn $name(channel: Channel) -> Vec<(String, bool)> {
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            use tonic_reflection::pb::$version::{ServerReflectionRequest, server_reflection_client};
            let mut client = server_reflection_client::ServerReflectionClient::new(channel);
            let mut ask = async |request: MessageRequest| {
                let request = ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(request),
                };
                let mut answers = client
                    .server_reflection_info(tokio_stream::iter([request]))
                    .await
                    .expect("the reflection service answers")
                    .into_inner();
                let answer = answers.message().await.expect("an answer").expect("one answer");
                answer.message_response.expect("a response")
            };
            let listed = match ask(MessageRequest::ListServices(String::new())).await {
                MessageResponse::ListServicesResponse(list) => list.service,
                other => panic!("asked for the services, got {other:?}"),
            };
            let mut out = Vec::new();
            for service in listed {
                let described = match ask(MessageRequest::FileContainingSymbol(service.name.clone())).await {
                    MessageResponse::FileDescriptorResponse(files) => !files.file_descriptor_proto.is_empty(),
                    _ => false,
                };
                out.push((service.name, described));
            }
            out.sort();
            out
        }
    };
}

reflection_client!(list_v1, v1);
reflection_client!(list_v1alpha, v1alpha);

/// Both versions list exactly `expected` (plus health and both reflection versions), each described.
async fn assert_lists(port: &str, channel: Channel, expected: &[&str]) {
    let mut want: Vec<(String, bool)> = expected
        .iter()
        .chain(&[HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA])
        .map(|name| (name.to_string(), true))
        .collect();
    want.sort();
    assert_eq!(list_v1(channel.clone()).await, want, "{port} over v1");
    assert_eq!(list_v1alpha(channel).await, want, "{port} over v1alpha");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_port_lists_exactly_the_services_it_answers() {
    let stack = Stack::spawn_bare(200).await;
    let sequencer = stack.sequencer_with(stack.sequencer_config()).await;
    assert_lists(
        "custody",
        stack.custody_channel().await,
        &[
            "pedigree.v1.DistributorService",
            "pedigree.v1.GovernanceService",
            "pedigree.v1.HospitalService",
            "pedigree.v1.ManufacturerService",
            "pedigree.v1.PharmacyService",
            "pedigree.v1.RepackagerService",
            "pedigree.v1.AuthorityService",
            "pedigree.v1.ThirdPartyLogisticsService",
        ],
    )
    .await;
    assert_lists(
        "verifier",
        stack.verifier_channel().await,
        &[
            "pedigree.v1.AlertService",
            "pedigree.v1.AuthService",
            "pedigree.v1.LedgerService",
            "pedigree.v1.NotificationService",
            "pedigree.v1.TraceService",
            "pedigree.v1.VerifierService",
        ],
    )
    .await;
    // The sequencer's port answers health (and reflection) only.
    assert_lists("sequencer", stack.channel(sequencer.health).await, &[]).await;
    sequencer.stop().await.expect("sequencer stopped");
    stack.shutdown().await;
}
