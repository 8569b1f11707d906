//! Projects: what goes into a video is configuration. A project file (`projects/<name>.toml`)
//! says who the ideator is and how it writes, how many clips of how many seconds, the aspect
//! ratio, the render template and overlays, where to publish and extra safety rules. Each file
//! is checked when it is read; an error names the file, the line and the field.

mod catalog;
mod fields;
pub mod ideas_schema;
pub mod schema_subset;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use catalog::{Catalog, ENV_PROJECTS_DIR, Entry};
pub use fields::{
    AspectRatio, CaptionLimit, ClipCount, ClipSeconds, Hashtag, OutputSchema, RenderSeconds, Slug,
    Text, Threshold,
};

use crate::domain::ProjectName;

/// A project, as its file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Its name (the file's name without `.toml`).
    #[serde(deserialize_with = "project_name")]
    pub name: ProjectName,
    /// One line about it.
    pub description: Text<300>,
    /// The ideator.
    pub ideation: Ideation,
    /// The clips.
    pub video: Video,
    /// The cut.
    pub render: Render,
    /// Where it is published.
    pub publish: Publish,
    /// Extra guardrails, given to the ideator and the safety check.
    #[serde(default)]
    pub safety: Safety,
    /// How `myloware eval ideation` scores its ideation.
    #[serde(default)]
    pub eval: Option<Eval>,
}

/// `[eval]`: the judge's rubric and the pass mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eval {
    /// The median score (1 to 5) a dataset must reach.
    pub threshold: Threshold,
    /// The judge's model, when not the configured LLM's.
    #[serde(default)]
    pub judge_model: Option<ModelId>,
    /// What the judge looks for, one criterion each.
    pub criteria: Vec<Criterion>,
}

/// One rubric criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// A short name.
    pub name: Text<80>,
    /// What a good answer does, for the LLM judge.
    pub description: Text<1000>,
    /// Words whose presence the deterministic fake judge takes as this criterion met.
    pub look_for: Vec<Text<60>>,
}

fn project_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ProjectName, D::Error> {
    let s = String::deserialize(d)?;
    ProjectName::parse(&s).map_err(|e| serde::de::Error::custom(format!("name: {e}")))
}

fn overlay_style<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<crate::domain::OverlayStyle>, D::Error> {
    use crate::domain::OverlayStyle;
    match String::deserialize(d)?.as_str() {
        "label" => Ok(Some(OverlayStyle::Label)),
        "lines" => Ok(Some(OverlayStyle::Lines)),
        other => Err(serde::de::Error::custom(format!(
            "render.overlay_style: {other:?} is not one of label, lines"
        ))),
    }
}

/// `[ideation]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ideation {
    /// Who writes.
    pub persona: Text<500>,
    /// How: the system prompt.
    pub system_prompt: Text<8000>,
    /// The LLM model, when not the configured one.
    #[serde(default)]
    pub model: Option<ModelId>,
    /// The JSON Schema of the answer (JSON text; the default ideas schema when absent).
    #[serde(default)]
    pub output_schema: Option<OutputSchema>,
}

/// A model id: letters, digits and `-_.:/` (e.g. `gpt-4o-mini`, `google/veo-3.1-fast`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelId(pub String);

impl<'de> Deserialize<'de> for ModelId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c));
        if ok {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!("{s:?} is not a model id")))
        }
    }
}

/// `[video]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Video {
    /// Clips per run.
    pub clips: ClipCount,
    /// Seconds per clip asked of the video provider.
    pub seconds: ClipSeconds,
    /// The final video's aspect ratio (and the clips' where the provider takes one).
    pub aspect_ratio: AspectRatio,
    /// The video API the project's runs need (`openai`, `replicate`, `gemini`): a run is
    /// refused where another one is configured. Any, when absent.
    #[serde(default)]
    pub provider: Option<VideoApi>,
    /// The video model, when not the configured one.
    #[serde(default)]
    pub model: Option<ModelId>,
    /// How the model's input is filled on Replicate (`{prompt}`, `{seconds}`, `{index}`); the
    /// shipped model table's entry when absent.
    #[serde(default)]
    pub input: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `video.provider`: one of the video APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VideoApi(pub crate::domain::Provider);

impl<'de> Deserialize<'de> for VideoApi {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<crate::domain::Provider>()
            .ok()
            .filter(|p| crate::domain::Provider::VIDEO.contains(p))
            .map(Self)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "video.provider: {s:?} is not one of openai, replicate, gemini"
                ))
            })
    }
}

/// `[render]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Render {
    /// The render service's template.
    pub template: Slug,
    /// The composition's length.
    pub duration_seconds: RenderSeconds,
    /// How the template draws the overlays: `label` (one short label per clip, the render
    /// service's `objects`) or `lines` (centred lines, its `texts`).
    #[serde(default, deserialize_with = "overlay_style")]
    pub overlay_style: Option<crate::domain::OverlayStyle>,
}

/// `[publish]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// Platforms to post to.
    pub platforms: Vec<Slug>,
    /// The profile (Upload-Post user) to post as, when not the configured one.
    #[serde(default)]
    pub user: Option<ModelId>,
    /// Hashtags added to the caption.
    #[serde(default)]
    pub hashtags: Vec<Hashtag>,
    /// The longest caption per platform.
    #[serde(default)]
    pub caption_max_chars: BTreeMap<String, CaptionLimit>,
}

