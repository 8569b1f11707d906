//! SDK errors → the engine's `StoreError`, at the boundary.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use myloware::ports::StoreError;

/// Map any DynamoDB SDK error: conditional failures, throttling, everything else.
pub fn map<E, R>(op: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or_default().to_owned();
    let msg = match &e {
        SdkError::ServiceError(s) => {
            format!("{op}: {code}: {}", s.err().message().unwrap_or_default())
        }
        other => format!("{op}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(other)),
    };
    match code.as_str() {
        "ConditionalCheckFailedException" => StoreError::ConditionFailed(msg),
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded" => StoreError::Throttled(msg),
        "TransactionCanceledException" if msg.contains("ConditionalCheckFailed") => {
            StoreError::ConditionFailed(msg)
        }
        "TransactionCanceledException" | "TransactionConflictException" => {
            StoreError::Throttled(msg)
        }
        _ => StoreError::Unavailable(msg),
    }
}
