//! Getting a text to a phone: a Twilio-compatible REST client (Twilio, SignalWire, a local mock) or the
//! `log` provider, which records texts without any network.

pub mod signature;
mod twilio;

use std::time::Duration;

use crate::domain::phone::Masked;

pub use twilio::{TwilioClient, TwilioCredentials};

/// Where texts are sent from: one number, or a Twilio Messaging Service that picks from a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    Number(String),
    MessagingService(String),
}

impl Sender {
    /// The key outbound rate limits are counted under.
    pub fn rate_key(&self) -> &str {
        match self {
            Sender::Number(number) | Sender::MessagingService(number) => number,
        }
    }
}

/// One text to hand to the provider.
#[derive(Debug, Clone)]
pub struct OutgoingText<'a> {
    pub to: &'a str,
    pub body: &'a str,
    /// Where the provider should report delivery status; carries the outbox id.
    pub status_callback: Option<String>,
}

/// The provider took the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub sid: String,
    /// The status in the create response (`queued`, `accepted`…), when the provider gave one.
    pub status: Option<String>,
}

/// Why the provider did not take a text, sorted by what to do about it (docs/provider-protocol.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: 429, 5xx, a timeout, a dropped connection.
    #[error("temporary failure: {reason}")]
    Retryable {
        reason: String,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The recipient replied STOP to this sender (21610): record the opt-out, send nothing more.
    #[error("recipient has opted out (error {code})")]
    OptedOut { code: i64 },
    /// The number cannot receive texts (21211 invalid, 21614 not a mobile).
    #[error("recipient number is invalid (error {code})")]
    InvalidNumber { code: i64 },
    /// Our credentials or sender are wrong (401, 20003, 21606…): every text would fail the same way, so
    /// the text waits while someone fixes the configuration.
    #[error("provider configuration problem (HTTP {status}, error {code:?}): {message}")]
    Misconfigured {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Refused for good for this text.
    #[error("rejected (HTTP {status}, error {code:?}): {message}")]
    Rejected {
        status: u16,
        code: Option<i64>,
        message: String,
    },
}

impl SendError {
    pub fn code(&self) -> Option<i64> {
        match self {
            SendError::OptedOut { code } | SendError::InvalidNumber { code } => Some(*code),
            SendError::Misconfigured { code, .. } | SendError::Rejected { code, .. } => *code,
            SendError::Retryable { .. } => None,
        }
    }
}

/// Sorts a failed create by HTTP status and Twilio error code.
pub fn classify(status: u16, code: Option<i64>, message: String, retry_after: Option<Duration>) -> SendError {
    match (status, code) {
        (_, Some(21610)) => SendError::OptedOut { code: 21610 },
        (_, Some(code @ (21211 | 21614))) => SendError::InvalidNumber { code },
        (429, _) | (_, Some(20429)) | (_, Some(21611)) => SendError::Retryable {
            reason: format!("throttled (HTTP {status})"),
            retry_after,
        },
        (500..=599, _) => SendError::Retryable {
            reason: format!("provider error (HTTP {status})"),
            retry_after,
        },
        (401 | 403, _) | (_, Some(20003 | 21606 | 21608 | 30034)) => SendError::Misconfigured { status, code, message },
        _ => SendError::Rejected { status, code, message },
    }
}

/// The configured way of sending.
#[derive(Debug, Clone)]
pub enum Provider {
    Twilio(TwilioClient),
    /// Writes each text to the log (number masked, body at debug only) and reports it accepted.
    Log,
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Twilio(_) => "twilio",
            Provider::Log => "log",
        }
    }

    pub fn sender(&self) -> Option<&Sender> {
        match self {
            Provider::Twilio(client) => Some(client.sender()),
            Provider::Log => None,
        }
    }

    pub async fn send(&self, text: &OutgoingText<'_>) -> Result<Accepted, SendError> {
        match self {
            Provider::Twilio(client) => client.send(text).await,
            Provider::Log => {
                let sid = format!("LOG{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
                tracing::info!(to = %Masked(text.to), sid, "log provider recorded a text");
                tracing::debug!(body = text.body, sid, "log provider text body");
                Ok(Accepted {
                    sid,
                    status: Some("sent".into()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_failure_lands_in_its_class() {
        let class = |status, code| classify(status, code, String::new(), None);
        assert_eq!(class(400, Some(21610)), SendError::OptedOut { code: 21610 });
        assert_eq!(class(400, Some(21211)), SendError::InvalidNumber { code: 21211 });
        assert_eq!(class(400, Some(21614)), SendError::InvalidNumber { code: 21614 });
        assert!(matches!(class(429, Some(20429)), SendError::Retryable { .. }));
        assert!(matches!(class(400, Some(21611)), SendError::Retryable { .. }));
        assert!(matches!(class(500, None), SendError::Retryable { .. }));
        assert!(matches!(class(503, Some(20500)), SendError::Retryable { .. }));
        assert!(matches!(class(401, Some(20003)), SendError::Misconfigured { .. }));
        assert!(matches!(class(400, Some(21606)), SendError::Misconfigured { .. }));
        assert!(matches!(class(400, Some(21617)), SendError::Rejected { .. }));
        assert!(matches!(class(400, Some(21408)), SendError::Rejected { .. }));
        assert!(matches!(class(422, None), SendError::Rejected { .. }));
    }
}
