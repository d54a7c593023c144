//! Webhook deliveries (PROTOCOL §7): parsing, signature verification with
//! rotation and replay protection, signing, and workflow continuations.

mod continuations;
mod event;
mod replay;
mod signature;

pub use continuations::{Continuation, Continuations};
pub use event::{DeliveredResponse, JobStatus, WebhookEvent};
pub use replay::ReplayGuard;
pub use signature::{
    sign, signature_header, verify_signature, verify_signature_strict, verify_with_secrets,
    SignatureReason, Verification, DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER,
};
