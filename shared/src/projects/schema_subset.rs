//! The part of JSON Schema an ideas schema may use, compiled once and checked against answers.
//!
//! An ideas schema describes four known properties, each a string or an array of strings, so
//! its language is the keywords that bound those ([`KEYWORDS`]), with JSON Schema's meaning
//! (draft 2020-12; lengths count characters). A keyword outside the list is refused when the
//! project is loaded, never ignored: a bound the author wrote is a bound the run keeps. (A
//! general validator cost every function about a megabyte of binary for keywords no ideas
//! schema needs.)

use std::fmt::Write;

use serde_json::{Map, Value};

/// Every keyword a schema here may hold: the bounds checked, then annotations.
pub const KEYWORDS: [&str; 19] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "description",
    "title",
    "examples",
    "$comment",
    "$schema",
];

/// A JSON type a schema may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

impl JsonType {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "object" => Self::Object,
            "array" => Self::Array,
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "null" => Self::Null,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Null => "null",
        }
    }

    fn admits(self, v: &Value) -> bool {
        match self {
            Self::Object => v.is_object(),
            Self::Array => v.is_array(),
            Self::String => v.is_string(),
            Self::Integer => v.as_f64().is_some_and(|n| n.fract() == 0.0),
            Self::Number => v.is_number(),
            Self::Boolean => v.is_boolean(),
            Self::Null => v.is_null(),
        }
    }
}

/// A compiled schema: what [`Schema::errors`] checks.
#[derive(Debug, Default)]
pub struct Schema {
    types: Vec<JsonType>,
    properties: Vec<(String, Schema)>,
    required: Vec<String>,
    closed: bool,
    items: Option<Box<Schema>>,
    one_of_values: Option<Vec<Value>>,
    constant: Option<Value>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<(String, regex_lite::Regex)>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

impl Schema {
    /// Compile `schema`; the error names the place (`/properties/title/maxLength: …`).
    pub fn compile(schema: &Value) -> Result<Self, String> {
        compile_at(schema, "")
    }

    /// Up to `limit` reasons `instance` does not keep the schema, each naming the place
    /// (`/prompts/2: …`); empty when it does.
    pub fn errors(&self, instance: &Value, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.check(instance, &mut String::new(), &mut out, limit);
        out
    }

    fn check(&self, v: &Value, at: &mut String, out: &mut Vec<String>, limit: usize) {
        if !self.types.is_empty() && !self.types.iter().any(|t| t.admits(v)) {
            let names: Vec<&str> = self.types.iter().map(|t| t.name()).collect();
            let why = format!("{} is not of type {}", shown(v), names.join(" or "));
            return push(out, limit, at, why);
        }
        if let Some(c) = self.constant.as_ref().filter(|c| *c != v) {
            push(out, limit, at, format!("{} is not {c}", shown(v)));
        }
        if let Some(values) = self.one_of_values.as_ref().filter(|vs| !vs.contains(v)) {
            let why = format!("{} is not one of {}", shown(v), Value::from(values.clone()));
            push(out, limit, at, why);
        }
        match v {
            Value::String(s) => self.check_string(s, v, at, out, limit),
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or(f64::NAN);
                if let Some(min) = self.minimum.filter(|m| n < *m) {
                    push(out, limit, at, format!("{} is less than {min}", shown(v)));
                }
                if let Some(max) = self.maximum.filter(|m| n > *m) {
                    push(out, limit, at, format!("{} is greater than {max}", shown(v)));
                }
            }
            Value::Array(a) => {
                let n = a.len() as u64;
                if let Some(min) = self.min_items.filter(|m| n < *m) {
                    push(out, limit, at, format!("has {n} items, fewer than {min}"));
                }
                if let Some(max) = self.max_items.filter(|m| n > *m) {
                    push(out, limit, at, format!("has {n} items, more than {max}"));
                }
                if let Some(items) = &self.items {
                    for (i, item) in a.iter().enumerate() {
                        nested(at, &i.to_string(), |at| items.check(item, at, out, limit));
                    }
                }
            }
            Value::Object(o) => self.check_object(o, at, out, limit),
            _ => {}
        }
    }

