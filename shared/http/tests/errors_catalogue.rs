//! `docs/errors.md` is the one catalogue of error codes: every code the code reports is in it,
//! and it lists none the code no longer uses. Codes are found where they are made: `ApiError`s,
//! engine errors (`EngineError::invalid`, `code: "…"`), the `code()` of each error type, run
//! errors (`fail`, `provider_error`, `RunError::new`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["tests", "target", "benches"].contains(&name.as_str()) {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The string literals following `marker` (after optional whitespace and one argument when
/// `skip_arg`), in `text`.
fn literals_after(text: &str, marker: &str, skip_arg: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(marker) {
        let mut rest = text[at + marker.len()..].trim_start();
        if skip_arg {
            let Some(comma) = rest.find(',') else { continue };
            if rest[..comma].contains(['"', '(', ')']) {
                continue;
            }
            rest = rest[comma + 1..].trim_start();
        }
        if let Some(lit) = rest.strip_prefix('"')
            && let Some(end) = lit.find('"')
        {
            let code = &lit[..end];
            if !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                out.push(code.to_owned());
            }
        }
    }
    out
}

fn codes_in_code(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    for dir in ["shared", "functions"] {
        sources(&root.join(dir), &mut files);
    }
    let mut codes = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        for (marker, skip) in [
            ("ApiError::new(", true),
            ("bad(", false),
            ("EngineError::invalid(", false),
            ("code: ", false),
            ("fail(", true),
            ("provider_error(", true),
            ("RunError::new(", true),
        ] {
            codes.extend(literals_after(text, marker, skip));
        }
        // The arms of each error type's `code()`.
        for (at, _) in text.match_indices("fn code(&self) -> &'static str {") {
            let body = &text[at..];
            let body = &body[..body.find("\n    }").unwrap_or(body.len())];
            codes.extend(literals_after(body, "=> ", false));
            codes.extend(literals_after(body, "{\n        ", false));
        }
    }
    codes
}

fn codes_in_doc(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(code, _)| code.to_owned()))
        .collect()
}

#[test]
fn every_error_code_is_in_the_catalogue_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/errors.md")).expect("docs/errors.md");
    let (used, documented) = (codes_in_code(&root), codes_in_doc(&doc));
    let missing: Vec<_> = used.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&used).collect();
    assert!(missing.is_empty(), "codes the code reports that docs/errors.md lacks: {missing:?}");
    assert!(stale.is_empty(), "codes docs/errors.md lists that the code never reports: {stale:?}");
    assert!(used.len() > 60, "the scan found the codes ({} of them)", used.len());
}
