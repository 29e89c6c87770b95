//! Search inside every document: the owner's pages only, PostgreSQL's
//! web-search syntax, excerpts with the matches marked, and boxes that sit on
//! the matched words of the page as uploaded.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

/// A word of `text` at least 7 letters long that `other` does not contain.
fn distinctive(text: &str, other: &str) -> String {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase())
            .filter(|w| w.chars().count() >= 7 && w.chars().all(char::is_alphabetic))
            .collect()
    };
    let others = words(other);
    words(text)
        .into_iter()
        .find(|w| !others.contains(w))
        .expect("a word only on this page")
}

async fn search(app: &TestApp, key: &str, q: &str) -> (u16, Value) {
    let url = format!("/api/v1/search?q={}", urlencode(q));
    app.get_json(key, &url).await
}

fn urlencode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finds_the_owners_pages_with_marked_excerpts_and_boxes_on_the_words() {
    let app = TestApp::spawn(|_| {}).await;
    let (one, one_text) = page_png(41);
    let (two, two_text) = page_png(42);
    let alice = app
        .submit_ok(vec![("one.png", one.clone()), ("two.png", two)], &[])
        .await;
    let bob = app.submit(BOB, vec![("bobs.png", one.clone())], &[]).await;
    assert_eq!(bob.status().as_u16(), 202);
    let bob: Value = bob.json().await.expect("json");
    let bob = bob["id"].as_str().expect("id").to_owned();
    app.wait_for_job(&alice, Duration::from_secs(120)).await;
    let started = std::time::Instant::now();
    while app.get_json(BOB, &format!("/api/v1/jobs/{bob}")).await.1["status"] != "complete" {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "Bob's job did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let word = distinctive(&one_text, &two_text);
    let (status, found) = search(&app, ALICE, &word).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["job_id"], alice.as_str());
    assert_eq!(hit["file_name"], "one.png");
    assert_eq!(hit["page"], 1);
    let snippet = hit["snippet"].as_str().expect("snippet").to_lowercase();
    assert!(
        snippet.contains(&format!("<mark>{word}</mark>")),
        "{snippet}"
    );
    assert!(
        hit["job_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("/jobs/{alice}#page-")))
    );

    // The boxes lie on ink of the uploaded image, where the word is.
    let image = image::load_from_memory(&one).expect("png").into_luma8();
    assert_eq!(hit["page_width"], image.width());
    let boxes = hit["boxes"].as_array().expect("boxes");
    assert!(!boxes.is_empty(), "{hit}");
    for b in boxes {
        let [x, y, w, h] =
            ["x", "y", "width", "height"].map(|k| b[k].as_u64().expect("number") as u32);
        assert!(x + w <= image.width() && y + h <= image.height(), "{b}");
        let dark = (y..y + h)
            .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
            .filter(|&(xx, yy)| image.get_pixel(xx, yy).0[0] < 128)
            .count();
        assert!(
            dark * 20 > (w * h) as usize,
            "the box {b} holds almost no ink"
        );
        // A word of 7+ letters is wider than tall.
        assert!(w > h, "{b}");
    }
    let preview = app
        .download(hit["preview_url"].as_str().expect("preview"))
        .await;
    assert_eq!(preview.status().as_u16(), 200);

    // Bob finds his own copy only.
    let (_, bobs) = search(&app, BOB, &word).await;
    assert_eq!(bobs["total"], 1, "{bobs}");
    assert_eq!(bobs["hits"][0]["job_id"], bob.as_str());

    // The web-search syntax: or, -word, quoted phrases.
    let other = distinctive(&two_text, &one_text);
    let (_, either) = search(&app, ALICE, &format!("{word} or {other}")).await;
    assert_eq!(either["total"], 2, "{either}");
    let (_, without) = search(
        &app,
        ALICE,
        &format!("{word} -{}", distinctive(&one_text, "")),
    )
    .await;
    assert_eq!(without["total"], 0, "{without}");
    let phrase: Vec<&str> = one_text.split_whitespace().take(2).collect();
    let (_, quoted) = search(&app, ALICE, &format!("\"{} {}\"", phrase[0], phrase[1])).await;
    assert!(quoted["total"].as_i64().unwrap_or(0) >= 1, "{quoted}");
    let (_, nothing) = search(&app, ALICE, "zzqxjwv").await;
    assert_eq!(nothing["total"], 0);
    assert_eq!(nothing["hits"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_that_keeps_its_own_text_is_found_with_boxes_on_its_words() {
    let app = TestApp::spawn(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = scribe_fixtures::page_text(43, 4);
    let path = dir.path().join("digital.pdf");
    scribe_fixtures::pdf::write_text(std::slice::from_ref(&lines), &path).expect("pdf");
    let job = app
        .submit_ok(
            vec![("digital.pdf", std::fs::read(&path).expect("read"))],
            &[],
        )
        .await;
    app.wait_for_job(&job, Duration::from_secs(60)).await;

    let word = distinctive(&lines.join(" "), "");
    let (status, found) = search(&app, ALICE, &word).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    let boxes = hit["boxes"].as_array().expect("boxes");
    assert!(!boxes.is_empty(), "no boxes on a born-digital page: {hit}");
    // Where poppler places the word on the page, in points.
    let placed = std::process::Command::new("pdftotext")
        .args(["-bbox", &path.to_string_lossy(), "-"])
        .output()
        .expect("pdftotext");
    let placed = String::from_utf8_lossy(&placed.stdout);
    let x_min: f64 = placed
        .lines()
        .find(|l| {
            l.split('>').nth(1).is_some_and(|t| {
                t.trim_end_matches("</word")
                    .trim_matches(|c: char| !c.is_alphabetic())
                    .eq_ignore_ascii_case(&word)
            })
        })
        .and_then(|l| l.split("xMin=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{word} not in {placed}"));
    let scale = hit["page_width"].as_f64().expect("page_width") / 612.0;
    let b = &boxes[0];
    let [x, y, w, h] = ["x", "y", "width", "height"].map(|k| b[k].as_u64().expect("number"));
    assert!(
        x + w <= hit["page_width"].as_u64().expect("width")
            && y + h <= hit["page_height"].as_u64().expect("height"),
        "{b}"
    );
    assert!(w > h, "{b}");
    assert!(
        (x as f64 / scale - x_min).abs() < 3.0,
        "the box {b} is not where the word is ({x_min} pt)"
    );
}

#[tokio::test]
async fn a_search_without_words_or_a_key_is_refused_clearly() {
    let app = TestApp::web_only(|_| {}).await;
    let (status, body) = search(&app, ALICE, "   ").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "missing_query", "{body}");
    let (status, body) = search(&app, ALICE, &"long ".repeat(200)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "query_too_long", "{body}");
    let r = app
        .client
        .get(app.url("/api/v1/search?q=tax"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 401);
    // Syntax PostgreSQL would choke on in to_tsquery is just words here.
    let (status, body) = search(&app, ALICE, "tax & (rate | \"").await;
    assert_eq!(status, 200, "{body}");
    // Control characters (schemathesis found NUL) are not words, not a 503.
    let (status, body) = search(&app, ALICE, "tax\u{0}rate\u{1f}").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = search(&app, ALICE, "\u{0}\u{7}").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "missing_query", "{body}");
}
