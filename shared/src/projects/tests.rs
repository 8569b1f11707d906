use super::*;

fn err(text: &str) -> ProjectError {
    Project::parse("projects/p.toml", text).expect_err("refused")
}

const GOOD: &str = r#"name = "p"
description = "a project"

[ideation]
persona = "someone"
system_prompt = "plan it"

[video]
clips = 3
seconds = 8
aspect_ratio = "9:16"

[render]
template = "motivational"
duration_seconds = 24

[publish]
platforms = ["tiktok"]
caption_max_chars = { tiktok = 150 }
"#;

#[test]
fn a_good_project_reads() {
    let p = Project::parse("projects/p.toml", GOOD).unwrap();
    assert_eq!((p.video.clips.0, p.video.seconds.0, p.size()), (3, 8, (1080, 1920)));
    assert_eq!(p.render.template.0, "motivational");
}

#[test]
fn errors_name_the_file_the_line_and_the_field() {
    let e = err(&GOOD.replace("clips = 3", "clips = 0"));
    assert_eq!((e.file.as_str(), e.line), ("projects/p.toml", 9), "{e}");
    assert!(e.message.contains("video.clips") && e.message.contains("1 to 12"), "{e}");
    assert!(e.to_string().starts_with("projects/p.toml:9:"), "{e}");

    let e = err(&GOOD.replace("seconds = 8", "second = 8"));
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("unknown field `second`"), "{e}");

    let e = err(&GOOD.replace("aspect_ratio = \"9:16\"", "aspect_ratio = \"3:2\""));
    assert!(e.message.contains("video.aspect_ratio") && e.line == 11, "{e}");

    let e = err(&GOOD.replace("duration_seconds = 24", "duration_seconds = 25"));
    assert!(e.message.contains("render.duration_seconds") && e.line == 15, "{e}");

    let e = err(&GOOD.replace("{ tiktok = 150 }", "{ youtube = 150 }"));
    assert!(e.message.contains("caption_max_chars") && e.line == 19, "{e}");

    let e = err(&GOOD.replace("name = \"p\"", "name = \"q\""));
    assert!(e.message.contains("file's name") && e.line == 1, "{e}");

    let e = err(&GOOD.replace("system_prompt = \"plan it\"", "system_prompt = \"  \""));
    assert!(e.message.contains("must not be empty") && e.line == 6, "{e}");

    // A video model belongs to a video API; an input mapping to a model.
    let e =
        err(&GOOD.replace("aspect_ratio = \"9:16\"", "aspect_ratio = \"9:16\"\nmodel = \"a/b\""));
    assert!(e.message.contains("video.provider") && e.line == 12, "{e}");
    let e =
        err(&GOOD
            .replace("aspect_ratio = \"9:16\"", "aspect_ratio = \"9:16\"\nprovider = \"sora\""));
    assert!(e.message.contains("not one of openai, replicate, gemini"), "{e}");

    // The ideas schema: JSON, a JSON Schema, and one of the ideas' shape.
    let with_schema = |schema: &str| {
        GOOD.replace(
            "system_prompt = \"plan it\"",
            &format!("system_prompt = \"plan it\"\noutput_schema = '{schema}'"),
        )
    };
    let e = err(&with_schema("{ not json"));
    assert!(e.message.contains("ideation.output_schema: not JSON") && e.line == 7, "{e}");
    let e = err(&with_schema(
        r#"{"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"], "additionalProperties": false}"#,
    ));
    assert!(e.message.contains("ideation.output_schema: must require \"prompts\""), "{e}");
    let ok = with_schema(
        r#"{"type": "object", "properties": {"title": {"type": "string"}, "prompts": {"type": "array", "items": {"type": "string", "maxLength": 99}}, "caption": {"type": "string"}}, "required": ["title", "prompts", "caption"], "additionalProperties": false}"#,
    );
    let p = Project::parse("projects/p.toml", &ok).unwrap();
    let schema = p.spec("v").ideation.unwrap().schema.unwrap();
    assert_eq!(schema["properties"]["prompts"]["items"]["maxLength"], 99);

    let e = err("name = \"p\"\ndescription = \"x\"\n[video\n");
    assert_eq!(e.line, 3, "{e}");
}

#[test]
fn the_shipped_projects_validate() {
    let c = Catalog::shipped();
    let names: Vec<&str> = c.iter().map(|e| e.project.name.as_str()).collect();
    assert_eq!(names, ["aismr", "demo", "motivational"]);
    let aismr = &c.get("aismr").unwrap().project;
    assert_eq!((aismr.video.clips.0, aismr.video.seconds.0), (12, 8));
    assert_eq!((aismr.render.template.0.as_str(), aismr.render.duration_seconds.0), ("aismr", 74));
    let motivational = &c.get("motivational").unwrap().project;
    assert_eq!(motivational.video.clips.0, 2);
    assert_eq!(c.get("demo").unwrap().version.len(), 12);
}

#[test]
fn a_directory_adds_and_replaces_and_reports_every_bad_file() {
    let dir = std::env::temp_dir().join(format!("myloware-projects-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.toml"), GOOD).unwrap();
    std::fs::write(dir.join("demo.toml"), GOOD.replace("name = \"p\"", "name = \"demo\"")).unwrap();
    let mut c = Catalog::shipped();
    let shipped_demo = c.get("demo").unwrap().version.clone();
    c.add_dir(&dir).unwrap();
    assert!(c.get("p").is_some());
    assert_ne!(c.get("demo").unwrap().version, shipped_demo, "the operator's demo replaced it");
    std::fs::write(dir.join("bad1.toml"), "name = 1").unwrap();
    std::fs::write(dir.join("bad2.toml"), GOOD.replace("clips = 3", "clips = 99")).unwrap();
    let errors = Catalog::shipped().add_dir(&dir).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].file.ends_with("bad1.toml") && errors[1].file.ends_with("bad2.toml"));
    std::fs::remove_dir_all(dir).unwrap();
}
