//! Which build of the reading made a result. Each finished file is stamped
//! with it, and the web reuses a result for an identical upload only while
//! files are still read this way: an update of the worker or of Tesseract
//! (new code, a new engine) makes the earlier results stale, as their reading
//! might now come out better.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use super::tesseract;

/// Hex digits of the executable's digest kept: enough to tell builds apart.
const DIGEST_CHARS: usize = 16;

static IDENTITY: LazyLock<String> = LazyLock::new(|| {
    let build = executable_digest().unwrap_or_else(|e| {
        // The version alone still changes with every release.
        tracing::warn!(error = %e, "the worker's executable could not be read; its version alone names its results");
        "unknown-build".to_owned()
    });
    format!(
        "scribe-worker {} {build}; tesseract {}",
        env!("CARGO_PKG_VERSION"),
        tesseract::version()
    )
});

/// This process's pipeline: the worker's version and build, and Tesseract's version.
pub fn identity() -> &'static str {
    &IDENTITY
}

/// The running executable's SHA-256, in hex: every change of the code is a
/// new build, including one that keeps the version number.
fn executable_digest() -> std::io::Result<String> {
    let mut file = std::fs::File::open(std::env::current_exe()?)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    let mut digest = hex::encode(hasher.finalize());
    digest.truncate(DIGEST_CHARS);
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_names_the_build_and_the_engine() {
        let id = identity();
        assert!(
            id.starts_with(concat!("scribe-worker ", env!("CARGO_PKG_VERSION"), " ")),
            "{id}"
        );
        let build = id.split(' ').nth(2).expect("a build").trim_end_matches(';');
        assert_eq!(build.len(), DIGEST_CHARS, "{id}");
        assert!(build.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        // The linked library's own version, e.g. "5.3.0".
        let engine = id.rsplit(' ').next().expect("a version");
        assert!(engine.starts_with(char::is_numeric), "{id}");
        assert_eq!(identity(), id, "computed once");
    }
}
