//! Template parity: the SAM template (`infra/template.yaml`) must describe the resources the code
//! defines in `myloware_aws::resources` (the definition `myloware infra bootstrap` uses): names,
//! keys, GSIs, TTL attribute, queue settings, and the env vars each function reads. `check`
//! returns every drift it finds, as readable lines.

use std::collections::{BTreeMap, BTreeSet};

use myloware_aws::resources::{
    DLQ_RETENTION_SECS, ENV_BUCKET, ENV_DLQ_URL, ENV_QUEUE_URL, ENV_TABLE, GSIS, MAX_RECEIVE_COUNT,
    PK, QUEUE_RETENTION_SECS, ResourceNames, SK, TTL_ATTR, VISIBILITY_TIMEOUT_SECS,
};
use serde_yaml::Value;

/// Logical ids the template must use.
pub const TABLE: &str = "RunsTable";
/// Step queue.
pub const QUEUE: &str = "StepQueue";
/// Its DLQ.
pub const DLQ: &str = "StepDeadLetterQueue";
/// Artifacts bucket.
pub const BUCKET: &str = "ArtifactsBucket";

/// The functions: logical id, cargo binary, env vars it needs beyond the resource locations.
pub const FUNCTIONS: [(&str, &str, &[&str]); 4] = [
    ("ApiFunction", "api", &["MYLOWARE_API_KEY_HASHES", "MYLOWARE_PROVIDERS"]),
    (
        "WebhookFunction",
        "webhook",
        &[
            "MYLOWARE_PROVIDERS",
            "MYLOWARE_OPENAI_WEBHOOK_SECRETS",
            "MYLOWARE_REPLICATE_WEBHOOK_SECRETS",
            "MYLOWARE_GEMINI_WEBHOOK_SECRETS",
            "MYLOWARE_REMOTION_WEBHOOK_SECRETS",
        ],
    ),
    ("StepFunction", "step", &["MYLOWARE_PROVIDERS", "MYLOWARE_WEBHOOK_BASE_URL"]),
    ("SweeperFunction", "sweeper", &["MYLOWARE_PROVIDERS"]),
];

/// A value as a short canonical string: literals as themselves, intrinsics as `Ref:X`,
/// `GetAtt:A.B`, `Sub:…` (short `!Ref` tags and long `{Ref: …}` forms alike).
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Tagged(t) => {
            let name = t.tag.to_string();
            let name = name.trim_start_matches('!');
            let inner = match (&t.value, name) {
                (Value::Sequence(s), "GetAtt") => s.iter().map(show).collect::<Vec<_>>().join("."),
                (other, _) => show(other),
            };
            format!("{name}:{inner}")
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, val) = m.iter().next().expect("one entry");
            match k.as_str() {
                Some("Ref") => format!("Ref:{}", show(val)),
                Some("Fn::GetAtt") => match val {
                    Value::Sequence(s) => {
                        format!("GetAtt:{}", s.iter().map(show).collect::<Vec<_>>().join("."))
                    }
                    other => format!("GetAtt:{}", show(other)),
                },
                Some("Fn::Sub") => format!("Sub:{}", show(val)),
                _ => serde_yaml::to_string(v).unwrap_or_default().trim().to_owned(),
            }
        }
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

struct Checker<'a> {
    resources: &'a Value,
    globals_env: BTreeMap<String, String>,
    drifts: Vec<String>,
}

