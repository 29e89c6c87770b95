// The job page, live: follows /api/v1/jobs/{id}/events (Server-Sent Events,
// relayed from the broker by whichever web replica this browser reached),
// moves the progress bars page by page from the events themselves, and swaps
// in each file's finished card as rendered by the server. Falls back to
// polling the job's JSON.
"use strict";
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const jobId = root.dataset.job;
  const csrf = root.dataset.csrf;
  const live = document.getElementById("job-status");
  // Copying needs this script: the buttons stay hidden without it, and cards
  // swapped in later arrive hidden too.
  const revealCopy = () => root.querySelectorAll("button.copy[hidden]").forEach((b) => { b.hidden = false; });
  revealCopy();
  new MutationObserver(revealCopy).observe(root, { childList: true, subtree: true });
  const notice = document.getElementById("notice");
  const finished = (s) => s === "complete" || s === "error" || s === "cancelled";
  const labels = { pending: "Pending", processing: "Processing", complete: "Complete", error: "Error", cancelled: "Cancelled" };
  let source = null, poller = null, inFlight = false, again = false, done = finished(root.dataset.status);

  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");

  // The same sentences the server writes (portal/job_page.rs `summary`).
  function summary(view) {
    const files = view.files.length;
    const failed = view.files_failed;
    const p = view.progress;
    switch (view.status) {
      case "pending": return "Waiting for a worker · " + plural(files, "file");
      case "processing":
        if (p.pages_total === 0) return "Reading the files";
        return p.pages_total_final ? "Reading · " + p.pages_done + " of " + p.pages_total + " pages done"
          : "Reading · " + p.pages_done + " of ≥ " + p.pages_total + " pages done · counting…";
      case "complete":
        return failed > 0 ? "Complete · " + failed + " of " + files + " files failed"
          : "Complete · " + plural(files, "file") + ", " + plural(p.pages_total, "page");
      case "cancelled":
        return p.pages_done > 0 ? "Cancelled · " + plural(p.pages_done, "page") + " read before the cancel" : "Cancelled";
      default: return "No file could be read";
    }
  }

  function setJobStatus(status) {
    const label = document.getElementById("job-status-label");
    label.className = "status status-" + status;
    label.textContent = "";
    if (!finished(status)) {
      const spin = document.createElement("span");
      spin.className = "spinner";
      spin.setAttribute("aria-hidden", "true");
      label.appendChild(spin);
    }
    label.append(labels[status] || status);
    root.dataset.status = status;
    document.title = "Job " + (labels[status] || status) + " · Scribe";
  }

  async function swapCard(card, file) {
    const r = await fetch("/jobs/" + encodeURIComponent(jobId) + "/files/" + encodeURIComponent(file.id), { headers: { Accept: "text/html" } });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = doc.querySelector("li.file");
    if (fresh && card.isConnected) card.replaceWith(document.importNode(fresh, true));
  }

  function updateCard(file) {
    const card = document.getElementById("file-" + file.id);
    if (!card) return;
    const bar = card.querySelector(".file-progress");
    const text = card.querySelector(".file-progress-label");
    if (bar) {
      bar.max = Math.max(file.page_count || 1, 1);
      bar.value = file.pages_done;
    }
    if (text) {
      text.textContent = file.status === "pending" ? "Waiting for a worker"
        : file.page_count == null ? "Reading the file" : file.pages_done + " of " + file.page_count + " pages";
    }
    if (card.dataset.status !== file.status) {
      if (finished(file.status)) {
        card.dataset.status = file.status;
        swapCard(card, file);
      } else {
        card.dataset.status = file.status;
        card.className = "file status-" + file.status;
        const badge = card.querySelector(".badge");
        if (badge) badge.textContent = labels[file.status] || file.status;
      }
    }
  }

  // Once the job is over, take the header and facts (duration, results link) from the server.
  async function finish() {
    stop();
    const r = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    for (const selector of [".job-head", ".facts"]) {
      const fresh = doc.querySelector(selector), old = root.querySelector(selector);
      if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    }
    // Files the events did not finish (a cancelled job's) take the server's word too.
    for (const fresh of doc.querySelectorAll("li.file")) {
      const old = document.getElementById(fresh.id);
      if (old && old.dataset.status !== fresh.dataset.status) old.replaceWith(document.importNode(fresh, true));
    }
  }

  // A desktop notification when the job ends while this tab is in the
  // background. Permission is asked only from the button's click (browsers
  // ignore or penalise asking on load); the button shows only where it can help.
  const notifyMe = document.getElementById("notify-me");
  const canNotify = () => "Notification" in window && window.isSecureContext !== false;
  function showNotifyButton() {
    if (!notifyMe) return;
    notifyMe.hidden = done || !canNotify() || Notification.permission !== "default";
  }
  if (notifyMe) {
    notifyMe.addEventListener("click", async () => {
      try { await Notification.requestPermission(); } catch (_) { /* old callback-only API: no notification */ }
      showNotifyButton();
      if (canNotify() && Notification.permission === "granted") live.textContent = "You will be notified when the job is done";
    });
    showNotifyButton();
  }
  function notifyFinished(view) {
    if (!canNotify() || Notification.permission !== "granted" || !document.hidden) return;
    try {
      const n = new Notification("Scribe: job " + (labels[view.status] || view.status).toLowerCase(), { body: summary(view), tag: "scribe-job-" + jobId });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (_) {
      // Some browsers allow notifications only from a service worker.
    }
  }

  function apply(view) {
    const sentence = summary(view);
    if (live.textContent !== sentence) live.textContent = sentence;
    if (root.dataset.status !== view.status) setJobStatus(view.status);
    view.files.forEach(updateCard);
    if (finished(view.status) && !done) {
      done = true;
      if (notifyMe) notifyMe.hidden = true;
      notifyFinished(view);
      finish();
    }
  }

  async function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    try {
      const r = await fetch("/api/v1/jobs/" + encodeURIComponent(jobId), { headers: { Accept: "application/json" } });
      if (r.ok) { model = await r.json(); apply(model); }
      else if (r.status === 404) { stop(); done = true; say("This job was deleted."); }
    } catch (_) {
      // The next event or poll tries again.
    } finally {
      inFlight = false;
      if (again) { again = false; refresh(); }
    }
  }

  function poll() {
    if (!poller && !done) poller = window.setInterval(refresh, 2000);
  }

  function stop() {
    if (source) { source.close(); source = null; }
    if (poller) { window.clearInterval(poller); poller = null; }
  }

  // The last job view; events patch it, so a 1000-page document costs no request per page.
  let model = null;

  function patch(event) {
    const file = model && event.upload_id ? model.files.find((f) => f.id === event.upload_id) : null;
    if (!model || (event.upload_id && !file)) { refresh(); return; }
    if (file) {
      if (event.pages_done != null) file.pages_done = event.pages_done;
      if (event.page_count != null) file.page_count = event.page_count;
      if (event.upload_status) file.status = event.upload_status;
    }
    if (event.job_status) {
      model.status = event.job_status;
    } else if (model.status === "pending" && file && file.status !== "pending") {
      // Claiming a file moves its job to processing in the same statement.
      model.status = "processing";
    }
    // As the server's views.rs computes them.
    model.progress = {
      pages_done: model.files.reduce((n, f) => n + f.pages_done, 0),
      pages_total: model.files.reduce((n, f) => n + (f.page_count || 0), 0),
      pages_total_final: model.files.every((f) => f.page_count != null || finished(f.status)),
    };
    model.files_failed = model.files.filter((f) => f.status === "error").length;
    apply(model);
  }

  function follow() {
    if (!window.EventSource) { poll(); return; }
    source = new EventSource("/api/v1/jobs/" + encodeURIComponent(jobId) + "/events");
    source.addEventListener("snapshot", (e) => {
      try { model = JSON.parse(e.data); apply(model); } catch (_) { refresh(); }
    });
    source.addEventListener("update", (e) => {
      try { patch(JSON.parse(e.data)); } catch (_) { refresh(); }
    });
    source.addEventListener("resync", refresh);
    source.addEventListener("deleted", () => {
      stop();
      done = true;
      say("This job was deleted.");
    });
    source.addEventListener("error", () => {
      // A closed stream (a proxy that buffers, a lost replica) falls back to polling.
      if (source && source.readyState === EventSource.CLOSED) { source = null; poll(); }
    });
  }

  function say(message) {
    notice.textContent = message;
    notice.hidden = !message;
  }

  document.addEventListener("submit", async (e) => {
    if (e.target.id !== "cancel") return;
    e.preventDefault();
    const button = e.target.querySelector("button");
    button.disabled = true;
    try {
      const r = await fetch("/api/v1/jobs/" + encodeURIComponent(jobId) + "/cancel", { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" } });
      const body = await r.json().catch(() => ({}));
      if (r.ok) { model = body; apply(body); return; }
      say(body.error && body.error.message ? body.error.message : "Cancelling failed (HTTP " + r.status + ").");
    } catch (_) {
      say("Cancelling failed: the connection was lost; try again.");
    }
    button.disabled = false;
  });

  document.addEventListener("click", async (e) => {
    const copy = e.target.closest("button.copy");
    if (copy) {
      const box = document.getElementById(copy.dataset.copy);
      const text = Array.from(box ? box.querySelectorAll("pre") : []).map((p) => p.textContent).join("\n\n");
      let ok = false;
      try { await navigator.clipboard.writeText(text); ok = true; } catch (_) {
        const range = document.createRange();
        range.selectNodeContents(box);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        ok = document.execCommand && document.execCommand("copy");
      }
      copy.textContent = ok ? "Copied" : "Select the text and copy it";
      live.textContent = ok ? "Text copied to the clipboard" : live.textContent;
      window.setTimeout(() => { copy.textContent = "Copy text"; }, 2500);
      return;
    }
    const preview = e.target.closest("a.preview");
    const viewer = document.getElementById("viewer");
    if (preview && viewer && viewer.showModal) {
      e.preventDefault();
      const img = document.getElementById("viewer-image");
      img.src = preview.dataset.large;
      img.alt = preview.querySelector("img").alt;
      viewer.showModal();
    }
  });

  if (!done) follow();
})();
