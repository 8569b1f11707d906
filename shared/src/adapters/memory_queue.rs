//! A FIFO of step messages with a switch that makes sends fail (a lost enqueue). Delayed messages
//! (wait timers) wait in a separate list until a test takes them, so pumping the queue ends.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::StepMessage;
use crate::ports::{QueueError, StepQueue};

/// An in-memory step queue.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    messages: Mutex<VecDeque<StepMessage>>,
    delayed: Mutex<Vec<(Duration, StepMessage)>>,
    sent: AtomicUsize,
    fail_sends: AtomicUsize,
}

impl MemoryQueue {
    /// Take the oldest message.
    pub fn pop(&self) -> Option<StepMessage> {
        self.messages.lock().unwrap().pop_front()
    }
    /// Put a message back (redelivery).
    pub fn push(&self, m: StepMessage) {
        self.messages.lock().unwrap().push_back(m);
    }
    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Take the delayed messages (with their delays), oldest first.
    pub fn take_delayed(&self) -> Vec<(Duration, StepMessage)> {
        std::mem::take(&mut *self.delayed.lock().unwrap())
    }
    /// Put delayed messages back.
    pub fn push_delayed(&self, msgs: Vec<(Duration, StepMessage)>) {
        self.delayed.lock().unwrap().extend(msgs);
    }
    /// Messages sent so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
    /// Make the next `n` sends fail.
    pub fn fail_next_sends(&self, n: usize) {
        self.fail_sends.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl StepQueue for MemoryQueue {
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(Some(self.len() as u64))
    }

    async fn send(&self, msg: &StepMessage, delay: Duration) -> Result<(), QueueError> {
        let failing = self
            .fail_sends
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(QueueError::Send("injected send failure".into()));
        }
        self.sent.fetch_add(1, Ordering::SeqCst);
        if delay.is_zero() {
            self.messages.lock().unwrap().push_back(msg.clone());
        } else {
            self.delayed.lock().unwrap().push((delay, msg.clone()));
        }
        Ok(())
    }
}
