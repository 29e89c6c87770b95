//! The same owner sending the same file with the same language and outputs gets
//! the earlier results at once, with no worker running; never across owners,
//! never when anything that changes the result differs, and not when it is off.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

const LIMIT: Duration = Duration::from_secs(120);

async fn text_of(app: &TestApp, job: &Value) -> String {
    let url = job["files"][0]["downloads"]["text"]
        .as_str()
        .expect("a text download");
    let r = app.download(url).await;
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_is_answered_from_the_earlier_results_without_a_worker() {
    let mut app = TestApp::spawn(|_| {}).await;
    let (png, text) = page_png(91);
    let fields = [("language", "eng"), ("outputs", "txt,json,pdf")];
    let first_id = app
        .submit_ok(vec![("scan.png", png.clone())], &fields)
        .await;
    let first = app.wait_for_job(&first_id, LIMIT).await;
    assert_eq!(first["status"], "complete", "{first}");
    assert!(first["reused_from"].is_null(), "{first}");
    app.stop_workers();

    let r = app
        .submit(ALICE, vec![("again.png", png.clone())], &fields)
        .await;
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.expect("json");
    assert_eq!(accepted["status"], "complete", "{accepted}");
    assert_eq!(accepted["reused_from"], first_id.as_str());
    let id = accepted["id"].as_str().expect("id").to_owned();
    assert_ne!(id, first_id);

    let (status, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["reused_from"], first_id.as_str());
    assert_eq!(job["files"][0]["file_name"], "again.png");
    assert_eq!(job["files"][0]["pages_done"], 1);
    let got = text_of(&app, &job).await;
    assert_eq!(got, text_of(&app, &first).await);
    assert!(cer(&got, &text) <= 0.05, "{got}");

    // Its results name its own ids and file name.
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results["job_id"], id.as_str());
    assert_eq!(results["files"][0]["upload_id"], job["files"][0]["id"]);
    assert_eq!(results["files"][0]["result"]["file_name"], "again.png");
    assert!(
        !results["files"][0]["result"]["pages"][0]["words"]
            .as_array()
            .expect("words")
            .is_empty()
    );
    let pdf = app
        .download(job["files"][0]["downloads"]["pdf"].as_str().expect("pdf"))
        .await;
    assert_eq!(pdf.status().as_u16(), 200);
    assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM pages p JOIN uploads u ON u.id = p.upload_id \
             WHERE u.job_id = '{id}'"
        )),
        1,
        "its page is searchable as its own"
    );

    // It stands alone: deleting the earlier job takes nothing from it.
    assert_eq!(app.delete(ALICE, &first_id).await.status().as_u16(), 204);
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(text_of(&app, &job).await, got);

    // With the earlier job gone, the copy is the newest identical job.
    let r = app.submit(ALICE, vec![("third.png", png)], &fields).await;
    let accepted: Value = r.json().await.expect("json");
    assert_eq!(accepted["reused_from"], id.as_str(), "{accepted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_reused_across_owners_languages_outputs_or_when_off() {
    let mut app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(92);
    let fields = [("language", "eng"), ("outputs", "txt,json")];
    let first = app.submit_ok(vec![("a.png", png.clone())], &fields).await;
    assert_eq!(app.wait_for_job(&first, LIMIT).await["status"], "complete");
    app.stop_workers();

    let pending = |r: Value| {
        assert_eq!(r["status"], "pending", "{r}");
        assert!(r["reused_from"].is_null(), "{r}");
    };
    let bob = app.submit(BOB, vec![("a.png", png.clone())], &fields).await;
    assert_eq!(bob.status().as_u16(), 202);
    pending(bob.json().await.expect("json"));
    let other_language = app
        .submit(
            ALICE,
            vec![("a.png", png.clone())],
            &[("language", "deu"), ("outputs", "txt,json")],
        )
        .await;
    pending(other_language.json().await.expect("json"));
    let other_outputs = app
        .submit(
            ALICE,
            vec![("a.png", png.clone())],
            &[("language", "eng"), ("outputs", "txt")],
        )
        .await;
    pending(other_outputs.json().await.expect("json"));
    let (other_png, _) = page_png(93);
    let more_files = app
        .submit(
            ALICE,
            vec![("a.png", png.clone()), ("b.png", other_png)],
            &fields,
        )
        .await;
    pending(more_files.json().await.expect("json"));

    // The same request is reused while on, and not on a replica with it off.
    let same = app
        .submit(ALICE, vec![("a.png", png.clone())], &fields)
        .await;
    let same: Value = same.json().await.expect("json");
    assert_eq!(same["reused_from"], first.as_str(), "{same}");
    let mut off = app.settings.clone();
    off.web.reuse_duplicates = false;
    let replica = scribe_web::Application::build(off).await.expect("replica");
    let base = format!("http://127.0.0.1:{}", replica.port());
    tokio::spawn(replica.run());
    let form = reqwest::multipart::Form::new()
        .text("language", "eng")
        .text("outputs", "txt,json")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png).file_name("a.png"),
        );
    let r = app
        .client
        .post(format!("{base}/api/v1/jobs"))
        .bearer_auth(ALICE)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 202);
    pending(r.json().await.expect("json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_earlier_job_whose_results_are_damaged_is_not_reused_but_read_again() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, text) = page_png(93);
    let fields = [("language", "eng"), ("outputs", "txt,json")];
    let first = app
        .submit_ok(vec![("scan.png", png.clone())], &fields)
        .await;
    assert_eq!(app.wait_for_job(&first, LIMIT).await["status"], "complete");
    // The file's own results.json (not the job's) is damaged in storage.
    let damaged: Vec<_> = app
        .stored_files_of(&first)
        .into_iter()
        .filter(|p| {
            p.file_name().is_some_and(|n| n == "results.json")
                && p.parent()
                    .and_then(|d| d.file_name())
                    .is_some_and(|d| d != first.as_str())
        })
        .collect();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    // Valid JSON, but not a whole result (a truncated or hand-edited file).
    std::fs::write(&damaged[0], b"{\"pages\": []}").expect("damage");

    let r = app.submit(ALICE, vec![("again.png", png)], &fields).await;
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.expect("json");
    assert!(accepted["reused_from"].is_null(), "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_owned();
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert!(job["reused_from"].is_null(), "{job}");
    let got = text_of(&app, &job).await;
    assert!(cer(&got, &text) <= 0.05, "read again: {got}");
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200);
    assert!(
        results["files"][0]["result"]["pages"].is_array(),
        "{results}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_of_several_files_is_reused_only_for_the_same_files_in_the_same_order() {
    let mut app = TestApp::spawn(|_| {}).await;
    let (a, _) = page_png(94);
    let (b, _) = page_png(95);
    let fields = [("language", "eng"), ("outputs", "txt")];
    let first = app
        .submit_ok(vec![("a.png", a.clone()), ("b.png", b.clone())], &fields)
        .await;
    assert_eq!(app.wait_for_job(&first, LIMIT).await["status"], "complete");
    app.stop_workers();

    let answer = |files: Vec<(&'static str, Vec<u8>)>| {
        let app = &app;
        async move {
            let r = app.submit(ALICE, files, &fields).await;
            assert_eq!(r.status().as_u16(), 202);
            r.json::<Value>().await.expect("json")
        }
    };
    let swapped = answer(vec![("b.png", b.clone()), ("a.png", a.clone())]).await;
    assert!(swapped["reused_from"].is_null(), "{swapped}");
    let first_only = answer(vec![("a.png", a.clone())]).await;
    assert!(first_only["reused_from"].is_null(), "{first_only}");
    let same = answer(vec![("a.png", a), ("b.png", b)]).await;
    assert_eq!(same["reused_from"], first.as_str(), "{same}");
    assert_eq!(same["status"], "complete", "{same}");
    assert_eq!(same["files"].as_array().map(Vec::len), Some(2), "{same}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_result_read_before_the_worker_was_updated_is_read_again_not_reused() {
    let mut app = TestApp::spawn(|_| {}).await;
    let (old, old_text) = page_png(96);
    let (new, _) = page_png(97);
    let fields = [("language", "eng"), ("outputs", "txt")];
    let first = app.submit_ok(vec![("old.png", old.clone())], &fields).await;
    assert_eq!(app.wait_for_job(&first, LIMIT).await["status"], "complete");
    assert_eq!(
        stamped(&app, &first),
        1,
        "a finished file names the build that read it"
    );
    // As if read by the build before an update of the worker.
    app.execute(&format!(
        "UPDATE uploads SET pipeline = 'scribe-worker 0.0.9 0123456789abcdef; tesseract 4.1.1' \
         WHERE job_id = '{first}'"
    ));
    // The updated build finishes a file: that is how files are read now.
    let second = app.submit_ok(vec![("new.png", new.clone())], &fields).await;
    assert_eq!(app.wait_for_job(&second, LIMIT).await["status"], "complete");
    app.stop_workers();

    let r = app.submit(ALICE, vec![("old.png", old)], &fields).await;
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.expect("json");
    assert_eq!(accepted["status"], "pending", "{accepted}");
    assert!(accepted["reused_from"].is_null(), "{accepted}");

    // A result of this build is reused, and its copy is as current as it.
    let r = app
        .submit(ALICE, vec![("new.png", new.clone())], &fields)
        .await;
    let copy: Value = r.json().await.expect("json");
    assert_eq!(copy["reused_from"], second.as_str(), "{copy}");
    let copy_id = copy["id"].as_str().expect("id").to_owned();
    assert_eq!(stamped(&app, &copy_id), 1);
    let r = app.submit(ALICE, vec![("new.png", new)], &fields).await;
    let again: Value = r.json().await.expect("json");
    assert_eq!(again["status"], "complete", "{again}");

    // The stale one is read again by the current build.
    app.start_worker();
    let id = accepted["id"].as_str().expect("id");
    let job = app.wait_for_job(id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(stamped(&app, id), 1);
    assert!(cer(&text_of(&app, &job).await, &old_text) <= 0.05);
}

/// How many of `job`'s files name the build that read them.
fn stamped(app: &TestApp, job: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM uploads WHERE job_id = '{job}' \
         AND pipeline LIKE 'scribe-worker %; tesseract %'"
    ))
}
