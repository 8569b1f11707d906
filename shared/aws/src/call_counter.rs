//! Counting the requests the SDK clients send, by service and operation: an SDK interceptor, so
//! the figures are what went over the wire (retries included), not an estimate. Benchmarks and
//! tests attach one with [`crate::AwsClients::counted`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Requests sent, by `(service, operation)`. Cheap to clone; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<(String, String), u64>>>);

impl CallCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<(String, String), u64> {
        self.0.lock().unwrap().clone()
    }

    /// All requests so far.
    pub fn total(&self) -> u64 {
        self.0.lock().unwrap().values().sum()
    }

    /// Count one request sent without an SDK client (`ssm.rs`).
    pub(crate) fn record(&self, service: &str, operation: &str) {
        let key = (service.to_owned(), operation.to_owned());
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }

    /// The counts since `before` (a snapshot taken earlier), without zero rows.
    pub fn since(
        &self,
        before: &BTreeMap<(String, String), u64>,
    ) -> BTreeMap<(String, String), u64> {
        self.snapshot()
            .into_iter()
            .map(|(k, v)| {
                let d = v - before.get(&k).copied().unwrap_or(0);
                (k, d)
            })
            .filter(|(_, d)| *d > 0)
            .collect()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "MylowareCallCounter"
    }

    /// Once per attempt, just before the request is sent.
    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, op) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_owned(), m.name().to_owned()),
            None => ("unknown".to_owned(), "unknown".to_owned()),
        };
        self.record(&service, &op);
        Ok(())
    }
}