impl Checker<'_> {
    fn get<'v>(&self, v: &'v Value, path: &[&str]) -> Option<&'v Value> {
        path.iter().try_fold(v, |v, k| v.get(*k))
    }

    fn resource(&mut self, id: &str, kind: &str) -> Option<&Value> {
        let r = self.resources.get(id);
        match r {
            None => {
                self.drifts.push(format!("resource {id} ({kind}) is missing"));
                None
            }
            Some(r) if r.get("Type").and_then(Value::as_str) != Some(kind) => {
                self.drifts.push(format!("{id} is not a {kind}"));
                None
            }
            Some(r) => r.get("Properties"),
        }
    }

    fn expect(&mut self, what: String, got: Option<&Value>, want: &str) {
        let got = got.map(show);
        if got.as_deref() != Some(want) {
            self.drifts.push(format!("{what}: template has {got:?}, the code expects {want:?}"));
        }
    }

    fn table(&mut self, names: &ResourceNames) {
        let Some(p) = self.resource(TABLE, "AWS::DynamoDB::Table").cloned() else { return };
        self.expect(
            format!("{TABLE} TableName"),
            p.get("TableName"),
            &format!("Sub:{}", names.table),
        );
        let keys = |v: Option<&Value>| -> Vec<(String, String)> {
            v.and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .map(|k| (show(&k["AttributeName"]), show(&k["KeyType"])))
                .collect()
        };
        let pair = |a: &str, b: &str| {
            vec![(a.to_owned(), "HASH".to_owned()), (b.to_owned(), "RANGE".to_owned())]
        };
        if keys(p.get("KeySchema")) != pair(PK, SK) {
            self.drifts.push(format!("{TABLE} KeySchema is not {PK} HASH, {SK} RANGE"));
        }
        let mut want_gsis = BTreeMap::new();
        for g in GSIS {
            want_gsis.insert(g.to_owned(), pair(&format!("{g}_pk"), &format!("{g}_sk")));
        }
        let mut got_gsis = BTreeMap::new();
        for g in p.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten()
        {
            if show(&g["Projection"]["ProjectionType"]) != "ALL" {
                self.drifts.push(format!("GSI {} does not project ALL", show(&g["IndexName"])));
            }
            got_gsis.insert(show(&g["IndexName"]), keys(g.get("KeySchema")));
        }
        if got_gsis != want_gsis {
            self.drifts.push(format!(
                "{TABLE} GSIs: template has {got_gsis:?}, the code expects {want_gsis:?}"
            ));
        }
        let mut want_attrs: BTreeSet<String> = [PK, SK].iter().map(|s| s.to_string()).collect();
        want_attrs.extend(want_gsis.values().flatten().map(|(a, _)| a.clone()));
        let got_attrs: BTreeSet<String> = p
            .get("AttributeDefinitions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter(|a| show(&a["AttributeType"]) == "S")
            .map(|a| show(&a["AttributeName"]))
            .collect();
        if got_attrs != want_attrs {
            self.drifts.push(format!("{TABLE} string attributes: template has {got_attrs:?}, the code expects {want_attrs:?}"));
        }
        self.expect(
            format!("{TABLE} TTL attribute"),
            self.get(&p, &["TimeToLiveSpecification", "AttributeName"]),
            TTL_ATTR,
        );
        self.expect(
            format!("{TABLE} TTL enabled"),
            self.get(&p, &["TimeToLiveSpecification", "Enabled"]),
            "true",
        );
        self.expect(
            format!("{TABLE} point-in-time recovery"),
            self.get(&p, &["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"]),
            "true",
        );
        self.expect(
            format!("{TABLE} encryption"),
            self.get(&p, &["SSESpecification", "SSEEnabled"]),
            "true",
        );
    }

    fn queues(&mut self, names: &ResourceNames) {
        if let Some(p) = self.resource(QUEUE, "AWS::SQS::Queue").cloned() {
            self.expect(
                format!("{QUEUE} QueueName"),
                p.get("QueueName"),
                &format!("Sub:{}", names.queue),
            );
            self.expect(
                format!("{QUEUE} VisibilityTimeout"),
                p.get("VisibilityTimeout"),
                &VISIBILITY_TIMEOUT_SECS.to_string(),
            );
            self.expect(
                format!("{QUEUE} MessageRetentionPeriod"),
                p.get("MessageRetentionPeriod"),
                &QUEUE_RETENTION_SECS.to_string(),
            );
            self.expect(
                format!("{QUEUE} maxReceiveCount"),
                self.get(&p, &["RedrivePolicy", "maxReceiveCount"]),
                &MAX_RECEIVE_COUNT.to_string(),
            );
            self.expect(
                format!("{QUEUE} dead-letter target"),
                self.get(&p, &["RedrivePolicy", "deadLetterTargetArn"]),
                &format!("GetAtt:{DLQ}.Arn"),
            );
            self.expect(format!("{QUEUE} encryption"), p.get("SqsManagedSseEnabled"), "true");
        }
        if let Some(p) = self.resource(DLQ, "AWS::SQS::Queue").cloned() {
            self.expect(
                format!("{DLQ} QueueName"),
                p.get("QueueName"),
                &format!("Sub:{}", names.dlq),
            );
            self.expect(
                format!("{DLQ} MessageRetentionPeriod"),
                p.get("MessageRetentionPeriod"),
                &DLQ_RETENTION_SECS.to_string(),
            );
            self.expect(format!("{DLQ} encryption"), p.get("SqsManagedSseEnabled"), "true");
        }
    }

    fn bucket(&mut self, names: &ResourceNames) {
        if let Some(p) = self.resource(BUCKET, "AWS::S3::Bucket").cloned() {
            self.expect(
                format!("{BUCKET} BucketName"),
                p.get("BucketName"),
                &format!("Sub:{}", names.bucket),
            );
            for flag in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                self.expect(
                    format!("{BUCKET} {flag}"),
                    self.get(&p, &["PublicAccessBlockConfiguration", flag]),
                    "true",
                );
            }
            if p.get("BucketEncryption").is_none() || p.get("LifecycleConfiguration").is_none() {
                self.drifts.push(format!("{BUCKET} needs encryption and a lifecycle rule"));
            }
        }
    }

    fn functions(&mut self, known_env: &BTreeSet<String>, step_timeout_limit: u32) {
        for (id, binary, extra) in FUNCTIONS {
            let Some(r) = self.resources.get(id).cloned() else {
                self.drifts.push(format!("function {id} is missing"));
                continue;
            };
            self.expect(
                format!("{id} build method"),
                self.get(&r, &["Metadata", "BuildMethod"]),
                "rust-cargolambda",
            );
            self.expect(
                format!("{id} binary"),
                self.get(&r, &["Metadata", "BuildProperties", "Binary"]),
                binary,
            );
            let p = r.get("Properties").cloned().unwrap_or(Value::Null);
            let mut env = self.globals_env.clone();
            for (k, v) in self
                .get(&p, &["Environment", "Variables"])
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                env.insert(show(k), show(v));
            }
            let locations = [
                (ENV_TABLE, TABLE),
                (ENV_QUEUE_URL, QUEUE),
                (ENV_DLQ_URL, DLQ),
                (ENV_BUCKET, BUCKET),
            ];
            for (var, res) in locations {
                let got = env.get(var).cloned();
                if got.as_deref() != Some(&format!("Ref:{res}")) {
                    self.drifts.push(format!(
                        "{id} env {var}: template has {got:?}, the code reads it as Ref:{res}"
                    ));
                }
            }
            for var in extra {
                if !env.contains_key(*var) {
                    self.drifts.push(format!("{id} env lacks {var}"));
                }
            }
            for var in env.keys().filter(|k| k.starts_with("MYLOWARE_")) {
                if !known_env.contains(var) {
                    self.drifts.push(format!("{id} env {var} is not read by any code"));
                }
            }
            if binary == "step" {
                let timeout = p.get("Timeout").and_then(Value::as_u64).unwrap_or(3) as u32;
                if VISIBILITY_TIMEOUT_SECS < 6 * timeout || timeout > step_timeout_limit {
                    self.drifts.push(format!("step Timeout {timeout}s: the queue's visibility ({VISIBILITY_TIMEOUT_SECS}s) must be at least 6x it"));
                }
                // A provider call must end (answer or timeout) well inside the function's time.
                let http = myloware_providers::clients::HTTP_TIMEOUT.as_secs() as u32;
                if timeout < http + 5 {
                    self.drifts.push(format!("step Timeout {timeout}s: must exceed the providers' HTTP timeout ({http}s) by 5s"));
                }
                let events =
                    p.get("Events").and_then(Value::as_mapping).cloned().unwrap_or_default();
                let sqs = events.values().find(|e| show(&e["Type"]) == "SQS");
                match sqs {
                    None => self.drifts.push("StepFunction has no SQS event".into()),
                    Some(e) => {
                        self.expect(
                            "StepFunction event queue".into(),
                            self.get(e, &["Properties", "Queue"]),
                            &format!("GetAtt:{QUEUE}.Arn"),
                        );
                        let types: Vec<String> = self
                            .get(e, &["Properties", "FunctionResponseTypes"])
                            .and_then(Value::as_sequence)
                            .into_iter()
                            .flatten()
                            .map(show)
                            .collect();
                        if !types.iter().any(|t| t == "ReportBatchItemFailures") {
                            self.drifts.push(
                                "StepFunction SQS event lacks ReportBatchItemFailures".into(),
                            );
                        }
                        if self
                            .get(e, &["Properties", "ScalingConfig", "MaximumConcurrency"])
                            .is_none()
                        {
                            self.drifts
                                .push("StepFunction SQS event lacks MaximumConcurrency".into());
                        }
                    }
                }
            }
            if binary == "sweeper" {
                let scheduled = self
                    .get(&p, &["Events"])
                    .and_then(Value::as_mapping)
                    .into_iter()
                    .flatten()
                    .any(|(_, e)| show(&e["Type"]).starts_with("Schedule"));
                if !scheduled {
                    self.drifts.push("SweeperFunction has no schedule".into());
                }
            }
        }
    }
}

