//! lopdf, only for files it has been seen to survive. Its parser recurses —
//! once per level of array or dictionary nesting, once per indirect `/Length`
//! in a chain, through object streams — and a stack overflow aborts the whole
//! process, not the call: a 400 KB file of brackets took a worker and every
//! page in flight on it down, again on each redelivery. A scan of the bytes
//! cannot follow lopdf's tokenizer closely enough to be sure (escaped names,
//! chained filters, indirect lengths and untyped object streams all got past
//! one), so the same parse runs first in a child process — this binary again,
//! on a thread with less stack than any of ours that parse, under the render
//! limits — and the file is parsed here only if the child came back. A file
//! the child dies on is left to poppler, which has its own recursion limit.
//!
//! The child must also stay within a memory budget scaled to the file's size.
//! lopdf inflates every object stream (and cross-reference stream) as it
//! loads, so a stream of a megabyte that inflates to a gigabyte would otherwise
//! pass the trial and then be inflated here, once per parse, beside every page
//! in flight. lopdf also ignores an inflation that runs out of memory, so the
//! child's memory limit alone would make it come back, not die: the child
//! compares its resident high-water mark with the budget, which is at most
//! half its limit, so an inflation cut short by the limit has already filled
//! more than the budget. Poppler only opens an object stream when a page needs
//! one of its objects.

use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;

use lopdf::Document;

use crate::subprocess::{self, ChildLimits, SubprocessError};

/// The first argument that makes a binary run [`probe_main`]; its `main` checks for it first.
pub const PROBE_ARG: &str = "__scribe-probe-pdf";
/// The probe's parsing stack: half the 2 MiB of tokio's blocking threads,
/// which is the least any thread of ours that parses a PDF has.
const PROBE_STACK_BYTES: usize = 1024 * 1024;
/// Memory the probe may hold whatever the file: this binary's pages, lopdf's
/// tables for a small file.
const PARSE_ALLOWANCE_BYTES: u64 = 256 * 1024 * 1024;
/// And per byte of the file: lopdf keeps streams compressed, and the object
/// streams it inflates hold dictionaries, which seldom compress eightfold.
const PARSE_BYTES_PER_FILE_BYTE: u64 = 8;
/// The probe's address-space limit when the render limit sets none.
const DEFAULT_PROBE_LIMIT_BYTES: u64 = 2048 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the PDF could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("parsing the PDF's objects failed in a trial run: {0}")]
    Refused(String),
    #[error("the PDF's objects could not be read: {0}")]
    Parse(#[from] lopdf::Error),
}

/// Whether the PDF at `path` may be parsed here: `probe` (a program that
/// answers [`PROBE_ARG`], the worker binary itself) parsed it in a child
/// process under `limits`, within the file's memory budget, and came back.
/// Without a probe every file may: for tests and tools that only read files
/// they made.
pub fn trial(path: &Path, probe: Option<&Path>, limits: ChildLimits) -> Result<(), GuardError> {
    let Some(program) = probe else {
        return Ok(());
    };
    // Unlimited, the probe itself would inflate a bomb to its end.
    let limits = ChildLimits {
        memory_bytes: match limits.memory_bytes {
            0 => DEFAULT_PROBE_LIMIT_BYTES,
            limit => limit,
        },
        ..limits
    };
    let program = program.to_string_lossy();
    let args: [&OsStr; 2] = [PROBE_ARG.as_ref(), path.as_os_str()];
    subprocess::run(&program, &args, limits)
        .map(drop)
        .map_err(|e: SubprocessError| GuardError::Refused(e.to_string()))
}

/// The memory a parse of a file of `size` bytes may hold, under an address-space
/// `limit`: at most half of it (less this binary's share), so that an
/// allocation the limit refuses comes only after the budget is exceeded.
fn parse_budget(size: u64, limit: Option<u64>) -> u64 {
    let wanted =
        PARSE_ALLOWANCE_BYTES.saturating_add(size.saturating_mul(PARSE_BYTES_PER_FILE_BYTE));
    match limit {
        Some(limit) => wanted.min(limit.saturating_sub(PARSE_ALLOWANCE_BYTES) / 2),
        None => wanted,
    }
}

