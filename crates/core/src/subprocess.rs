//! Runs the poppler tools with a wall-clock timeout and an address-space limit,
//! so a hostile PDF can stall or bloat only its own child process.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

#[derive(Debug, thiserror::Error)]
pub enum SubprocessError {
    #[error("`{0}` is not installed (install poppler-utils)")]
    Missing(String),
    #[error("`{program}` took longer than {secs} s and was stopped")]
    Timeout { program: String, secs: u64 },
    #[error("`{program}` failed: {stderr}")]
    Failed { program: String, stderr: String },
    #[error("could not run `{program}`: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

/// Limits applied to one child process.
#[derive(Debug, Clone, Copy)]
pub struct ChildLimits {
    pub timeout: Duration,
    pub memory_bytes: u64,
}

/// The captured result of a successful run.
pub struct Output {
    pub stdout: Vec<u8>,
    /// What the tool said on the way, lossily decoded: warnings, for a run
    /// that succeeded.
    pub stderr: String,
}

/// Runs `program args…` and returns its stdout, or why it failed.
pub fn run(
    program: &str,
    args: &[&std::ffi::OsStr],
    limits: ChildLimits,
) -> Result<Output, SubprocessError> {
    if !on_path(program) {
        return Err(SubprocessError::Missing(program.to_owned()));
    }
    let mut command = limited_command(program, limits.memory_bytes);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            SubprocessError::Missing(program.to_owned())
        } else {
            SubprocessError::Io {
                program: program.to_owned(),
                source,
            }
        }
    })?;
    // Drain both pipes on their own threads: a child blocked on a full pipe would
    // otherwise look like a timeout.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = match child.wait_timeout(limits.timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SubprocessError::Timeout {
                program: program.to_owned(),
                secs: limits.timeout.as_secs(),
            });
        }
        Err(source) => {
            let _ = child.kill();
            return Err(SubprocessError::Io {
                program: program.to_owned(),
                source,
            });
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(SubprocessError::Failed {
            program: program.to_owned(),
            stderr: format!("{stderr} ({status})"),
        });
    }
    Ok(Output {
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `prlimit` (util-linux) sets the address-space limit without any unsafe
/// `pre_exec` in our process; where it is absent the timeout still applies.
fn limited_command(program: &str, memory_bytes: u64) -> Command {
    if memory_bytes > 0 && Path::new("/usr/bin/prlimit").exists() {
        let mut c = Command::new("/usr/bin/prlimit");
        c.arg(format!("--as={memory_bytes}")).arg("--").arg(program);
        c
    } else {
        Command::new(program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(secs: u64) -> ChildLimits {
        ChildLimits {
            timeout: Duration::from_secs(secs),
            memory_bytes: 512 * 1024 * 1024,
        }
    }

    #[test]
    fn a_hung_child_is_stopped_at_the_timeout() {
        let started = std::time::Instant::now();
        let err = run("sleep", &["30".as_ref()], limits(1)).err();
        assert!(
            matches!(err, Some(SubprocessError::Timeout { .. })),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_says_so() {
        let err = run("scribe-no-such-tool", &[], limits(1)).err();
        assert!(matches!(err, Some(SubprocessError::Missing(_))), "{err:?}");
    }

    #[test]
    fn failure_reports_the_last_stderr_line() {
        let err = run(
            "sh",
            &[
                "-c".as_ref(),
                "echo first >&2; echo boom >&2; exit 3".as_ref(),
            ],
            limits(5),
        )
        .err();
        assert!(err.is_some_and(|e| e.to_string().contains("boom")));
    }
}
