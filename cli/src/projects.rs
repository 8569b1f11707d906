//! `myloware projects list|show|validate`: the projects this binary knows (the shipped ones and
//! those in `MYLOWARE_PROJECTS_DIR`), one in full, or files checked as `serve` and the functions
//! would check them (exit status 2 with every error as `file:line:column: field: what`).

use clap::Subcommand;
use myloware::projects::{Catalog, Entry, ProjectError};

#[derive(Subcommand)]
pub enum ProjectsCommand {
    /// Every known project: name, version, clips, length, size, template, platforms.
    List,
    /// One project in full (as JSON).
    Show {
        /// Its name.
        name: String,
    },
    /// Check project files (default: the shipped ones and MYLOWARE_PROJECTS_DIR's).
    Validate {
        /// Files to check.
        files: Vec<std::path::PathBuf>,
    },
}

fn refuse(errors: &[ProjectError]) -> ! {
    for e in errors {
        eprintln!("{e}");
    }
    eprintln!("{} invalid project file(s)", errors.len());
    std::process::exit(2)
}

fn line(e: &Entry) -> String {
    let p = &e.project;
    let (w, h) = p.size();
    let platforms: Vec<&str> = p.publish.platforms.iter().map(|s| s.0.as_str()).collect();
    format!(
        "{:<14} {}  {:>2} x {:>2} s -> {:>3} s  {w}x{h}  {:<13} {}",
        p.name.as_str(),
        e.version,
        p.video.clips.0,
        p.video.seconds.0,
        p.render.duration_seconds.0,
        p.render.template.0,
        platforms.join(",")
    )
}

pub fn run(command: ProjectsCommand) -> anyhow::Result<()> {
    match command {
        ProjectsCommand::Validate { files } if !files.is_empty() => {
            let mut errors = Vec::new();
            let mut catalog = Catalog::default();
            for f in &files {
                let file = f.display().to_string();
                match std::fs::read_to_string(f) {
                    Ok(text) => match catalog.add(&file, &text) {
                        Ok(e) => println!("ok  {}", line(e)),
                        Err(e) => errors.push(e),
                    },
                    Err(e) => errors.push(ProjectError {
                        file,
                        line: 0,
                        column: 0,
                        message: format!("cannot read: {e}"),
                    }),
                }
            }
            if !errors.is_empty() {
                refuse(&errors);
            }
        }
        command => {
            let catalog = Catalog::from_env().unwrap_or_else(|errors| refuse(&errors));
            match command {
                ProjectsCommand::Show { name } => match catalog.get(&name) {
                    Some(e) => {
                        let shown = serde_json::json!({
                            "file": e.file, "version": e.version, "project": e.project,
                        });
                        println!("{}", serde_json::to_string_pretty(&shown)?);
                    }
                    None => {
                        eprintln!("no project {name:?}; `myloware projects list` shows them");
                        std::process::exit(2);
                    }
                },
                _ => {
                    for e in catalog.iter() {
                        println!("{}", line(e));
                    }
                }
            }
        }
    }
    Ok(())
}
