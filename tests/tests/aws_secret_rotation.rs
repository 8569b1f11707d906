//! Webhook secrets kept in Secrets Manager and SSM Parameter Store: read through a per-container
//! cache, so a rotation lands after the TTL (old and new both verify during the overlap), and a
//! secret that cannot be read fails closed.

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use myloware::domain::Provider;
use myloware::webhooks::{WebhookError, WebhookSecret, sign_remotion, sign_standard};
use myloware_aws::AwsClients;
use myloware_aws::secret_store::SecretRef;
use myloware_http::VerifierSource;
use myloware_runtime::secrets::StoredVerifiers;

const A: &str = "whsec_c2VjcmV0LW51bWJlci1vbmUtZm9yLXNvcmEtMDA=";
const B: &str = "whsec_c2VjcmV0LW51bWJlci10d28tZm9yLXNvcmEtMDA=";

fn signed(secret: &str) -> String {
    sign_standard(&WebhookSecret::parse(secret).unwrap(), "msg_1", 1_000, b"{}")
}

async fn verdict(v: &StoredVerifiers, secret: &str) -> Result<(), WebhookError> {
    v.standard(Provider::OpenAi).await.expect("secret readable").verify(
        Some("msg_1"),
        Some("1000"),
        Some(&signed(secret)),
        b"{}",
        1_000,
    )
}

#[tokio::test]
async fn a_rotation_lands_after_the_ttl_and_missing_secrets_fail_closed() {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let c = AwsClients::from_env().await;
    let id = format!("myloware-test/{}/sora", uuid::Uuid::new_v4().simple());
    c.secrets().create_secret().name(&id).secret_string(A).send().await.expect("create secret");
    let param = format!("/myloware-test/{}/remotion", uuid::Uuid::new_v4().simple());
    let ssm = aws_sdk_ssm::Client::new(&myloware_aws::clients::load_sdk_config().await);
    ssm.put_parameter()
        .name(&param)
        .value("remotion-one")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");

    let ttl = Duration::from_secs(4);
    let v = StoredVerifiers::new(
        c.clone(),
        [(Provider::OpenAi, SecretRef::SecretsManager(id.clone()))].into(),
        SecretRef::Ssm(param.clone()),
        300,
        ttl,
    );
    assert_eq!(verdict(&v, A).await, Ok(()));
    assert_eq!(verdict(&v, B).await, Err(WebhookError::BadSignature));

    // Rotate: the new secret first, the old one still accepted.
    c.secrets()
        .put_secret_value()
        .secret_id(&id)
        .secret_string(format!("{B},{A}"))
        .send()
        .await
        .unwrap();
    assert_eq!(verdict(&v, B).await, Err(WebhookError::BadSignature), "cached until the TTL");
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    assert_eq!(verdict(&v, B).await, Ok(()), "new secret after the TTL");
    assert_eq!(verdict(&v, A).await, Ok(()), "old secret during the overlap");
    // Remove the old one.
    c.secrets().put_secret_value().secret_id(&id).secret_string(B).send().await.unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    assert_eq!(
        verdict(&v, A).await,
        Err(WebhookError::BadSignature),
        "old secret after its removal"
    );

    let body = br#"{"job_id":"render_1","status":"done","output_url":"u"}"#;
    let sig = sign_remotion(&WebhookSecret::parse("remotion-one").unwrap(), body);
    assert_eq!(
        v.remotion().await.unwrap().verify(Some(&sig), None, body, 0),
        Ok(()),
        "SSM SecureString"
    );

    // Unreadable or empty secrets refuse every callback (500), never pass.
    let missing = StoredVerifiers::new(
        c.clone(),
        [(Provider::OpenAi, SecretRef::SecretsManager(format!("{id}-missing")))].into(),
        SecretRef::Literal(String::new()),
        300,
        ttl,
    );
    assert_eq!(
        missing.standard(Provider::OpenAi).await.unwrap_err().code,
        "webhook_secret_unavailable"
    );
    assert_eq!(missing.remotion().await.unwrap_err().code, "webhook_secret_unavailable");
    let empty_id = format!("{id}-empty");
    c.secrets().create_secret().name(&empty_id).secret_string(" ").send().await.unwrap();
    let empty = StoredVerifiers::new(
        c,
        [(Provider::OpenAi, SecretRef::SecretsManager(empty_id))].into(),
        SecretRef::Ssm(param),
        300,
        ttl,
    );
    assert_eq!(empty.standard(Provider::OpenAi).await.unwrap_err().status.as_u16(), 500);
}

#[tokio::test]
async fn api_key_hashes_are_read_from_secrets_manager_at_start() {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let c = AwsClients::from_env().await;
    let id = format!("myloware-test/{}/api-key-hashes", uuid::Uuid::new_v4().simple());
    let hashes = format!(
        "{},\n{}",
        myloware_http::hash_entry("user-key", myloware_http::Scope::Runs),
        myloware_http::hash_entry("ops-key", myloware_http::Scope::Admin)
    );
    c.secrets().create_secret().name(&id).secret_string(hashes).send().await.unwrap();
    let mut cfg = myloware_runtime::RuntimeConfig::all_fake(Default::default());
    cfg.api_key_hashes = vec![format!("secretsmanager:{id}")];
    cfg.resolve_stored_api_key_hashes(&c).await.unwrap();
    let keys = cfg.api_keys().unwrap();
    let headers = |k: &str| {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-api-key", k.parse().unwrap());
        h
    };
    assert!(!keys.check(&headers("user-key")).unwrap().admin);
    assert!(keys.check(&headers("ops-key")).unwrap().admin);
    assert!(keys.check(&headers("other")).is_err());
    // A missing secret fails start-up rather than running with no keys.
    cfg.api_key_hashes = vec![format!("secretsmanager:{id}-missing")];
    assert!(cfg.resolve_stored_api_key_hashes(&c).await.is_err());
}

#[tokio::test]
async fn in_process_fakes_sign_with_the_stored_webhook_secrets() {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "needs LocalStack: run scripts/test-all.sh");
    let c = AwsClients::from_env().await;
    let id = format!("myloware-test/{}/sora-fake", uuid::Uuid::new_v4().simple());
    c.secrets().create_secret().name(&id).secret_string(format!("{A},{B}")).send().await.unwrap();
    let mut cfg = myloware_runtime::RuntimeConfig::all_fake(Default::default());
    let stored = &mut cfg.video_secrets.get_mut(&Provider::OpenAi).unwrap().stored;
    *stored = Some(SecretRef::SecretsManager(id));
    cfg.resolve_fake_signing_secrets(&c).await.unwrap();
    let read = &cfg.video_secrets[&Provider::OpenAi].literal;
    assert_eq!(read.len(), 2, "both secrets of a rotation are read");
    let sig = sign_standard(&read[0], "msg_1", 1_000, b"{}");
    assert_eq!(sig, signed(A), "the fakes sign with the first");
    cfg.set_secret(Provider::Remotion, WebhookSecret::parse("remotion-literal").unwrap());
    let fakes = myloware_runtime::wiring::Fakes::InProcess;
    assert!(myloware_runtime::wiring::providers(&cfg, fakes).is_ok());
}
