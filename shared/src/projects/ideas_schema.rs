//! The JSON Schema of a project's ideation output. Every project answers in one shape — a
//! `title`, one `prompts` entry per clip, optional `overlays` (one per clip), a `caption` —
//! and its schema may say more about each (lengths, patterns, enums, descriptions the model
//! reads). The run's clip count is added to the arrays when asking, so one schema serves
//! every count. The same schema checks what the LLM answers and what a reviewer edits. Its
//! language is the JSON Schema keywords that bound strings and lists (`schema_subset.rs`).

use serde_json::{Value, json};

use super::schema_subset::{KEYWORDS, Schema};
use crate::domain::Ideas;

/// The properties an ideas schema may describe; `title`, `prompts` and `caption` it must.
const PROPERTIES: [&str; 4] = ["title", "prompts", "overlays", "caption"];
const REQUIRED: [&str; 3] = ["title", "prompts", "caption"];
/// The longest schema kept in a run's record.
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024;

/// The schema of a project that gives none (overlays optional: a run without them renders
/// the title and caption only).
pub fn default_ideas_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": { "type": "string", "description": "A short title for the video" },
            "prompts": {
                "type": "array",
                "items": { "type": "string" },
                "description": "One visual prompt per clip, in order"
            },
            "overlays": {
                "type": "array",
                "items": { "type": "string" },
                "description": "One short on-screen text per clip, in order (a few words each)"
            },
            "caption": { "type": "string", "description": "The caption to publish with" }
        },
        "required": ["title", "prompts", "caption"],
        "additionalProperties": false
    })
}

/// `schema`, or the default ideas schema when the project gives none.
pub fn schema_or_default(schema: Option<&Value>) -> std::borrow::Cow<'_, Value> {
    match schema {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(default_ideas_schema()),
    }
}

