//! The one definition of MyloWare's AWS resources: names, keys, index, TTL and queue settings.
//! `myloware infra bootstrap` creates them from here, tests create per-test copies with a prefix,
//! and the SAM template is checked against the same constants.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::AwsClients;

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// GSI listing runs by status, newest first.
pub const GSI_STATUS: &str = "gsi_status";
/// GSI listing all runs, newest first.
pub const GSI_ALL: &str = "gsi_all";
/// Sparse GSI of the runs the sweeper may have to look at, by `due_at` (ended and stalled runs
/// are not in it), so a sweep reads only due runs. Spread over [`DUE_SHARDS`] partitions.
pub const GSI_DUE: &str = "gsi_due";
/// Partitions of [`GSI_DUE`] (`DUE#0` …), so checkpoints of many runs do not all write one.
pub const DUE_SHARDS: u8 = 4;
/// Every GSI of the table; each is keyed `<name>_pk` / `<name>_sk` (strings) and projects ALL.
pub const GSIS: [&str; 3] = [GSI_STATUS, GSI_ALL, GSI_DUE];
/// TTL attribute (epoch seconds).
pub const TTL_ATTR: &str = "expires_at";
/// Receives before SQS itself moves a step message to the DLQ. A backstop: the runner moves a
/// message there after its step's last allowed attempt (5 by default, stalling the run), so this
/// only catches messages that keep crashing their handler or keep finding a lease busy.
pub const MAX_RECEIVE_COUNT: u32 = 8;
/// Step queue visibility timeout: ≥ 6× the step function's timeout (30 s).
pub const VISIBILITY_TIMEOUT_SECS: u32 = 180;
/// Step queue retention (4 days).
pub const QUEUE_RETENTION_SECS: u32 = 4 * 24 * 3600;
/// DLQ retention (14 days): longer than the source's, since a standard DLQ keeps the original
/// enqueue time.
pub const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;

/// Env vars the functions read to find their resources.
pub const ENV_TABLE: &str = "MYLOWARE_TABLE";
/// Step queue URL.
pub const ENV_QUEUE_URL: &str = "MYLOWARE_STEP_QUEUE_URL";
/// DLQ URL.
pub const ENV_DLQ_URL: &str = "MYLOWARE_DLQ_URL";
/// Artifacts bucket.
pub const ENV_BUCKET: &str = "MYLOWARE_BUCKET";

/// Resource names, derived from a prefix (`myloware` in production, unique per test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    /// DynamoDB table.
    pub table: String,
    /// Step queue.
    pub queue: String,
    /// Dead-letter queue.
    pub dlq: String,
    /// Artifacts bucket (lower case, as S3 requires).
    pub bucket: String,
}

impl ResourceNames {
    /// Names under `prefix`.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            table: format!("{prefix}-runs"),
            queue: format!("{prefix}-steps"),
            dlq: format!("{prefix}-steps-dlq"),
            bucket: format!("{prefix}-artifacts").to_lowercase(),
        }
    }
}

/// Created resources: what the adapters need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// Names.
    pub names: ResourceNames,
    /// Step queue URL.
    pub queue_url: String,
    /// DLQ URL.
    pub dlq_url: String,
    /// DLQ ARN.
    pub dlq_arn: String,
}

impl Resources {
    /// Read the resource locations the functions are configured with.
    pub fn from_env() -> Result<Self, String> {
        let var = |k: &str| {
            std::env::var(k).map_err(|_| {
                format!("{k} is not set; run `myloware infra bootstrap` and export its output")
            })
        };
        let table = var(ENV_TABLE)?;
        Ok(Self {
            names: ResourceNames {
                table,
                queue: String::new(),
                dlq: String::new(),
                bucket: var(ENV_BUCKET)?,
            },
            queue_url: var(ENV_QUEUE_URL)?,
            dlq_url: std::env::var(ENV_DLQ_URL).unwrap_or_default(),
            dlq_arn: String::new(),
        })
    }

    /// The env vars that point functions at these resources.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (ENV_TABLE, self.names.table.clone()),
            (ENV_QUEUE_URL, self.queue_url.clone()),
            (ENV_DLQ_URL, self.dlq_url.clone()),
            (ENV_BUCKET, self.names.bucket.clone()),
        ]
    }
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("complete")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("complete")
}

fn gsi(name: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(&format!("{name}_pk"), KeyType::Hash))
        .key_schema(key(&format!("{name}_sk"), KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("complete")
}

/// Create the table, queues and bucket (idempotent: existing ones are reused).
pub async fn bootstrap(c: &AwsClients, names: &ResourceNames) -> Result<Resources, String> {
    bootstrap_with(c, names, QueueSettings::default()).await
}

/// Step queue settings (production values by default; tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// Visibility timeout, seconds.
    pub visibility_timeout_secs: u32,
    /// Receives before the DLQ.
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout_secs: VISIBILITY_TIMEOUT_SECS,
            max_receive_count: MAX_RECEIVE_COUNT,
        }
    }
}

/// [`bootstrap`] with explicit queue settings.
pub async fn bootstrap_with(
    c: &AwsClients,
    names: &ResourceNames,
    q: QueueSettings,
) -> Result<Resources, String> {
    let err = |what: &str, e: &dyn std::fmt::Debug| format!("{what}: {e:?}");
    let mut create = c
        .dynamodb()
        .create_table()
        .table_name(&names.table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK))
        .attribute_definitions(attr(SK))
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range));
    for g in GSIS {
        create = create
            .attribute_definitions(attr(&format!("{g}_pk")))
            .attribute_definitions(attr(&format!("{g}_sk")))
            .global_secondary_indexes(gsi(g));
    }
    let table = create.send().await;
    match table {
        Ok(_) => {
            c.dynamodb()
                .update_time_to_live()
                .table_name(&names.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(TTL_ATTR)
                        .enabled(true)
                        .build()
                        .expect("complete"),
                )
                .send()
                .await
                .map_err(|e| err("enable TTL", &e))?;
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(err("create table", &e)),
    }
    let dlq_url = c
        .sqs()
        .create_queue()
        .queue_name(&names.dlq)
        .attributes(QueueAttributeName::MessageRetentionPeriod, DLQ_RETENTION_SECS.to_string())
        .send()
        .await
        .map_err(|e| err("create DLQ", &e))?
        .queue_url
        .ok_or("create DLQ returned no URL")?;
    let dlq_arn = c
        .sqs()
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| err("read DLQ ARN", &e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or("DLQ has no ARN")?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": q.max_receive_count.to_string(),
    });
    let queue_url = c
        .sqs()
        .create_queue()
        .queue_name(&names.queue)
        .attributes(QueueAttributeName::VisibilityTimeout, q.visibility_timeout_secs.to_string())
        .attributes(QueueAttributeName::MessageRetentionPeriod, QUEUE_RETENTION_SECS.to_string())
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| err("create step queue", &e))?
        .queue_url
        .ok_or("create queue returned no URL")?;
    match c.s3().create_bucket().bucket(&names.bucket).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
            }) => {}
        Err(e) => return Err(err("create bucket", &e)),
    }
    Ok(Resources { names: names.clone(), queue_url, dlq_url, dlq_arn })
}
