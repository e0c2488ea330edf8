//! Redis over TLS with one ACL user per service, on a real redis-server started by the dev stack (`--tls-port`
//! only, the ACL file of `pedigree_store::acl_file`): each user can do what its service needs and nothing that
//! changes ledger state unless it is the sequencer's; plaintext and unknown CAs are refused.

use pedigree_core::pb::alert_log_record::Record;
use pedigree_core::pb::{AlertClosed, AlertLogRecord, AlertRaised};
use pedigree_devstack::{ClientCerts, LocalCa, Redis};
use pedigree_store::{BlockWrite, Fenced, RedisConfig, RedisUser, Store};
use prost::Message;
use redis::aio::MultiplexedConnection;

mod support;

async fn connection(config: &RedisConfig) -> MultiplexedConnection {
    config
        .client()
        .expect("redis settings")
        .get_multiplexed_async_connection()
        .await
        .expect("connecting")
}

/// The error of a command, as text (panics if it succeeded).
async fn refused(con: &mut MultiplexedConnection, cmd: &mut redis::Cmd) -> String {
    match cmd.query_async::<redis::Value>(con).await {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => {
            eprintln!("refused: {e}");
            e.to_string()
        }
    }
}

fn set(key: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg("9");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_may_do_what_its_service_needs_and_only_the_sequencer_writes_the_ledger() {
    let redis = Redis::start().unwrap();

    // The sequencer writes a block through the store (the write script and the commands it runs).
    let sequencer = Store::connect(&redis.config_for(RedisUser::Sequencer)).await.unwrap();
    let bytes = support::block(1, 0, 0);
    let write = BlockWrite {
        height: 1,
        block: &bytes,
        ..BlockWrite::default()
    };
    assert_eq!(sequencer.write_block_if_head(&write).await.unwrap(), Fenced::Written);
    assert_eq!(sequencer.head().await.unwrap(), 1);
    let mut con = connection(&redis.config_for(RedisUser::Sequencer)).await;
    assert!(refused(&mut con, &mut redis::cmd("FLUSHDB")).await.contains("NoPerm"));
    assert!(
        refused(&mut con, &mut redis::cmd("KEYS").arg("*").clone())
            .await
            .contains("NoPerm")
    );

    // The verifier reads everything the store reads...
    let verifier = Store::connect(&redis.config_for(RedisUser::Verifier)).await.unwrap();
    assert_eq!(verifier.head().await.unwrap(), 1);
    let (version, records) = verifier.participants().await.unwrap();
    assert_eq!((version, records.len()), (0, 0));
    assert_eq!(verifier.log_size().await.unwrap(), 0);
    assert_eq!(verifier.block_event(1, 0).await.unwrap(), None);
    assert_eq!(verifier.events_seen(&[[7; 32]]).await.unwrap(), vec![false]);
    assert_eq!(verifier.products(&["09506000134352".into()]).await.unwrap(), vec![None]);
    verifier.ping().await.unwrap();
    // ... writes only authentication nonces...
    let mut con = connection(&redis.config_for(RedisUser::Verifier)).await;
    let nonce = |con: &mut MultiplexedConnection| {
        let mut cmd = redis::cmd("SET");
        cmd.arg("auth:nonce:n1").arg("1").arg("NX").arg("PX").arg(60_000);
        let mut con = con.clone();
        async move { cmd.query_async::<Option<String>>(&mut con).await.unwrap() }
    };
    assert_eq!(nonce(&mut con).await.as_deref(), Some("OK"));
    assert_eq!(nonce(&mut con).await, None, "a replayed nonce is not set again");
    let value: Option<String> = redis::cmd("GET")
        .arg("auth:nonce:n1")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("1"));
    // ... folds alerts (idempotently: the first close in log order stays)...
    let raised = AlertLogRecord {
        record: Some(Record::Raised(AlertRaised {
            id: "AL-0000-0000-0001".into(),
            owner: "acme".into(),
            scanner: "pharmacy".into(),
            ..AlertRaised::default()
        })),
    };
    let close = |note: &str| AlertLogRecord {
        record: Some(Record::Closed(AlertClosed {
            id: "AL-0000-0000-0001".into(),
            note: note.into(),
            ..AlertClosed::default()
        })),
    };
    for (offset, record) in [(0, &raised), (1, &close("first")), (0, &raised), (2, &close("second"))] {
        verifier.fold_alert(offset, &record.encode_to_vec()).await.unwrap();
    }
    verifier.set_alerts_folded(3).await.unwrap();
    assert_eq!(verifier.alerts_folded().await.unwrap(), Some(3));
    let alert = verifier.alert("AL-0000-0000-0001").await.unwrap().unwrap();
    assert_eq!((alert.cursor, alert.closed.unwrap().note.as_str()), (1, "first"));
    for who in ["acme", "pharmacy"] {
        assert_eq!(verifier.alerts_of(who, 0, 10).await.unwrap().len(), 1, "{who}");
    }
    assert_eq!(verifier.alerts_of("pharmacy", 1, 10).await.unwrap().len(), 0);
    assert_eq!(verifier.alerts_of("wholesaler", 0, 10).await.unwrap().len(), 0);
    // ... and no ledger key, nor custody's markers, nor by script.
    for key in ["b:2", "r", "g:09506000134352"] {
        let hsetnx = redis::cmd("HSETNX").arg(key).arg("f").arg("v").clone();
        assert!(refused(&mut con, &mut hsetnx.clone()).await.contains("NoPerm"), "{key}");
    }
    for key in ["head", "b:2", "r", "pending:e1"] {
        let error = refused(&mut con, &mut set(key)).await;
        assert!(error.contains("NoPerm"), "{key}: {error}");
    }
    let script = redis::cmd("EVAL")
        .arg("return redis.call('SET', 'head', '9')")
        .arg(0)
        .clone();
    assert!(refused(&mut con, &mut script.clone()).await.contains("NoPerm"));
    assert!(
        refused(&mut con, &mut redis::cmd("DEL").arg("head").clone())
            .await
            .contains("NoPerm")
    );

    // Custody reads the registry, writes pending markers and nothing else.
    let custody = Store::connect(&redis.config_for(RedisUser::Custody)).await.unwrap();
    assert_eq!(custody.registry_version().await.unwrap(), 0);
    let mut con = connection(&redis.config_for(RedisUser::Custody)).await;
    let marked: String = set("pending:e1")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(marked, "OK");
    for key in ["head", "e:x", "auth:nonce:n2"] {
        let error = refused(&mut con, &mut set(key)).await;
        assert!(error.contains("NoPerm"), "{key}: {error}");
    }
    let hset = redis::cmd("HSET").arg("r").arg("mallory").arg("{}").clone();
    assert!(refused(&mut con, &mut hset.clone()).await.contains("NoPerm"));
    assert!(
        refused(&mut con, &mut redis::cmd("PUBLISH").arg("c").arg("m").clone())
            .await
            .contains("NoPerm")
    );

    // Nothing moved the head but the sequencer.
    assert_eq!(sequencer.head().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_user_is_off_and_a_wrong_password_is_refused() {
    let redis = Redis::start().unwrap();
    let mut wrong = redis.config_for(RedisUser::Verifier);
    wrong.password = Some("not-the-password".into());
    let error = Store::connect(&wrong).await.err().expect("refused").to_string();
    assert!(error.contains("as 'verifier'"), "{error}");
    let anonymous = RedisConfig {
        user: None,
        password: None,
        ..redis.config_for(RedisUser::Verifier)
    };
    let mut con = connection(&anonymous).await;
    let error = refused(&mut con, &mut redis::cmd("GET").arg("head").clone()).await;
    assert!(error.contains("NOAUTH") || error.contains("NoPerm"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_to_the_tls_port_fails() {
    let redis = Redis::start().unwrap();
    let plaintext = RedisConfig {
        url: format!("redis://127.0.0.1:{}/0", redis.port),
        ca: None,
        insecure_plaintext: true,
        ..redis.config_for(RedisUser::Verifier)
    };
    let error = Store::connect(&plaintext).await.err().expect("refused").to_string();
    eprintln!("plaintext to the TLS port: {error}");
    assert!(
        error.starts_with(&format!(
            "connecting to redis://127.0.0.1:{}/0 as 'verifier': ",
            redis.port
        )),
        "{error}"
    );
    // And without the explicit setting it is not even tried.
    let refused = RedisConfig {
        insecure_plaintext: false,
        ..plaintext
    };
    let error = Store::connect(&refused).await.err().expect("refused").to_string();
    assert!(error.contains("is plaintext: use a rediss:// url"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_another_ca_is_refused() {
    let redis = Redis::start().unwrap();
    let other = tempfile::tempdir().unwrap();
    let other_ca = LocalCa::create(other.path()).unwrap();
    let config = RedisConfig {
        ca: Some(other_ca.ca_path().to_path_buf()),
        ..redis.config_for(RedisUser::Verifier)
    };
    let error = Store::connect(&config).await.err().expect("refused").to_string();
    eprintln!("another CA: {error}");
    assert!(error.contains("certificate"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_needs_the_client_certificate() {
    let redis = Redis::start_with(ClientCerts::Required).unwrap();
    let with_cert = redis.config_for(RedisUser::Verifier);
    assert!(with_cert.client_cert.is_some());
    Store::connect(&with_cert).await.unwrap().ping().await.unwrap();
    let without = RedisConfig {
        client_cert: None,
        client_key: None,
        ..with_cert
    };
    assert!(Store::connect(&without).await.is_err());
}