/// The probe: parses `path` as the worker will once [`trial`] allows it, on a
/// small stack. Returns (success) whether or not lopdf can read the file, if it
/// returns within the file's memory budget and `refused` (the process's
/// allocator: was any allocation refused?) says no: lopdf drops some
/// allocation errors, which under the probe's limit would hide what the
/// worker, without one, would then allocate.
pub fn probe_main(path: &Path, refused: fn() -> bool) -> ExitCode {
    let Ok(size) = std::fs::metadata(path).map(|m| m.len()) else {
        return ExitCode::FAILURE;
    };
    let budget = parse_budget(size, address_space_limit());
    let path = path.to_owned();
    let parse = std::thread::Builder::new()
        .stack_size(PROBE_STACK_BYTES)
        .spawn(move || {
            if let Ok(doc) = Document::load(&path) {
                // What the callers do next walks the page tree.
                let _ = doc.get_pages();
            }
        });
    if !matches!(parse.map(std::thread::JoinHandle::join), Ok(Ok(()))) {
        return ExitCode::FAILURE;
    }
    if refused() {
        eprintln!("the parse asked for more memory than the trial's limit");
        return ExitCode::FAILURE;
    }
    match status_kb("self", "VmHWM:") {
        Some(kb) if kb.saturating_mul(1024) <= budget => ExitCode::SUCCESS,
        held => {
            // The worker logs this line with the refusal.
            eprintln!(
                "the parse held {} kB, more than this file's budget of {} kB",
                held.map_or_else(|| "an unknown number of".to_owned(), |kb| kb.to_string()),
                budget / 1024
            );
            ExitCode::FAILURE
        }
    }
}

/// A `kB` field (`"VmHWM:"`) of `/proc/<process>/status`, `process` being a pid
/// or `self`; unknown without `/proc`, which then refuses every file rather
/// than trusting it.
pub fn status_kb(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// This process's address-space limit (`RLIMIT_AS`, which `prlimit` set), if any.
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    // "Max address space   <soft>   <hard>   bytes": the soft limit is what applies.
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limits() -> ChildLimits {
        ChildLimits {
            timeout: Duration::from_secs(10),
            memory_bytes: 0,
        }
    }

    #[test]
    fn an_allocation_the_limit_refuses_comes_only_after_the_budget_is_spent() {
        let limit = 2048 << 20;
        for size in [0, 1 << 20, 64 << 20, 256 << 20, u64::MAX] {
            let budget = parse_budget(size, Some(limit));
            // A growing buffer asks for twice what it holds: refused, it held more than the budget.
            assert!(
                PARSE_ALLOWANCE_BYTES + 2 * budget <= limit,
                "{size}: {budget}"
            );
        }
        assert_eq!(parse_budget(1 << 20, None), (256 << 20) + (8 << 20));
        // A small file gets its whole budget under the default limit.
        assert_eq!(
            parse_budget(1 << 20, Some(DEFAULT_PROBE_LIMIT_BYTES)),
            (256 << 20) + (8 << 20)
        );
    }

    #[test]
    fn a_file_the_probe_survives_is_allowed_and_one_it_dies_on_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        // What the probe would parse does not matter here: these probes do not read it.
        let path = dir.path().join("any.pdf");
        std::fs::write(&path, b"%PDF-1.4\n").expect("write");
        assert!(trial(&path, Some(Path::new("true")), limits()).is_ok());
        // `kill -SEGV $$` dies the way a stack overflow does.
        let script = dir.path().join("dies.sh");
        std::fs::write(&script, "#!/bin/sh\nkill -SEGV $$\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let err = trial(&path, Some(&script), limits()).expect_err("refused");
        assert!(matches!(err, GuardError::Refused(_)), "{err}");
        // Without a probe nothing is tried and every file may be parsed.
        assert!(trial(&path, None, limits()).is_ok());
    }
}
