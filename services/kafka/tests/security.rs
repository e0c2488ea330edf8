//! Kafka security settings reach librdkafka. The dev broker (tansu 0.6.0) has plaintext listeners only (no TLS:
//! its `--cert`/`--key` are accepted but unused), SASL/SCRAM authentication, and no ACLs (see docs/operations.md,
//! "Kafka security"). So what is tested here: SCRAM credentials against a broker that requires them (right
//! password in, wrong password and no SASL out); a TLS client against the plaintext broker fails to fetch metadata
//! with an error that says so; librdkafka refuses a property it does not know, or a missing CA file, when the
//! client is built. TLS handshakes, mutual TLS and broker ACLs need a Kafka with TLS listeners and an authorizer.

use std::time::Instant;

use pedigree_devstack::{Broker, Storage};
use pedigree_kafka::{
    ClientSettings, KafkaError, KafkaSecurity, Producer, ProducerSettings, SaslMechanism, SecurityProtocol,
    partition_count,
};

/// Whether the broker answered the metadata request (the topic does not exist, but the client got that far).
fn broker_answered(settings: &ClientSettings) -> Result<(), String> {
    match partition_count(settings, "absent") {
        Err(KafkaError::Topic { .. }) => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(n) => Err(format!("{n} partitions of an absent topic")),
    }
}

#[test]
fn scram_credentials_reach_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start_scram(&dir.path().join("broker.db"), &[("custody", "s3cret")]).unwrap();
    let scram = |password: &str| {
        let security = KafkaSecurity {
            protocol: SecurityProtocol::SaslPlaintext,
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            sasl_username: Some("custody".into()),
            sasl_password: Some(password.into()),
            ..KafkaSecurity::default()
        };
        ClientSettings::secured(broker.brokers(), &security).unwrap()
    };
    broker_answered(&scram("s3cret")).unwrap();
    let wrong = broker_answered(&scram("guess")).unwrap_err();
    eprintln!("wrong password: {wrong}");
    let anonymous = broker_answered(&ClientSettings::new(broker.brokers())).unwrap_err();
    eprintln!("no SASL: {anonymous}");
}

#[test]
fn a_tls_client_cannot_talk_to_the_plaintext_dev_broker() {
    let broker = Broker::start(Storage::Memory).unwrap();
    // The plaintext client works...
    broker_answered(&ClientSettings::new(broker.brokers())).unwrap();
    // ... the TLS one never gets the metadata.
    let tls = ClientSettings::secured(
        broker.brokers(),
        &KafkaSecurity {
            protocol: SecurityProtocol::Ssl,
            ..KafkaSecurity::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let error = partition_count(&tls, "absent").unwrap_err().to_string();
    eprintln!("ssl against plaintext: {error} after {:?}", started.elapsed());
    assert!(
        error.contains("Meta data fetch error") && error.contains("BrokerTransportFailure"),
        "{error}"
    );
}

#[test]
fn an_unknown_property_is_refused_when_the_client_is_built() {
    let security = KafkaSecurity {
        properties: vec![("ssl.no.such.property".into(), "1".into())],
        ..KafkaSecurity::tls("/nonexistent/ca.pem")
    };
    let settings = ClientSettings::secured("127.0.0.1:9", &security).unwrap();
    let error = Producer::new(&settings, &ProducerSettings::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("ssl.no.such.property"), "{error}");
}

#[test]
fn a_missing_ca_file_is_refused_when_the_client_is_built() {
    let settings = ClientSettings::secured("127.0.0.1:9", &KafkaSecurity::tls("/nonexistent/ca.pem")).unwrap();
    let error = Producer::new(&settings, &ProducerSettings::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("ca.pem") || error.contains("ssl.ca.location"), "{error}");
}