    fn check_string(&self, s: &str, v: &Value, at: &str, out: &mut Vec<String>, limit: usize) {
        let n = s.chars().count() as u64;
        if let Some(min) = self.min_length.filter(|m| n < *m) {
            push(out, limit, at, format!("{} is shorter than {min} characters", shown(v)));
        }
        if let Some(max) = self.max_length.filter(|m| n > *m) {
            push(out, limit, at, format!("{} is longer than {max} characters", shown(v)));
        }
        if let Some((source, _)) = self.pattern.as_ref().filter(|(_, re)| !re.is_match(s)) {
            push(out, limit, at, format!("{} does not match {source:?}", shown(v)));
        }
    }

    fn check_object(
        &self,
        o: &Map<String, Value>,
        at: &mut String,
        out: &mut Vec<String>,
        limit: usize,
    ) {
        for name in self.required.iter().filter(|r| !o.contains_key(*r)) {
            push(out, limit, at, format!("{name:?} is a required property"));
        }
        for (name, value) in o {
            match self.properties.iter().find(|(p, _)| p == name) {
                Some((_, s)) => nested(at, name, |at| s.check(value, at, out, limit)),
                None if self.closed => {
                    push(out, limit, at, format!("additional property {name:?} is not allowed"));
                }
                None => {}
            }
        }
    }
}

/// Keep `why` (at `at`) unless `limit` reasons are kept already.
fn push(out: &mut Vec<String>, limit: usize, at: &str, why: String) {
    if out.len() < limit {
        out.push(if at.is_empty() { why } else { format!("{at}: {why}") });
    }
}

/// `at` with `/segment` while `f` runs (JSON Pointer escaping of `~` and `/`).
fn nested(at: &mut String, segment: &str, f: impl FnOnce(&mut String)) {
    let len = at.len();
    at.push('/');
    at.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    f(at);
    at.truncate(len);
}

/// A value as an error shows it: long ones cut to their start.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 60 {
        return s;
    }
    let mut cut: String = s.chars().take(60).collect();
    cut.push('…');
    cut
}