/// Every drift between `template` (YAML text) and the code's definition. `known_env`: the
/// `MYLOWARE_*` variables the code reads.
pub fn check(template: &str, known_env: &BTreeSet<String>) -> Vec<String> {
    let doc: Value = match serde_yaml::from_str(template) {
        Ok(d) => d,
        Err(e) => return vec![format!("the template is not YAML: {e}")],
    };
    let Some(resources) = doc.get("Resources") else {
        return vec!["the template has no Resources".into()];
    };
    let globals_env = doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(|f| f.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .map(|m| m.iter().map(|(k, v)| (show(k), show(v))).collect())
        .unwrap_or_default();
    let mut c = Checker { resources, globals_env, drifts: vec![] };
    let globals =
        doc.get("Globals").and_then(|g| g.get("Function")).cloned().unwrap_or(Value::Null);
    c.expect("Globals Runtime".into(), globals.get("Runtime"), "provided.al2023");
    c.expect(
        "Globals Architectures".into(),
        globals.get("Architectures").and_then(|a| a.get(0)),
        "arm64",
    );
    // The template's names are `!Sub "${Prefix}-…"` (the parameter only allows lower case).
    let marker = "prefixmarker";
    let n = ResourceNames::with_prefix(marker);
    let sub = |s: &str| s.replacen(marker, "${Prefix}", 1);
    let names = ResourceNames {
        table: sub(&n.table),
        queue: sub(&n.queue),
        dlq: sub(&n.dlq),
        bucket: sub(&n.bucket),
    };
    c.table(&names);
    c.queues(&names);
    c.bucket(&names);
    c.functions(known_env, VISIBILITY_TIMEOUT_SECS / 6);
    c.render_function(known_env);
    c.drifts
}

impl Checker<'_> {
    /// The built-in renderer on AWS: the render function (`functions/render`) on its own queue,
    /// one message per invocation, the queue's visibility at least 6x the function's timeout,
    /// ffmpeg from the layer, callbacks to the webhook, and only variables the code reads.
    fn render_function(&mut self, known_env: &BTreeSet<String>) {
        let Some(r) = self.resources.get("RenderFunction").cloned() else {
            self.drifts.push("function RenderFunction is missing".into());
            return;
        };
        self.expect(
            "RenderFunction binary".into(),
            self.get(&r, &["Metadata", "BuildProperties", "Binary"]),
            "render",
        );
        self.expect("RenderFunction condition".into(), r.get("Condition"), "BuiltinRenderer");
        let p = r.get("Properties").cloned().unwrap_or(Value::Null);
        let timeout = p.get("Timeout").and_then(Value::as_u64).unwrap_or(3);
        let events = p.get("Events").and_then(Value::as_mapping).cloned().unwrap_or_default();
        match events.values().find(|e| show(&e["Type"]) == "SQS") {
            None => self.drifts.push("RenderFunction has no SQS event".into()),
            Some(e) => {
                self.expect(
                    "RenderFunction event queue".into(),
                    self.get(e, &["Properties", "Queue"]),
                    "GetAtt:RenderQueue.Arn",
                );
                self.expect(
                    "RenderFunction BatchSize".into(),
                    self.get(e, &["Properties", "BatchSize"]),
                    "1",
                );
            }
        }
        let visibility = self
            .resources
            .get("RenderQueue")
            .and_then(|q| q.get("Properties"))
            .and_then(|p| p.get("VisibilityTimeout"))
            .and_then(Value::as_u64)
            .unwrap_or(30);
        if visibility < 6 * timeout {
            self.drifts.push(format!(
                "RenderQueue VisibilityTimeout {visibility}s: must be at least 6x the render function's Timeout ({timeout}s)"
            ));
        }
        let mut env = self.globals_env.clone();
        for (k, v) in self
            .get(&p, &["Environment", "Variables"])
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            env.insert(show(k), show(v));
        }
        if env.get(ENV_BUCKET).map(String::as_str) != Some(&format!("Ref:{BUCKET}")) {
            self.drifts.push(format!("RenderFunction env {ENV_BUCKET} is not Ref:{BUCKET}"));
        }
        for var in
            ["MYLOWARE_FFMPEG", "MYLOWARE_WEBHOOK_BASE_URL", "MYLOWARE_REMOTION_WEBHOOK_SECRETS"]
        {
            if !env.contains_key(var) {
                self.drifts.push(format!("RenderFunction env lacks {var}"));
            }
        }
        for var in env.keys().filter(|k| k.starts_with("MYLOWARE_")) {
            if !known_env.contains(var) {
                self.drifts.push(format!("RenderFunction env {var} is not read by any code"));
            }
        }
    }
}

/// The `MYLOWARE_*` names that appear as string literals in the Rust sources under `roots`.
pub fn env_vars_in_code(roots: &[std::path::PathBuf]) -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for part in text.split('"').skip(1).step_by(2) {
                    if part.starts_with("MYLOWARE_")
                        && part
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    {
                        out.insert(part.to_owned());
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for r in roots {
        walk(r, &mut out);
    }
    out
}
