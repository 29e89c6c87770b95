//! Storage faults at the door: a full disk answers 507 with the JSON envelope
//! and keeps nothing, and bytes left by a replica killed mid-upload (no job row)
//! are swept away while every job's own files stay.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_no_job_row_owns_are_swept_and_a_jobs_own_are_kept() {
    let app = TestApp::web_only(|s| s.web.orphan_after_secs = 1).await;
    let (png, _) = page_png(71);
    let id = app.submit_ok(vec![("kept.png", png)], &[]).await;

    // What a replica killed mid-upload leaves: a staging file of an unfinished
    // write, and a finished original whose row was never committed.
    let root = app.storage.path();
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let staging = root.join(format!("uploads/{a}/{}/original#7", uuid::Uuid::new_v4()));
    let original = root.join(format!("uploads/{b}/{}/original", uuid::Uuid::new_v4()));
    for path in [&staging, &original] {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"half an upload").expect("write");
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    while staging.exists() || original.exists() {
        assert!(
            Instant::now() < deadline,
            "orphans still stored: {:?}",
            app.stored_files()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left = app.stored_files();
    assert!(
        left.iter().all(|p| p.to_string_lossy().contains(&id)),
        "only the job's own files are left: {left:?}"
    );
    assert!(!left.is_empty(), "the job's original is kept");
}

/// A tmpfs of `size` mounted at `dir`, unmounted on drop; `None` where mounting
/// is not allowed (not root, no CAP_SYS_ADMIN).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_keeps_nothing_and_recovers() {
    let dir = tempfile::tempdir().expect("tmp");
    let Some(_tmpfs) = Tmpfs::mount(dir.path(), "2m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root); scripts/soak covers it too");
        return;
    };
    let root = dir.path().to_owned();
    let app = TestApp::web_only(|s| s.storage.root = root.clone()).await;
    let filler = dir.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.flush();
    }

    let (png, _) = page_png(72);
    let r = app
        .submit(ALICE, vec![("full.png", png.clone())], &[])
        .await;
    assert_eq!(r.status().as_u16(), 507);
    let body: serde_json::Value = r.json().await.expect("json envelope");
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("full")),
        "{body}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0, "no job row");
    let stored = files_under(&dir.path().join("uploads"));
    assert!(stored.is_empty(), "nothing kept: {stored:?}");

    std::fs::remove_file(&filler).expect("free the space");
    let id = app.submit_ok(vec![("later.png", png)], &[]).await;
    assert!(!id.is_empty());
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