fn compile_at(schema: &Value, at: &str) -> Result<Schema, String> {
    let here = |key: &str| format!("{at}/{key}");
    let map = match schema {
        Value::Object(m) => m,
        Value::Bool(true) => return Ok(Schema::default()),
        _ => {
            return Err(format!(
                "{}: a schema must be an object",
                if at.is_empty() { "/" } else { at }
            ));
        }
    };
    let mut s = Schema::default();
    for (key, v) in map {
        let bad = |want: &str| format!("{}: must be {want}", here(key));
        match key.as_str() {
            "type" => {
                let names: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                for n in names {
                    let t = n.as_str().and_then(JsonType::parse);
                    s.types.push(t.ok_or_else(|| bad("a JSON type name or a list of them"))?);
                }
            }
            "properties" => {
                let props = v.as_object().ok_or_else(|| bad("an object of schemas"))?;
                for (name, p) in props {
                    s.properties
                        .push((name.clone(), compile_at(p, &format!("{}/{name}", here(key)))?));
                }
            }
            "required" => {
                let names = v.as_array().ok_or_else(|| bad("a list of property names"))?;
                for n in names {
                    s.required
                        .push(n.as_str().ok_or_else(|| bad("a list of property names"))?.into());
                }
            }
            "additionalProperties" => {
                s.closed = !v.as_bool().ok_or_else(|| bad("true or false"))?;
            }
            "items" => s.items = Some(Box::new(compile_at(v, &here(key))?)),
            "enum" => s.one_of_values = Some(v.as_array().ok_or_else(|| bad("a list"))?.clone()),
            "const" => s.constant = Some(v.clone()),
            "minLength" => s.min_length = Some(v.as_u64().ok_or_else(|| bad("a count"))?),
            "maxLength" => s.max_length = Some(v.as_u64().ok_or_else(|| bad("a count"))?),
            "minItems" => s.min_items = Some(v.as_u64().ok_or_else(|| bad("a count"))?),
            "maxItems" => s.max_items = Some(v.as_u64().ok_or_else(|| bad("a count"))?),
            "minimum" => s.minimum = Some(v.as_f64().ok_or_else(|| bad("a number"))?),
            "maximum" => s.maximum = Some(v.as_f64().ok_or_else(|| bad("a number"))?),
            "pattern" => {
                let source = v.as_str().ok_or_else(|| bad("a regular expression"))?;
                let re = regex_lite::Regex::new(source).map_err(|e| {
                    format!("{}: {source:?} is not a regular expression: {e}", here(key))
                })?;
                s.pattern = Some((source.to_owned(), re));
            }
            "description" | "title" | "$comment" | "$schema" | "examples" => {}
            other => {
                let mut why =
                    format!("{}: keyword {other:?} is not supported here; use", here(other));
                for (i, k) in KEYWORDS.iter().enumerate() {
                    let _ = write!(why, "{}{k}", if i == 0 { " " } else { ", " });
                }
                return Err(why);
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(schema: Value, v: Value) -> Vec<String> {
        Schema::compile(&schema).unwrap().errors(&v, 10)
    }

    #[test]
    fn each_bound_is_checked_and_named_with_its_place() {
        let s = json!({
            "type": "object",
            "properties": {
                "a": { "type": "string", "minLength": 2, "maxLength": 4, "pattern": "^x" },
                "b": { "type": "array", "minItems": 1, "maxItems": 2,
                       "items": { "enum": ["p", "q"] } },
                "c": { "const": 3 },
                "d": { "type": ["integer", "null"], "minimum": 1, "maximum": 9 }
            },
            "required": ["a", "e"],
            "additionalProperties": false
        });
        let good = json!({"a": "xy", "b": ["p"], "c": 3, "d": null, "e": 1});
        assert_eq!(errors(s.clone(), good), ["additional property \"e\" is not allowed"]);
        let got = errors(s, json!({"a": "y", "b": ["p", "r", "q"], "c": 4, "d": 10.5, "x": 1}));
        let want = [
            "\"e\" is a required property",
            "/a: \"y\" is shorter than 2 characters",
            "/a: \"y\" does not match \"^x\"",
            "/b: has 3 items, more than 2",
            "/b/1: \"r\" is not one of [\"p\",\"q\"]",
            "/c: 4 is not 3",
            "/d: 10.5 is not of type integer or null",
            "additional property \"x\" is not allowed",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn lengths_count_characters_and_long_values_are_cut() {
        let s = json!({ "type": "string", "maxLength": 3 });
        assert!(errors(s.clone(), json!("ééé")).is_empty());
        let long = "z".repeat(100);
        let e = errors(s, json!(long));
        assert!(e[0].contains('…') && e[0].len() < 100, "{e:?}");
    }

    #[test]
    fn the_error_count_is_bounded() {
        let s = json!({ "type": "array", "items": { "type": "string" } });
        assert_eq!(Schema::compile(&s).unwrap().errors(&json!([1, 2, 3, 4]), 2).len(), 2);
    }

    #[test]
    fn schemas_outside_the_subset_are_refused_with_the_place() {
        let e = Schema::compile(&json!({ "properties": { "t": { "anyOf": [] } } })).unwrap_err();
        assert!(e.starts_with("/properties/t/anyOf: keyword \"anyOf\" is not supported"), "{e}");
        assert!(e.contains("maxLength"), "{e}");
        let e = Schema::compile(&json!({ "type": 12 })).unwrap_err();
        assert!(e.starts_with("/type: must be"), "{e}");
        let e = Schema::compile(&json!({ "pattern": "(" })).unwrap_err();
        assert!(e.contains("not a regular expression"), "{e}");
        let e = Schema::compile(&json!({ "maxLength": -1 })).unwrap_err();
        assert!(e.contains("a count"), "{e}");
    }
}
