//! Webhook deliveries (PROTOCOL §7): parsing, signature verification with
//! rotation and replay protection, signing, workflow continuations, and the
//! whole receiving of a delivery ([`WebhookReceiver`]).

mod continuations;
mod event;
mod receiver;
mod replay;
mod signature;

pub use continuations::{Continuation, Continuations};
pub use event::{DeliveredResponse, JobStatus, WebhookEvent};
pub use receiver::{Received, WebhookReceiver};
pub use replay::ReplayGuard;
pub use signature::{
    sign, signature_header, verify_signature, verify_signature_strict, verify_with_secrets,
    SignatureReason, Verification, DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER,
};
