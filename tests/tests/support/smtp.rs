//! A real SMTP server for the email tests: aiosmtpd (PyPI, installed by
//! `scripts/services` into `target/test-venv`) running `smtp_sink.py`, which
//! writes each message it receives as JSON into a directory of its own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::test_python;

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("tempdir");
        let python = test_python();
        let mut child = Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/smtp_sink.py"
            ))
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{} did not start ({e}); run scripts/services to install aiosmtpd",
                    python.display()
                )
            });
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read");
        assert_eq!(
            line.trim(),
            "ready",
            "aiosmtpd did not start on port {port}"
        );
        Self { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort_by_key(|n| n.trim_end_matches(".json").parse::<u32>().unwrap_or(0));
        names
            .iter()
            .map(|n| {
                let bytes = std::fs::read(self.dir.path().join(n)).expect("message");
                serde_json::from_slice(&bytes).expect("message JSON")
            })
            .collect()
    }

    /// Waits for `n` messages; panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Value> {
        super::eventually(limit, Duration::from_millis(100), || {
            super::at_least(n, self.messages(), "emails")
        })
        .await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing its stdin stops it; kill in case it hangs.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
