//! The official Standard Webhooks library (PyPI `standardwebhooks`) as a test peer, installed
//! into a throwaway virtualenv: it signs as a provider using it would, and checks our signatures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// A virtualenv with `standardwebhooks` under `dir` (made once; PyPI must be reachable).
pub fn peer_python(dir: &Path) -> PathBuf {
    let venv = dir.join("standardwebhooks-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(made.success(), "could not create a virtualenv");
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check", "standardwebhooks==1.0.1"])
            .status()
            .expect("pip");
        assert!(pip.success(), "pip install standardwebhooks failed (PyPI must be reachable)");
    }
    python
}

/// Run the peer script with `request` on stdin; its JSON answer.
pub fn run_peer(python: &Path, request: &Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/standardwebhooks_peer.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the peer");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "peer failed");
    serde_json::from_slice(&out.stdout).expect("peer JSON")
}

/// The library's `webhook-signature` for each `(id, unix seconds, body)`.
pub fn sign_with_library(
    python: &Path,
    secret: &str,
    messages: &[(&str, i64, &str)],
) -> Vec<String> {
    let sign: Vec<Value> =
        messages.iter().map(|(id, ts, body)| json!({ "id": id, "ts": ts, "body": body })).collect();
    let answer = run_peer(python, &json!({ "secret": secret, "sign": sign }));
    answer["signed"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| s.as_str().expect("a signature").to_owned())
        .collect()
}