/// `[safety]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// Rules in words.
    #[serde(default)]
    pub rules: Vec<Text<300>>,
    /// Words or phrases no idea may contain (case-insensitive), checked on the LLM's answer
    /// and on a reviewer's edit before anything is paid.
    #[serde(default)]
    pub blocked_terms: Vec<Text<100>>,
}

/// A project file that could not be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ProjectError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when the whole file is at fault).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, naming the field.
    pub message: String,
}

impl ProjectError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "invalid_project"
    }

    fn at(file: &str, text: &str, offset: Option<usize>, message: String) -> Self {
        let (line, column) = match offset {
            Some(o) => {
                let before = &text[..o.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        Self { file: file.to_owned(), line, column, message }
    }
}

impl Project {
    /// Read the project in `text`, from the file named `file` (whose stem must be its name),
    /// and check every rule and the cross-field ones (`render.duration_seconds` at most the
    /// clips' total, a caption limit per platform only for a listed platform).
    pub fn parse(file: &str, text: &str) -> Result<Self, ProjectError> {
        let p: Project = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            ProjectError::at(file, text, e.span().map(|s| s.start), message)
        })?;
        let line_of = |key: &str| text.find(key);
        let stem = std::path::Path::new(file).file_stem().and_then(|s| s.to_str());
        if stem.is_some_and(|s| s != p.name.as_str()) {
            let m = format!(
                "name: {:?} must be the file's name ({:?})",
                p.name.as_str(),
                stem.unwrap_or("")
            );
            return Err(ProjectError::at(file, text, line_of("name"), m));
        }
        let total = p.video.clips.0 * p.video.seconds.0;
        if p.render.duration_seconds.0 > total {
            let m = format!(
                "render.duration_seconds: {} is longer than the clips together ({} x {} s = {total} s)",
                p.render.duration_seconds.0, p.video.clips.0, p.video.seconds.0
            );
            return Err(ProjectError::at(file, text, line_of("duration_seconds"), m));
        }
        if p.video.provider.is_none() && p.video.model.is_some() {
            let m = "video.model: say which video API it is for (video.provider)".to_owned();
            return Err(ProjectError::at(file, text, line_of("model"), m));
        }
        if p.video.input.is_some() && p.video.model.is_none() {
            let m = "video.input: name the model it is for (video.model)".to_owned();
            return Err(ProjectError::at(file, text, line_of("input"), m));
        }
        if let Some(e) = &p.eval {
            if e.criteria.is_empty() {
                let m = "eval.criteria: give the judge at least one criterion".to_owned();
                return Err(ProjectError::at(file, text, line_of("[eval]"), m));
            }
            if let Some(c) = e.criteria.iter().find(|c| c.look_for.is_empty()) {
                let m = format!("eval.criteria: {:?} has nothing to look_for", c.name.0);
                return Err(ProjectError::at(file, text, line_of("[[eval.criteria]]"), m));
            }
        }
        if p.publish.platforms.is_empty() {
            let m = "publish.platforms: name at least one platform".to_owned();
            return Err(ProjectError::at(file, text, line_of("platforms"), m));
        }
        for platform in p.publish.caption_max_chars.keys() {
            if !p.publish.platforms.iter().any(|s| &s.0 == platform) {
                let m =
                    format!("publish.caption_max_chars: {platform:?} is not in publish.platforms");
                return Err(ProjectError::at(file, text, line_of("caption_max_chars"), m));
            }
        }
        Ok(p)
    }

    /// The final video's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.video.aspect_ratio.size()
    }

    /// What a run started now keeps of this project (file version `version`).
    pub fn spec(&self, version: &str) -> crate::domain::RunSpec {
        let (width, height) = self.size();
        crate::domain::RunSpec {
            version: version.to_owned(),
            seconds: self.video.seconds.0,
            width,
            height,
            template: self.render.template.0.clone(),
            duration_seconds: self.render.duration_seconds.0,
            ideation: Some(crate::domain::IdeationGuide {
                persona: self.ideation.persona.0.clone(),
                system_prompt: self.ideation.system_prompt.0.clone(),
                model: self.ideation.model.as_ref().map(|m| m.0.clone()),
                rules: self.safety.rules.iter().map(|r| r.0.clone()).collect(),
                schema: self.ideation.output_schema.as_ref().map(|s| s.0.clone()),
                blocked_terms: self
                    .safety
                    .blocked_terms
                    .iter()
                    .map(|t| t.0.to_lowercase())
                    .collect(),
            }),
            publish: Some(self.publish_spec()),
            overlay_style: self.render.overlay_style,
            video_provider: self.video.provider.map(|p| p.0),
            video_model: self.video.model.as_ref().map(|m| crate::domain::VideoModel {
                model: m.0.clone(),
                input: self.video.input.clone(),
            }),
        }
    }

    /// Where and as whom a run of this project publishes.
    pub fn publish_spec(&self) -> crate::domain::PublishSpec {
        let p = &self.publish;
        crate::domain::PublishSpec {
            platforms: p.platforms.iter().map(|s| s.0.clone()).collect(),
            user: p.user.as_ref().map(|u| u.0.clone()),
            hashtags: p.hashtags.iter().map(|h| h.0.clone()).collect(),
            caption_max_chars: p.caption_max_chars.iter().map(|(k, m)| (k.clone(), m.0)).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
