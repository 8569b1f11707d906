//! The projects a process knows: the shipped ones (compiled in, so every binary and every
//! Lambda function has them) and, from `MYLOWARE_PROJECTS_DIR`, the operator's own, which may
//! replace a shipped one of the same name. Each has a version: a digest of its file, which a
//! run records so that a changed file never changes a run already started.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Project, ProjectError};

/// A directory of `<name>.toml` project files.
pub const ENV_PROJECTS_DIR: &str = "MYLOWARE_PROJECTS_DIR";

/// The shipped projects' files.
const SHIPPED: [(&str, &str); 3] = [
    ("projects/aismr.toml", include_str!("../../../projects/aismr.toml")),
    ("projects/motivational.toml", include_str!("../../../projects/motivational.toml")),
    ("projects/demo.toml", include_str!("../../../projects/demo.toml")),
];

/// One known project.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The project.
    pub project: Project,
    /// Where it was read from.
    pub file: String,
    /// A digest of its file (12 hex digits).
    pub version: String,
}

/// The known projects, by name. Shared, not copied, when cloned: every engine clone (one per
/// request or message) carries the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    entries: Arc<BTreeMap<String, Entry>>,
}

fn version_of(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

impl Catalog {
    /// The shipped projects (read once per process).
    pub fn shipped() -> Self {
        static SHIPPED_CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        SHIPPED_CATALOG
            .get_or_init(|| {
                let mut c = Self::default();
                for (file, text) in SHIPPED {
                    c.add(file, text).expect("the shipped projects are valid (a test checks it)");
                }
                c
            })
            .clone()
    }

    /// Read and add the project in `text` (from `file`).
    pub fn add(&mut self, file: &str, text: &str) -> Result<&Entry, ProjectError> {
        let project = Project::parse(file, text)?;
        let name = project.name.as_str().to_owned();
        let entry = Entry { project, file: file.to_owned(), version: version_of(text) };
        Arc::make_mut(&mut self.entries).insert(name.clone(), entry);
        Ok(&self.entries[&name])
    }

    /// Add every `*.toml` in `dir`; every error, not just the first.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), Vec<ProjectError>> {
        let read = std::fs::read_dir(dir).map_err(|e| {
            vec![ProjectError {
                file: dir.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read the projects directory: {e}"),
            }]
        })?;
        let mut files: Vec<_> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        for path in files {
            let file = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    if let Err(e) = self.add(&file, &text) {
                        errors.push(e);
                    }
                }
                Err(e) => errors.push(ProjectError {
                    file,
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The shipped projects and those in `MYLOWARE_PROJECTS_DIR`, if set.
    pub fn from_env() -> Result<Self, Vec<ProjectError>> {
        let mut c = Self::shipped();
        if let Some(dir) = std::env::var_os(ENV_PROJECTS_DIR).filter(|d| !d.is_empty()) {
            c.add_dir(Path::new(&dir))?;
        }
        Ok(c)
    }

    /// The project called `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every project, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }
}
