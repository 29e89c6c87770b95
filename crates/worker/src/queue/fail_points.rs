//! Test-only fail points, switched by `SCRIBE_FAIL_POINT`: the crash tests
//! stop a real worker process at an exact step, as a SIGKILL or a wedged
//! library would, and check what the next worker makes of it.

/// With `SCRIBE_FAIL_POINT=<name>` the process aborts here.
pub fn abort_at(name: &str) {
    if armed(name) {
        tracing::error!(fail_point = name, "fail point reached: aborting");
        std::process::abort();
    }
}

/// With `SCRIBE_FAIL_POINT=hang_<name>` this thread never returns, as a
/// wedged renderer or engine would not (see `Health`).
pub fn hang_at(name: &str) {
    if std::env::var("SCRIBE_FAIL_POINT").is_ok_and(|v| v.strip_prefix("hang_") == Some(name)) {
        tracing::error!(fail_point = name, "fail point reached: hanging");
        loop {
            std::thread::park();
        }
    }
}

fn armed(name: &str) -> bool {
    std::env::var("SCRIBE_FAIL_POINT").is_ok_and(|v| v == name)
}
