//! `RunStore` on DynamoDB.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use myloware::domain::{
    Arrival, AuditEntry, CheckpointEntry, Correlation, CorrelationRecord, Feedback, IdempotencyKey,
    JobId, Lease, NoticeDelivery, NoticeWrite, Provider, RunId, RunRecord, SafetyRecord,
};
use myloware::ports::{
    Checkpoint, CreateOutcome, DuePage, DueRun, Intent, IntentKey, ListQuery, RecordArrival,
    RunPage, RunStore, StoreError,
};
use myloware::time::Timestamp;

use super::codec::{Item, decode, get_n, get_s, json, key, n, s};
use super::errors::map;
use super::keys::{META, audit_sk, checkpoint_sk, corr_pk, intent_pk, list_sk, run_pk, start_pk};
use crate::resources::{DUE_SHARDS, GSI_ALL, GSI_DUE, GSI_STATUS, TTL_ATTR};

/// The DynamoDB run store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A start idempotency key's item, read consistently.
    async fn start_key_item(&self, k: &IdempotencyKey) -> Result<Option<Item>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(start_pk(k.as_str()), "IDEM")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map("GetItem(start key)", e))?;
        Ok(got.item)
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The run's item: the body plus the attributes conditions and indexes need, and the
    /// control attributes (lease, attempts, timer, due) as the record has them.
    fn meta_item(&self, run: &RunRecord) -> Item {
        let mut item = key(run_pk(&run.run_id), META);
        let list = list_sk(run.created_at.millis(), &run.run_id);
        item.insert("version".into(), n(run.version));
        item.insert("status".into(), s(run.status.as_str()));
        item.insert("step".into(), s(run.step.as_str()));
        item.insert("updated_at".into(), n(run.updated_at.millis()));
        item.insert("body".into(), json(&run.body()));
        if let Some(owner) = &run.owner {
            item.insert("owner".into(), s(owner));
        }
        item.insert(format!("{GSI_STATUS}_pk"), s(format!("STATUS#{}", run.status)));
        item.insert(format!("{GSI_STATUS}_sk"), s(list.clone()));
        item.insert(format!("{GSI_ALL}_pk"), s("RUNS"));
        item.insert(format!("{GSI_ALL}_sk"), s(list));
        if let Some(l) = &run.lease {
            item.insert("lease_owner".into(), s(&l.owner));
            item.insert("lease_until".into(), n(l.until.millis()));
        }
        if run.attempts > 0 {
            item.insert("attempts".into(), n(run.attempts));
        }
        if run.timer_seq > 0 {
            item.insert("timer_seq".into(), n(run.timer_seq));
        }
        if let Some(by) = &run.timer_by {
            item.insert("timer_by".into(), s(by));
        }
        if let Some(due) = run.due_at {
            item.extend(due_attrs(&run.run_id, due));
            item.insert(format!("{GSI_DUE}_pk"), s(due_shard(&run.run_id)));
        }
        item
    }

    fn checkpoint_put(&self, run: &RunRecord, tick: bool) -> Result<TransactWriteItem, StoreError> {
        let mut item = key(run_pk(&run.run_id), checkpoint_sk(run.version));
        item.insert("body".into(), json(&CheckpointEntry::of(run, tick)));
        put(&self.table, item, Some("attribute_not_exists(pk)"), HashMap::new())
    }

    /// A conditional `UpdateItem` on a run's item; `ConditionFailed` when the condition fails.
    async fn update_run(
        &self,
        id: &RunId,
        update: &str,
        condition: &str,
        values: HashMap<String, AttributeValue>,
        what: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(id), META)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| map(what, e))?;
        Ok(())
    }

    /// Strongly consistent `BatchGetItem` of any number of keys (chunks of 100, unprocessed keys
    /// retried); missing items are absent from the result.
    async fn batch_get(&self, keys: Vec<Item>, op: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            );
            while let Some(req) = pending.take() {
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| map(op, e))?;
                out.extend(
                    resp.responses.unwrap_or_default().remove(&self.table).unwrap_or_default(),
                );
                pending = resp.unprocessed_keys.and_then(|mut u| u.remove(&self.table));
            }
        }
        Ok(out)
    }

    /// Set a boolean attribute on an existing rendezvous item (never creates one).
    async fn set_flag(
        &self,
        provider: Provider,
        job: &JobId,
        flag: &str,
    ) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(corr_pk(provider, job), "CORR")))
            .update_expression("SET #f = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#f", flag)
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await;
        match res.map_err(|e| map("UpdateItem(flag)", e)) {
            Ok(_) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":p", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| map("Query", e))?;
            out.extend(resp.items.unwrap_or_default());
            start = resp.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
    values: HashMap<String, AttributeValue>,
) -> Result<TransactWriteItem, StoreError> {
    let p = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .set_expression_attribute_values((!values.is_empty()).then_some(values))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(p).build())
}

