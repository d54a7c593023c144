//! A client's webhook endpoint: the receiver that releases follow-ups and
//! wakes waits, and the operation that runs a released follow-up.

use super::{Client, Shared};
use crate::blocking::Run;
use crate::error::Result;
use crate::operation::{Action, Operation, Reply};
use crate::webhook::{Continuations, Received, WebhookReceiver};

use super::execution::ClientExecution;

/// A webhook endpoint bound to its [`Client`] (see [`Client::webhook_receiver`]),
/// or a stand-alone one ([`ClientReceiver::standalone`]).
#[derive(Debug)]
pub struct ClientReceiver {
    pub(super) receiver: WebhookReceiver,
    /// `None` for a stand-alone endpoint.
    pub(super) client: Option<Client>,
    /// What a stand-alone endpoint resolves against: never any follow-up.
    pub(super) no_follow_ups: Continuations,
}

impl ClientReceiver {
    /// An endpoint of no client: it verifies, refuses replays and parses,
    /// and has no follow-ups to run nor waits to end. Its deliveries send
    /// nothing.
    pub fn standalone(primary_secret: &str, secondary_secret: Option<&str>) -> Result<Self> {
        Ok(Self {
            receiver: WebhookReceiver::new(primary_secret, secondary_secret.map(str::to_owned))?,
            client: None,
            no_follow_ups: Continuations::new(1),
        })
    }

    /// How far (seconds) a signature's timestamp may be from now
    /// (default [`crate::webhook::DEFAULT_TOLERANCE_SECS`]).
    #[must_use]
    pub fn tolerance_secs(mut self, seconds: u64) -> Self {
        self.receiver = self.receiver.tolerance_secs(seconds);
        self
    }

    /// Decide what one delivery means (see [`WebhookReceiver::receive`]); a
    /// new, authentic event also releases the job's follow-up and wakes the
    /// job's waiters.
    pub fn receive(&mut self, body: &[u8], signature: Option<&str>, now_secs: i64) -> Received {
        let Some(client) = &self.client else {
            return self
                .receiver
                .receive(body, signature, now_secs, &mut self.no_follow_ups);
        };
        let (received, woken) = {
            let mut shared = client.shared();
            let Shared {
                continuations,
                results,
            } = &mut *shared;
            let received = self
                .receiver
                .receive(body, signature, now_secs, continuations);
            let woken = match &received.event {
                Some(event) => results.deliver(event.clone()),
                None => Vec::new(),
            };
            (received, woken)
        };
        for waker in woken {
            waker.wake();
        }
        received
    }

    /// Receive one delivery, then run the follow-up it releases (if any)
    /// through the same host transport: the whole of a webhook handler.
    pub fn handle(&mut self, body: &[u8], signature: Option<&str>, now_secs: i64) -> Delivery {
        let mut received = self.receive(body, signature, now_secs);
        let follow_up = match (received.follow_up.take(), &self.client) {
            (Some(step), Some(client)) => Some(client.execute(&step)),
            _ => None,
        };
        Delivery {
            received: Some(received),
            follow_up,
            started: false,
        }
    }
}

/// [`ClientReceiver::handle`]'s operation: it sends only the follow-up's
/// requests, and ends with what to answer the sender.
#[derive(Debug)]
pub struct Delivery {
    received: Option<Received>,
    follow_up: Option<Result<ClientExecution>>,
    started: bool,
}

/// A handled delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// What to answer the sender, the signature check and the event (its
    /// `follow_up` field is empty: the step ran, see below).
    pub received: Received,
    /// The follow-up's run, when the delivery released one. Its failure is
    /// reported here and does not change the answer to the sender.
    pub follow_up: Option<Result<Run>>,
}

impl Delivery {
    fn end(&mut self, follow_up: Option<Result<Run>>) -> Action<Handled> {
        match self.received.take() {
            Some(received) => Action::Done(Ok(Handled {
                received,
                follow_up,
            })),
            None => Action::Done(Err(crate::Error::misuse(
                "the delivery was already handled",
            ))),
        }
    }

    fn follow(&mut self, action: Action<Run>) -> Action<Handled> {
        match action {
            Action::Send(request) => Action::Send(request),
            Action::Done(result) => {
                self.follow_up = None;
                self.end(Some(result))
            }
        }
    }
}

impl Operation for Delivery {
    type Output = Handled;

    fn start(&mut self) -> Action<Handled> {
        if std::mem::replace(&mut self.started, true) {
            return Action::Done(Err(crate::Error::misuse(
                "the delivery was already started",
            )));
        }
        match self.follow_up.take() {
            None => self.end(None),
            Some(Err(error)) => self.end(Some(Err(error))),
            Some(Ok(mut execution)) => {
                let action = execution.start();
                self.follow_up = Some(Ok(execution));
                self.follow(action)
            }
        }
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Handled> {
        let Some(Ok(execution)) = self.follow_up.as_mut() else {
            return Action::Done(Err(crate::Error::misuse(
                "no request of this delivery is in flight",
            )));
        };
        let action = execution.feed(now_ms, reply);
        self.follow(action)
    }
}
