//! The run store on one DynamoDB table (layout in `keys.rs`). Every run change is a conditional
//! write on `version`; checkpoints are `TransactWriteItems` of the record, its history entry and
//! an optional audit entry.

mod codec;
mod errors;
mod keys;
mod store;

pub use store::DynamoStore;
