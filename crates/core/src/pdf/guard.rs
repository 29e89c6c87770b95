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

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the PDF could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("parsing the PDF's objects failed in a test run: {0}")]
    Refused(#[source] SubprocessError),
    #[error("the PDF's objects could not be read: {0}")]
    Parse(#[from] lopdf::Error),
}

/// Parses the PDF at `path` once `probe` (a program that answers
/// [`PROBE_ARG`], the worker binary itself) has survived parsing it in a child
/// process. Without a probe the file is parsed here directly: for tests and
/// tools that only read files they made.
pub fn load(
    path: &Path,
    probe: Option<&Path>,
    limits: ChildLimits,
) -> Result<Document, GuardError> {
    if let Some(program) = probe {
        let program = program.to_string_lossy();
        let args: [&OsStr; 2] = [PROBE_ARG.as_ref(), path.as_os_str()];
        subprocess::run(&program, &args, limits).map_err(GuardError::Refused)?;
    }
    Ok(Document::load(path)?)
}

/// The probe: parses `path` the way [`load`] will, on a small stack. Returns
/// (success) whether or not lopdf can read the file; it only has to return.
pub fn probe_main(path: &Path) -> ExitCode {
    let path = path.to_owned();
    let parse = std::thread::Builder::new()
        .stack_size(PROBE_STACK_BYTES)
        .spawn(move || {
            if let Ok(doc) = Document::load(&path) {
                // What the callers do next walks the page tree.
                let _ = doc.get_pages();
            }
        });
    match parse.map(std::thread::JoinHandle::join) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::path::PathBuf;

    use super::*;

    fn limits() -> ChildLimits {
        ChildLimits {
            timeout: Duration::from_secs(10),
            memory_bytes: 0,
        }
    }

    fn one_page(dir: &Path) -> PathBuf {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        let path = dir.join("one.pdf");
        std::fs::write(&path, out).expect("write");
        path
    }

    #[test]
    fn a_file_the_probe_survives_is_parsed_and_one_it_dies_on_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = one_page(dir.path());
        let doc = load(&path, Some(Path::new("true")), limits()).expect("parsed");
        assert_eq!(doc.get_pages().len(), 1);
        // `sh -c 'kill -SEGV $$'` dies the way a stack overflow does.
        let script = dir.path().join("dies.sh");
        std::fs::write(&script, "#!/bin/sh\nkill -SEGV $$\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let err = load(&path, Some(&script), limits()).expect_err("refused");
        assert!(matches!(err, GuardError::Refused(_)), "{err}");
    }

    #[test]
    fn without_a_probe_the_file_is_parsed_here() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = one_page(dir.path());
        assert!(load(&path, None, limits()).is_ok());
    }
}
