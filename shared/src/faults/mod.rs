//! Fault injection for crash tests. Decorators around the ports (store writes, queue sends and
//! acks, provider calls) pass every call through a named fault point, `<port>.<op>.before` or
//! `.after`; an armed point aborts the handler there by panicking, as a crash would: nothing
//! after it runs (no error handling, no retry bookkeeping), and the caller's own crash handling
//! (redelivery after the visibility timeout, a provider's callback retry) takes over. An `after`
//! point fires once the call has taken effect: the write is stored, the message sent.
//!
//! Only tests wire these decorators; production code never sees them.

mod ports;
mod providers;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use ports::{FaultyConsumer, FaultyQueue, FaultyStore};
pub use providers::faulty_providers;

/// A scheduled crash that never runs out.
const ALWAYS: u32 = u32::MAX;

/// The panic payload of an injected crash (tests recognise it).
pub const CRASH: &str = "injected crash at ";

/// How often each fault point was reached and how often it crashed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointStats {
    /// Times the point was reached.
    pub hits: u64,
    /// Times it crashed the handler.
    pub crashes: u64,
}

/// The fault points' switchboard: each reached point crashes with probability `p` (seeded), while
/// armed.
pub struct Faults {
    p: f64,
    rng: Mutex<StdRng>,
    armed: AtomicBool,
    stats: Mutex<BTreeMap<&'static str, PointStats>>,
    crashes: Mutex<Vec<Crash>>,
    delays: Mutex<BTreeMap<&'static str, std::time::Duration>>,
    scheduled: Mutex<BTreeMap<&'static str, u32>>,
    failing: Mutex<BTreeMap<&'static str, u32>>,
}

/// One injected crash: where, and what it was about (a run id, an intent key) when the point
/// knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The fault point.
    pub point: &'static str,
    /// The run id or intent key the call was about.
    pub tag: Option<String>,
}

impl Faults {
    /// Points crash with probability `p`, from `seed`; armed at once.
    pub fn random(p: f64, seed: u64) -> Self {
        Self {
            p,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            armed: AtomicBool::new(true),
            stats: Mutex::default(),
            crashes: Mutex::default(),
            delays: Mutex::default(),
            scheduled: Mutex::default(),
            failing: Mutex::default(),
        }
    }

    /// Make the next `n` calls through `point` fail with an error instead of running (the
    /// store's own failures: a DynamoDB outage, a full disk).
    pub fn fail_on(&self, point: &'static str, n: u32) {
        self.failing.lock().unwrap().insert(point, n);
    }

    /// Whether the call passing `point` now fails (counting it down).
    pub(crate) fn fails(&self, point: &'static str) -> bool {
        let mut f = self.failing.lock().unwrap();
        match f.get_mut(point) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Crash at the `n`th pass of `point` from now (1: the next one), once, armed or not.
    pub fn crash_on(&self, point: &'static str, n: u32) {
        self.scheduled.lock().unwrap().insert(point, n.max(1));
    }

    /// Crash at every pass of `point` from now on (a step that always dies there).
    pub fn crash_always(&self, point: &'static str) {
        self.scheduled.lock().unwrap().insert(point, ALWAYS);
    }

    /// Points that never crash, only wait where told ([`Faults::delay_at`]).
    pub fn none() -> Self {
        Self::random(0.0, 0)
    }

    /// Make every pass of `point` wait `d` first (a slow provider, a slow store), armed or not.
    pub fn delay_at(&self, point: &'static str, d: std::time::Duration) {
        self.delays.lock().unwrap().insert(point, d);
    }

    /// Every crash injected so far, in order.
    pub fn crashes(&self) -> Vec<Crash> {
        self.crashes.lock().unwrap().clone()
    }

    /// Stop (or resume) crashing; points still count hits.
    pub fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }

    /// Pass fault point `point`: counts the hit and panics if it was chosen to crash.
    pub fn point(&self, point: &'static str) {
        self.point_about(point, None)
    }

    /// [`Faults::point`] for a call about `tag` (recorded with the crash).
    pub fn point_about(&self, point: &'static str, tag: Option<&str>) {
        let scheduled = {
            let mut s = self.scheduled.lock().unwrap();
            match s.get_mut(point) {
                Some(n) if *n == ALWAYS => true,
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => s.remove(point).is_some(),
                None => false,
            }
        };
        let crash = scheduled
            || (self.armed.load(Ordering::SeqCst) && self.rng.lock().unwrap().random_bool(self.p));
        {
            let mut stats = self.stats.lock().unwrap();
            let s = stats.entry(point).or_default();
            s.hits += 1;
            s.crashes += crash as u64;
        }
        if crash {
            self.crashes.lock().unwrap().push(Crash { point, tag: tag.map(str::to_owned) });
            panic!("{CRASH}{point}");
        }
    }

    async fn pause(&self, point: &'static str) {
        let delay = self.delays.lock().unwrap().get(point).copied();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }

    /// Every point reached so far, by name.
    pub fn stats(&self) -> BTreeMap<&'static str, PointStats> {
        self.stats.lock().unwrap().clone()
    }

    /// The per-point table: hits and crashes.
    pub fn table(&self) -> String {
        let stats = self.stats();
        let mut out = format!("{:<36} {:>9} {:>8}\n", "fault point", "hits", "crashes");
        for (name, s) in &stats {
            out += &format!("{name:<36} {:>9} {:>8}\n", s.hits, s.crashes);
        }
        let (h, c) = stats.values().fold((0, 0), |(h, c), s| (h + s.hits, c + s.crashes));
        out += &format!("{:<36} {h:>9} {c:>8}\n", "total");
        out
    }
}

/// Silence the default panic message for injected crashes (other panics still print).
pub fn quiet_injected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if !msg.starts_with(CRASH) {
            default(info);
        }
    }));
}

/// Run `f` around fault points `<name>.before` / `<name>.after` (each may also wait first).
pub(crate) async fn around<T>(
    faults: &Faults,
    before: &'static str,
    after: &'static str,
    f: impl std::future::Future<Output = T>,
) -> T {
    around_about(faults, before, after, None, f).await
}

/// [`around`] for a call about `tag` (a run id, an intent key).
pub(crate) async fn around_about<T>(
    faults: &Faults,
    before: &'static str,
    after: &'static str,
    tag: Option<&str>,
    f: impl std::future::Future<Output = T>,
) -> T {
    faults.pause(before).await;
    faults.point_about(before, tag);
    let out = f.await;
    faults.pause(after).await;
    faults.point_about(after, tag);
    out
}