/// Check that `schema` is a JSON Schema of the ideas shape: it compiles (keywords of
/// [`super::schema_subset::KEYWORDS`] only), describes an object
/// with only the ideas' properties, requires the three that every run needs and admits no
/// others. The message says what is wrong.
pub fn check_ideas_schema(schema: &Value) -> Result<(), String> {
    if schema.to_string().len() > MAX_SCHEMA_BYTES {
        return Err(format!("is longer than {MAX_SCHEMA_BYTES} bytes"));
    }
    Schema::compile(schema).map_err(|e| format!("is not a valid ideas schema: {e}"))?;
    if schema.get("type") != Some(&json!("object")) {
        return Err("must describe an object (\"type\": \"object\")".into());
    }
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("must list the ideas' \"properties\"")?;
    if let Some(other) = props.keys().find(|k| !PROPERTIES.contains(&k.as_str())) {
        return Err(format!("property {other:?} is not one of {}", PROPERTIES.join(", ")));
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(missing) = REQUIRED.iter().find(|r| !required.contains(r)) {
        return Err(format!("must require {missing:?}"));
    }
    if schema.get("additionalProperties") != Some(&json!(false)) {
        return Err("must say \"additionalProperties\": false".into());
    }
    for array in ["prompts", "overlays"] {
        if let Some(p) = props.get(array)
            && p.get("type") != Some(&json!("array"))
        {
            return Err(format!("{array:?} must be an array (one entry per clip)"));
        }
    }
    Ok(())
}

/// `schema` with the run's clip count on its arrays (`minItems` = `maxItems` = `clips`).
pub fn for_clips(schema: &Value, clips: u32) -> Value {
    let mut s = schema.clone();
    for array in ["prompts", "overlays"] {
        if let Some(p) =
            s.pointer_mut(&format!("/properties/{array}")).and_then(Value::as_object_mut)
        {
            p.insert("minItems".into(), json!(clips));
            p.insert("maxItems".into(), json!(clips));
        }
    }
    s
}

/// Keywords of an ideas schema a strict structured-output request may not carry (OpenAI's
/// supported subset: developers.openai.com/api/docs/guides/structured-outputs#supported-schemas):
/// they stay in the schema checked here after the answer.
const NOT_STRICT: [&str; 8] =
    ["minLength", "maxLength", "minimum", "maximum", "title", "examples", "$comment", "$schema"];

fn strict_keyword(k: &str) -> bool {
    KEYWORDS.contains(&k) && !NOT_STRICT.contains(&k)
}

/// `schema` reduced to what strict structured output accepts (recursively), every object's
/// properties required as strict mode demands (an optional one may come back empty).
pub fn strict_subset(schema: &Value) -> Value {
    let mut reduced = reduce(schema);
    require_all(&mut reduced);
    reduced
}

fn require_all(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if let Some(Value::Object(props)) = map.get("properties") {
        let all: Vec<Value> = props.keys().map(|k| json!(k)).collect();
        map.insert("required".into(), Value::Array(all));
    }
    for (k, v) in map.iter_mut() {
        match (k.as_str(), v) {
            ("properties", Value::Object(m)) => m.values_mut().for_each(require_all),
            ("items", v) => require_all(v),
            _ => {}
        }
    }
}

fn reduce(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| strict_keyword(k))
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        // A map of names to schemas: keep every name.
                        "properties" => match v {
                            Value::Object(m) => Value::Object(
                                m.iter().map(|(n, s)| (n.clone(), reduce(s))).collect(),
                            ),
                            other => other.clone(),
                        },
                        "items" => reduce(v),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The ideas in `answer` if it keeps `schema` (the default one when `None`) for `clips` clips
/// and every bound a run keeps; otherwise what is wrong, naming the place (`/prompts/2: …`).
pub fn validate_ideas(schema: Option<&Value>, answer: &Value, clips: u32) -> Result<Ideas, String> {
    let schema = Schema::compile(&for_clips(&schema_or_default(schema), clips))
        .map_err(|e| format!("the project's ideas schema is not valid: {e}"))?;
    let errors = schema.errors(answer, 3);
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let ideas: Ideas = serde_json::from_value(answer.clone()).map_err(|e| e.to_string())?;
    ideas.check(clips)?;
    Ok(ideas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(prompts: usize, overlay: &str) -> Value {
        json!({
            "title": "t",
            "prompts": vec!["a prompt"; prompts],
            "overlays": vec![overlay; prompts],
            "caption": "c",
        })
    }

    #[test]
    fn the_default_schema_is_an_ideas_schema_and_takes_good_ideas() {
        check_ideas_schema(&default_ideas_schema()).unwrap();
        let ideas = validate_ideas(None, &answer(3, "one"), 3).unwrap();
        assert_eq!(ideas.prompts.len(), 3);
    }

    #[test]
    fn the_clip_count_is_part_of_the_schema() {
        let err = validate_ideas(None, &answer(2, "one"), 3).unwrap_err();
        assert!(err.contains("/prompts"), "{err}");
    }

    #[test]
    fn a_project_schema_bounds_what_the_default_does_not() {
        let mut s = default_ideas_schema();
        s["properties"]["overlays"]["items"]["maxLength"] = json!(5);
        check_ideas_schema(&s).unwrap();
        validate_ideas(Some(&s), &answer(2, "short"), 2).unwrap();
        let err = validate_ideas(Some(&s), &answer(2, "far too long"), 2).unwrap_err();
        assert!(err.starts_with("/overlays/0:"), "{err}");
        // The strict request leaves the length out; the check after the answer keeps it.
        let strict = strict_subset(&for_clips(&s, 2));
        assert!(strict.pointer("/properties/overlays/items/maxLength").is_none());
        assert_eq!(strict.pointer("/properties/overlays/maxItems"), Some(&json!(2)));
        let mut required: Vec<&str> =
            strict["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        required.sort_unstable();
        assert_eq!(required, ["caption", "overlays", "prompts", "title"], "strict: all required");
    }

    #[test]
    fn schemas_of_another_shape_are_refused_with_the_reason() {
        let mut extra = default_ideas_schema();
        extra["properties"]["mood"] = json!({ "type": "string" });
        assert!(check_ideas_schema(&extra).unwrap_err().contains("\"mood\""));
        let mut loose = default_ideas_schema();
        loose["required"] = json!(["title", "prompts"]);
        assert!(check_ideas_schema(&loose).unwrap_err().contains("caption"));
        let broken = json!({ "type": "object", "properties": { "title": { "type": 12 } } });
        assert!(check_ideas_schema(&broken).unwrap_err().contains("not a valid ideas schema"));
        let mut general = default_ideas_schema();
        general["properties"]["title"] = json!({ "anyOf": [{ "type": "string" }] });
        let err = check_ideas_schema(&general).unwrap_err();
        assert!(
            err.contains("/properties/title/anyOf: keyword \"anyOf\" is not supported"),
            "{err}"
        );
    }
}
