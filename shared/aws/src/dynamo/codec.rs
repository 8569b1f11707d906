//! Attribute helpers: records are stored as a JSON `body` plus the few top-level attributes that
//! conditions and indexes need.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use myloware::ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn json<T: Serialize>(v: &T) -> AttributeValue {
    AttributeValue::S(serde_json::to_string(v).expect("domain types serialise"))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

pub fn decode<T: DeserializeOwned>(item: &Item, name: &str) -> Result<Option<T>, StoreError> {
    match get_s(item, name) {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw).map(Some).map_err(|e| StoreError::Corrupt {
            key: format!(
                "{}/{}",
                get_s(item, "pk").unwrap_or("?"),
                get_s(item, "sk").unwrap_or("?")
            ),
            why: format!("{name}: {e}"),
        }),
    }
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}
