//! Job slots, shared fairly between customers. `--concurrency` jobs run at
//! once; while several customers have work, each may hold at most its share
//! (the slots divided among them, rounded up), so one customer's slow or
//! retrying jobs cannot keep another's queued. A job waiting (for pacing, or
//! between retries) gives its slot back meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

#[derive(Debug)]
pub struct Slots {
    capacity: usize,
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    /// Per customer: (jobs running, jobs waiting for a slot).
    customers: HashMap<String, (usize, usize)>,
}

impl State {
    /// A customer's share: the slots divided among the customers with work.
    fn share(&self, capacity: usize) -> usize {
        let active = self.customers.len().max(1);
        capacity.div_ceil(active).max(1)
    }
}

impl Slots {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for a slot for one of `customer`'s jobs.
    pub async fn acquire(self: &Arc<Self>, customer: &str) -> Slot {
        self.lock()
            .customers
            .entry(customer.to_owned())
            .or_default()
            .1 += 1;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = self.lock();
                let share = state.share(self.capacity);
                let free = state.running < self.capacity;
                let counts = state.customers.entry(customer.to_owned()).or_default();
                if free && counts.0 < share {
                    counts.0 += 1;
                    counts.1 -= 1;
                    state.running += 1;
                    return Slot {
                        slots: self.clone(),
                        customer: customer.to_owned(),
                    };
                }
            }
            freed.await;
        }
    }

    /// How many jobs of `customer` hold a slot now.
    #[cfg(test)]
    pub fn running(&self, customer: &str) -> usize {
        self.lock().customers.get(customer).map_or(0, |c| c.0)
    }
}

/// A held job slot; dropping it gives it back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    customer: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut state = self.slots.lock();
            state.running -= 1;
            if let Some(counts) = state.customers.get_mut(&self.customer) {
                counts.0 -= 1;
                if *counts == (0, 0) {
                    state.customers.remove(&self.customer);
                }
            }
        }
        // Shares change as customers come and go: every waiter checks again.
        self.slots.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Customer A holds both slots; B and a third job of A wait. The first
    /// slot freed goes to B (A is at its share, 1 of 2); when B is done, A
    /// may use both again.
    #[tokio::test]
    async fn a_second_customer_gets_its_share() {
        let slots = Slots::new(2);
        let a1 = slots.acquire("a").await;
        let _a2 = slots.acquire("a").await;
        let a3 = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire("a").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let b = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire("b").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(a1);
        let b = tokio::time::timeout(Duration::from_secs(1), b)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!a3.is_finished(), "A waits at its share while B has work");
        assert_eq!((slots.running("a"), slots.running("b")), (1, 1));
        drop(b);
        let _a3 = tokio::time::timeout(Duration::from_secs(1), a3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(slots.running("a"), 2);
    }
}