fn decode_run(item: &Item) -> Result<RunRecord, StoreError> {
    let mut run: RunRecord = decode(item, "body")?.ok_or_else(|| StoreError::Corrupt {
        key: get_s(item, "pk").unwrap_or("?").to_owned(),
        why: "no body".into(),
    })?;
    if let (Some(owner), Some(until)) = (get_s(item, "lease_owner"), get_n(item, "lease_until")) {
        run.lease = Some(Lease { owner: owner.to_owned(), until: Timestamp(until) });
    }
    run.attempts = get_n(item, "attempts").unwrap_or(0) as u32;
    run.timer_seq = get_n(item, "timer_seq").unwrap_or(0) as u64;
    run.timer_by = get_s(item, "timer_by").map(str::to_owned);
    run.due_at = get_n(item, "due_at").map(Timestamp);
    Ok(run)
}

/// The due-index partition of a run: its id's first hex digit, spread over `DUE_SHARDS`.
fn due_shard(id: &RunId) -> String {
    let first = id.to_string().chars().next().and_then(|c| c.to_digit(16)).unwrap_or(0);
    format!("DUE#{}", first as u8 % DUE_SHARDS)
}

/// `due_at` and the due index's sort key (`<ms:015>#<run id>`, so ties keep a stable order).
fn due_attrs(id: &RunId, due: Timestamp) -> [(String, AttributeValue); 2] {
    [
        ("due_at".to_owned(), n(due.millis())),
        (format!("{GSI_DUE}_sk"), s(format!("{:015}#{id}", due.millis().max(0)))),
    ]
}

fn decode_corr(provider: Provider, item: &Item) -> Result<CorrelationRecord, StoreError> {
    let job = get_s(item, "job_id").unwrap_or_default();
    Ok(CorrelationRecord {
        provider,
        job_id: JobId::parse(job)
            .map_err(|e| StoreError::Corrupt { key: job.into(), why: e.to_string() })?,
        correlation: decode(item, "corr")?,
        arrival: decode(item, "arrival")?,
    })
}

#[async_trait]
impl RunStore for DynamoStore {
    async fn create_run(
        &self,
        run: &RunRecord,
        key_expires_at: Timestamp,
    ) -> Result<CreateOutcome, StoreError> {
        let mut writes = vec![
            put(
                &self.table,
                self.meta_item(run),
                Some("attribute_not_exists(pk)"),
                HashMap::new(),
            )?,
            self.checkpoint_put(run, false)?,
        ];
        if let Some(k) = &run.start_key {
            let mut item = key(start_pk(k.as_str()), "IDEM");
            item.insert("run_id".into(), s(run.run_id.to_string()));
            item.insert("created_at".into(), n(run.created_at.millis()));
            item.insert(TTL_ATTR.into(), n(key_expires_at.secs()));
            // DynamoDB deletes expired items lazily: an expired key is free even while it lingers.
            let cond = format!("attribute_not_exists(pk) OR {TTL_ATTR} <= :now");
            let values = HashMap::from([(":now".to_owned(), n(run.created_at.secs()))]);
            writes.push(put(&self.table, item, Some(&cond), values)?);
        }
        let res = self.client.transact_write_items().set_transact_items(Some(writes)).send().await;
        match res.map_err(|e| map("TransactWriteItems(create)", e)) {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(StoreError::ConditionFailed(why)) => {
                let Some(k) = &run.start_key else {
                    return Err(StoreError::ConditionFailed(why));
                };
                let id = self
                    .start_key_item(k)
                    .await?
                    .as_ref()
                    .and_then(|i| get_s(i, "run_id"))
                    .and_then(|r| r.parse::<RunId>().ok())
                    .ok_or(StoreError::ConditionFailed(why))?;
                Ok(CreateOutcome::Existing(id))
            }
            Err(e) => Err(e),
        }
    }

    async fn get_run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(id), META)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map("GetItem(run)", e))?;
        got.item.as_ref().map(decode_run).transpose()
    }

    async fn acquire_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<RunRecord, StoreError> {
        // Read and lease in one write; the attempt is counted in the same write.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(id), META)))
            .update_expression("SET lease_owner = :o, lease_until = :u ADD attempts :one")
            .condition_expression(
                "version = :v AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
            )
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":u", n(until.millis()))
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":now", n(now.millis()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| map("UpdateItem(lease)", e))?;
        decode_run(&out.attributes.unwrap_or_default())
    }

    async fn renew_lease(
        &self,
        id: &RunId,
        version: u64,
        owner: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let values = HashMap::from([
            (":o".into(), s(owner)),
            (":u".into(), n(until.millis())),
            (":v".into(), n(version)),
        ]);
        self.update_run(
            id,
            "SET lease_until = :u",
            "version = :v AND lease_owner = :o",
            values,
            "UpdateItem(renew lease)",
        )
        .await
    }

    async fn release_lease(
        &self,
        id: &RunId,
        owner: &str,
        due_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut values = HashMap::from([(":o".to_owned(), s(owner))]);
        let (update, condition) = match due_at {
            None => ("REMOVE lease_owner, lease_until".to_owned(), "lease_owner = :o"),
            Some(due) => {
                let [(_, at), (_, sk)] = due_attrs(id, due);
                values.insert(":d".into(), at);
                values.insert(":dk".into(), sk);
                (
                    format!("REMOVE lease_owner, lease_until SET due_at = :d, {GSI_DUE}_sk = :dk"),
                    "lease_owner = :o AND attribute_exists(due_at)",
                )
            }
        };
        match self.update_run(id, &update, condition, values, "UpdateItem(release lease)").await {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<(), StoreError> {
        let next = cp.next;
        if next.version != cp.expected + 1 {
            return Err(StoreError::ConditionFailed("next version must be expected + 1".into()));
        }
        let values = HashMap::from([(":v".to_owned(), n(cp.expected))]);
        let mut writes = vec![
            put(&self.table, self.meta_item(next), Some("version = :v"), values)?,
            self.checkpoint_put(next, cp.tick)?,
        ];
        if let Some(a) = cp.audit {
            writes.push(put(&self.table, audit_item(a), None, HashMap::new())?);
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(|e| map("TransactWriteItems(checkpoint)", e))?;
        Ok(())
    }

    async fn tick_timer(
        &self,
        id: &RunId,
        version: u64,
        seq: u64,
        by: Option<&str>,
        due_at: Timestamp,
    ) -> Result<(), StoreError> {
        let [(_, at), (_, sk)] = due_attrs(id, due_at);
        let mut values = HashMap::from([
            (":v".to_owned(), n(version)),
            (":seq".to_owned(), n(seq)),
            (":next".to_owned(), n(seq + 1)),
            (":d".to_owned(), at),
            (":dk".to_owned(), sk),
        ]);
        // A run whose chain never ticked at this version has no `timer_seq` (zero).
        let condition = if seq == 0 {
            "version = :v AND (attribute_not_exists(timer_seq) OR timer_seq = :seq)"
        } else {
            "version = :v AND timer_seq = :seq"
        };
        let mut update = format!("SET timer_seq = :next, due_at = :d, {GSI_DUE}_sk = :dk");
        match by {
            Some(by) => {
                values.insert(":by".to_owned(), s(by));
                update.push_str(", timer_by = :by");
            }
            None => update.push_str(" REMOVE timer_by"),
        }
        self.update_run(id, &update, condition, values, "UpdateItem(timer)").await
    }

    async fn due_runs(
        &self,
        now: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<DuePage, StoreError> {
        // Cursor: "<shard>|<last evaluated key of that shard, or empty>"; shards in order.
        let bad = || StoreError::ConditionFailed("bad cursor".into());
        let (mut shard, mut start): (u8, Option<Item>) = match cursor.as_deref() {
            None => (0, None),
            Some(c) => {
                let (sh, lek) = c.split_once('|').ok_or_else(bad)?;
                let sh: u8 = sh.parse().map_err(|_| bad())?;
                let start = match lek {
                    "" => None,
                    raw => {
                        let bytes = B64.decode(raw).map_err(|_| bad())?;
                        let map: HashMap<String, String> =
                            serde_json::from_slice(&bytes).map_err(|_| bad())?;
                        Some(map.into_iter().map(|(k, v)| (k, s(v))).collect())
                    }
                };
                (sh, start)
            }
        };
        if shard >= DUE_SHARDS {
            return Err(bad());
        }
        let upto = s(format!("{:015}#~", now.millis().max(0)));
        let mut page = DuePage::default();
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_DUE)
                .key_condition_expression("#pk = :pk AND #sk <= :upto")
                .expression_attribute_names("#pk", format!("{GSI_DUE}_pk"))
                .expression_attribute_names("#sk", format!("{GSI_DUE}_sk"))
                .expression_attribute_values(":pk", s(format!("DUE#{shard}")))
                .expression_attribute_values(":upto", upto.clone())
                .limit(limit.clamp(1, 1000) as i32 - page.runs.len() as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| map("Query(due)", e))?;
            for item in resp.items.unwrap_or_default() {
                let Some(run_id) =
                    get_s(&item, "pk").and_then(|pk| pk.strip_prefix("RUN#")?.parse().ok())
                else {
                    continue;
                };
                page.runs.push(DueRun {
                    run_id,
                    due_at: Timestamp(get_n(&item, "due_at").unwrap_or_default()),
                    record: decode_run(&item).map_err(|e| e.to_string()),
                });
            }
            let next_shard = match resp.last_evaluated_key {
                Some(k) => {
                    let plain: HashMap<String, String> = k
                        .into_iter()
                        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone())))
                        .collect();
                    let lek = B64.encode(serde_json::to_vec(&plain).expect("json"));
                    if page.runs.len() as u32 >= limit {
                        page.next_cursor = Some(format!("{shard}|{lek}"));
                        return Ok(page);
                    }
                    start = Some(plain.into_iter().map(|(k, v)| (k, s(v))).collect());
                    continue;
                }
                None => shard + 1,
            };
            if next_shard >= DUE_SHARDS {
                return Ok(page);
            }
            shard = next_shard;
            if page.runs.len() as u32 >= limit {
                page.next_cursor = Some(format!("{shard}|"));
                return Ok(page);
            }
        }
    }

    async fn defer_due(
        &self,
        id: &RunId,
        version: Option<u64>,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let [(_, at), (_, sk)] = due_attrs(id, until);
        let mut values = HashMap::from([(":d".to_owned(), at), (":dk".to_owned(), sk)]);
        let condition = match version {
            Some(v) => {
                values.insert(":v".into(), n(v));
                "attribute_exists(due_at) AND version = :v"
            }
            None => "attribute_exists(due_at)",
        };
        let update = format!("SET due_at = :d, {GSI_DUE}_sk = :dk");
        match self.update_run(id, &update, condition, values, "UpdateItem(defer due)").await {
            Err(StoreError::ConditionFailed(_)) if version.is_none() => Ok(()),
            other => other,
        }
    }

    async fn history(&self, id: &RunId) -> Result<Vec<CheckpointEntry>, StoreError> {
        let items = self.query_prefix(run_pk(id), "CP#").await?;
        items.iter().filter_map(|i| decode(i, "body").transpose()).collect()
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.put_unconditional(audit_item(entry), "PutItem(audit)").await
    }

    async fn audit_log(&self, id: &RunId) -> Result<Vec<AuditEntry>, StoreError> {
        let items = self.query_prefix(run_pk(id), "AUDIT#").await?;
        items.iter().filter_map(|i| decode(i, "body").transpose()).collect()
    }

    async fn list_runs(&self, q: &ListQuery) -> Result<RunPage, StoreError> {
        let (index, pk) = match q.status {
            Some(st) => (GSI_STATUS, format!("STATUS#{st}")),
            None => (GSI_ALL, "RUNS".to_owned()),
        };
        let start: Option<Item> = match &q.cursor {
            None => None,
            Some(c) => {
                let raw =
                    B64.decode(c).map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?;
                let map: HashMap<String, String> = serde_json::from_slice(&raw)
                    .map_err(|_| StoreError::ConditionFailed("bad cursor".into()))?;
                // Only a key this query could have handed out: the table's keys of a run's
                // item and this index's keys for this partition (anything else would reach
                // DynamoDB as a malformed ExclusiveStartKey).
                let (ipk, isk) = (format!("{index}_pk"), format!("{index}_sk"));
                let ours = map.len() == 4
                    && map.get("pk").is_some_and(|v| v.starts_with("RUN#") && v.len() < 100)
                    && map.get("sk").is_some_and(|v| v == META)
                    && map.get(&ipk).is_some_and(|v| *v == pk)
                    && map.get(&isk).is_some_and(|v| v.len() < 100);
                if !ours {
                    return Err(StoreError::ConditionFailed("bad cursor".into()));
                }
                Some(map.into_iter().map(|(k, v)| (k, s(v))).collect())
            }
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", format!("{index}_pk"))
            .expression_attribute_values(":pk", s(pk));
        if let Some(owner) = &q.owner {
            query = query
                .filter_expression("#owner = :owner")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", s(owner));
        }
        let resp = query
            .scan_index_forward(false)
            .limit(q.limit.clamp(1, 100) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| map("Query(list)", e))?;
        let runs =
            resp.items.unwrap_or_default().iter().map(decode_run).collect::<Result<_, _>>()?;
        let next_cursor = resp.last_evaluated_key.map(|k| {
            let plain: HashMap<String, String> =
                k.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect();
            B64.encode(serde_json::to_vec(&plain).expect("json"))
        });
        Ok(RunPage { runs, next_cursor })
    }

    async fn claim_intent(&self, k: &IntentKey, now: Timestamp) -> Result<Intent, StoreError> {
        let mut item = key(intent_pk(&k.0), "IDEM");
        item.insert("created_at".into(), n(now.millis()));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(Intent { key: k.clone(), job_id: None, fresh: true }),
            Err(e) => {
                let old = e
                    .as_service_error()
                    .filter(|s| s.is_conditional_check_failed_exception())
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => {
                            Some(c.item.clone().unwrap_or_default())
                        }
                        _ => None,
                    });
                match old {
                    Some(item) => {
                        let job =
                            get_s(&item, "job_id").map(JobId::parse).transpose().map_err(|e| {
                                StoreError::Corrupt { key: k.0.clone(), why: e.to_string() }
                            })?;
                        Ok(Intent { key: k.clone(), job_id: job, fresh: false })
                    }
                    None => Err(map("PutItem(intent)", e)),
                }
            }
        }
    }

    async fn complete_intent(&self, k: &IntentKey, job: &JobId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(intent_pk(&k.0), "IDEM")))
            .update_expression("SET job_id = :j")
            .expression_attribute_values(":j", s(job.as_str()))
            .send()
            .await
            .map_err(|e| map("UpdateItem(intent)", e))?;
        Ok(())
    }

    async fn correlate(
        &self,
        provider: Provider,
        job: &JobId,
        correlation: &Correlation,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(corr_pk(provider, job), "CORR")))
            .update_expression("SET corr = :c, job_id = :j, run_id = :r")
            .expression_attribute_values(":c", json(correlation))
            .expression_attribute_values(":j", s(job.as_str()))
            .expression_attribute_values(":r", s(correlation.run_id.to_string()))
            .send()
            .await
            .map_err(|e| map("UpdateItem(correlate)", e))?;
        Ok(())
    }

    async fn record_arrival(
        &self,
        provider: Provider,
        job: &JobId,
        arrival: &Arrival,
        claimed: Option<RunId>,
    ) -> Result<RecordArrival, StoreError> {
        // One conditional write: only a correlated, open job without an arrival (of the claimed
        // run, if one is claimed) takes it. A failed condition writes nothing (UpdateItem does
        // not create the item then) and returns the item, which says why.
        let mut condition = "attribute_exists(corr) AND attribute_not_exists(arrival) \
                             AND attribute_not_exists(closed)"
            .to_owned();
        if claimed.is_some() {
            condition.push_str(" AND run_id = :claimed");
        }
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(corr_pk(provider, job), "CORR")))
            .update_expression("SET arrival = :a")
            .condition_expression(condition)
            .set_expression_attribute_values(Some(
                std::iter::once((":a".to_owned(), json(arrival)))
                    .chain(claimed.map(|r| (":claimed".to_owned(), s(r.to_string()))))
                    .collect(),
            ))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let corr: Option<Correlation> = decode(&item, "corr")?;
                corr.map(RecordArrival::New).ok_or_else(|| StoreError::Corrupt {
                    key: job.to_string(),
                    why: "no correlation".into(),
                })
            }
            Err(e) => {
                let old = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                        Some(c.item.clone().unwrap_or_default())
                    }
                    _ => None,
                });
                let Some(item) = old else { return Err(map("UpdateItem(arrival)", e)) };
                Ok(match decode::<Correlation>(&item, "corr")? {
                    None => RecordArrival::Unknown,
                    Some(c) if claimed.is_some_and(|r| r != c.run_id) => RecordArrival::WrongRun(c),
                    Some(c) if item.contains_key("arrival") => {
                        RecordArrival::Duplicate { correlation: c }
                    }
                    Some(_) => RecordArrival::Closed,
                })
            }
        }
    }

    async fn close_correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<(), StoreError> {
        for job in jobs {
            self.set_flag(provider, job, "closed").await?;
        }
        Ok(())
    }

    async fn safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
    ) -> Result<Option<SafetyRecord>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(run), format!("SAFETY#{sha}"))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map("GetItem(safety)", e))?;
        match got.item {
            Some(item) => decode(&item, "body"),
            None => Ok(None),
        }
    }

    async fn record_safety_verdict(
        &self,
        run: &RunId,
        sha: &str,
        verdict: &SafetyRecord,
    ) -> Result<(), StoreError> {
        let mut item = key(run_pk(run), format!("SAFETY#{sha}"));
        item.insert("body".into(), json(verdict));
        self.put_unconditional(item, "PutItem(safety)").await
    }

    async fn start_key_run(
        &self,
        k: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<RunId>, StoreError> {
        let Some(item) = self.start_key_item(k).await? else { return Ok(None) };
        // DynamoDB deletes expired items lazily: an expired key is no key.
        let live = item
            .get(TTL_ATTR)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_none_or(|ttl| ttl > now.secs());
        if !live {
            return Ok(None);
        }
        get_s(&item, "run_id")
            .map(|r| {
                r.parse::<RunId>().map_err(|e| StoreError::Corrupt {
                    key: k.as_str().to_owned(),
                    why: e.to_string(),
                })
            })
            .transpose()
    }

    async fn put_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let mut item = key(run_pk(&feedback.run_id), format!("FEEDBACK#{}", feedback.caller));
        item.insert("body".into(), json(feedback));
        self.put_unconditional(item, "PutItem(feedback)").await
    }

    async fn feedback(&self, run: &RunId) -> Result<Vec<Feedback>, StoreError> {
        let items = self.query_prefix(run_pk(run), "FEEDBACK#").await?;
        let mut all: Vec<Feedback> =
            items.iter().filter_map(|i| decode(i, "body").transpose()).collect::<Result<_, _>>()?;
        all.sort_by_key(|f| f.created_at);
        Ok(all)
    }

    async fn put_notice_delivery(
        &self,
        d: &NoticeDelivery,
        how: NoticeWrite,
    ) -> Result<bool, StoreError> {
        let mut item = key(run_pk(&d.run_id), format!("NOTICE#{}#{}", d.event_id, d.endpoint));
        item.insert("body".into(), json(d));
        item.insert("attempts".into(), n(d.attempts));
        item.insert("delivery_state".into(), s(d.state.as_str()));
        item.insert("claimed_until".into(), n(d.claimed_until.map_or(0, |t| t.millis())));
        // The rule of `NoticeWrite::allows`, as the put's condition.
        let mut values = HashMap::from([(":a".to_owned(), n(d.attempts))]);
        let cond = match how {
            NoticeWrite::Claim { now } => {
                values.insert(":sending".into(), s("sending"));
                values.insert(":now".into(), n(now.millis()));
                "attribute_not_exists(pk) OR attempts < :a \
                 OR (attempts = :a AND delivery_state = :sending AND claimed_until < :now)"
            }
            NoticeWrite::Settle => "attribute_not_exists(pk) OR attempts <= :a",
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match put.map_err(|e| map("PutItem(notice)", e)) {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn notice_deliveries(&self, run: &RunId) -> Result<Vec<NoticeDelivery>, StoreError> {
        let items = self.query_prefix(run_pk(run), "NOTICE#").await?;
        let mut all: Vec<NoticeDelivery> =
            items.iter().filter_map(|i| decode(i, "body").transpose()).collect::<Result<_, _>>()?;
        all.sort_by_key(|d| d.first_at);
        Ok(all)
    }

    async fn bump_counter(
        &self,
        counter: &str,
        limit: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        // An expired counter (TTL deletion is lazy) starts again from one.
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("CTR#{counter}"), "CTR")))
            .update_expression(
                "SET n = if_not_exists(n, :zero) + :one, #ttl = if_not_exists(#ttl, :exp)",
            )
            .condition_expression("attribute_not_exists(n) OR (n < :limit AND #ttl > :now)")
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires_at.secs()))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":now", n(now.secs()))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => Ok(get_n(&out.attributes.unwrap_or_default(), "n").map(|v| v as u64)),
            Err(e) => {
                let old = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                        Some(c.item.clone().unwrap_or_default())
                    }
                    _ => None,
                });
                let Some(old) = old else { return Err(map("UpdateItem(counter)", e)) };
                if get_n(&old, TTL_ATTR).is_some_and(|t| t <= now.secs()) {
                    // Expired: replace it with a fresh counter at one.
                    let mut item = key(format!("CTR#{counter}"), "CTR");
                    item.insert("n".into(), n(1));
                    item.insert(TTL_ATTR.into(), n(expires_at.secs()));
                    let values = HashMap::from([(":now".to_owned(), n(now.secs()))]);
                    let fresh = self
                        .client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression(format!("{TTL_ATTR} <= :now"))
                        .set_expression_attribute_values(Some(values))
                        .send()
                        .await;
                    return match fresh.map_err(|e| map("PutItem(counter)", e)) {
                        Ok(_) => Ok(Some(1)),
                        Err(StoreError::ConditionFailed(_)) => Ok(None),
                        Err(e) => Err(e),
                    };
                }
                Ok(None)
            }
        }
    }

    async fn counters(&self, keys: &[String], now: Timestamp) -> Result<Vec<u64>, StoreError> {
        let ks = keys.iter().map(|k| key(format!("CTR#{k}"), "CTR")).collect();
        let mut values = HashMap::new();
        for item in self.batch_get(ks, "BatchGetItem(counters)").await? {
            let live = get_n(&item, TTL_ATTR).is_none_or(|t| t > now.secs());
            if let (Some(pk), Some(v), true) = (get_s(&item, "pk"), get_n(&item, "n"), live) {
                values.insert(pk.trim_start_matches("CTR#").to_owned(), v as u64);
            }
        }
        Ok(keys.iter().map(|k| values.get(k).copied().unwrap_or(0)).collect())
    }

    async fn correlations(
        &self,
        provider: Provider,
        jobs: &[JobId],
    ) -> Result<Vec<CorrelationRecord>, StoreError> {
        let keys = jobs.iter().map(|j| key(corr_pk(provider, j), "CORR")).collect();
        let items = self.batch_get(keys, "BatchGetItem(correlations)").await?;
        items.iter().map(|item| decode_corr(provider, item)).collect()
    }
}

/// An audit entry's item (`RUN#<id> / AUDIT#<ms>#<unique>`).
fn audit_item(a: &AuditEntry) -> Item {
    let mut item = key(run_pk(&a.run_id), audit_sk(a.at.millis()));
    item.insert("body".into(), json(a));
    item
}

impl DynamoStore {
    /// Write runs (each with its first checkpoint) without conditions, 25 items per
    /// `BatchWriteItem`: restoring runs from an export, or seeding a load test. Never part of
    /// a run's own path, which only writes conditionally.
    pub async fn import_runs(&self, runs: &[RunRecord]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut items = Vec::with_capacity(runs.len() * 2);
        for run in runs {
            let mut cp = key(run_pk(&run.run_id), checkpoint_sk(run.version));
            cp.insert("body".into(), json(&CheckpointEntry::of(run, false)));
            items.push(self.meta_item(run));
            items.push(cp);
        }
        for chunk in items.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, StoreError>>()?;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| map("BatchWriteItem(import)", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Write an item that needs no condition (audit entries, safety verdicts).
    async fn put_unconditional(&self, item: Item, what: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| map(what, e))?;
        Ok(())
    }
}
