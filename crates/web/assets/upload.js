// The upload form, improved: file list with sizes, the server's own checks
// before anything is sent, drag and drop, and a progress bar while bytes go
// out. Without this script the form posts to /upload and still works.
"use strict";
(function () {
  const form = document.getElementById("upload");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const chosen = document.getElementById("chosen");
  const errorBox = document.getElementById("form-error");
  const submit = document.getElementById("submit");
  const sending = document.getElementById("sending");
  const bar = document.getElementById("send-progress");
  const sendStatus = document.getElementById("send-status");
  const limits = {
    fileBytes: Number(form.dataset.maxFileBytes),
    requestBytes: Number(form.dataset.maxRequestBytes),
    files: Number(form.dataset.maxFiles),
  };
  const accepted = form.dataset.accepted;
  form.noValidate = true;

  function humanBytes(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return unit === 0 ? bytes + " bytes" : value.toFixed(1) + " " + units[unit];
  }

  // The same magic numbers the server sniffs (crates/core/src/sniff.rs).
  function kindOf(head) {
    const b = head, starts = (sig, at) => sig.every((v, i) => b[(at || 0) + i] === v);
    const text = String.fromCharCode.apply(null, Array.from(b.subarray(0, 1024)));
    if (text.indexOf("%PDF-") !== -1) return "pdf";
    if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
    if (starts([0xff, 0xd8, 0xff])) return "jpeg";
    if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
    if (starts([0x42, 0x4d])) return "bmp";
    if (starts([0x47, 0x49, 0x46, 0x38])) return "gif";
    if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "webp";
    if (starts([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) || starts([0xff, 0x4f, 0xff, 0x51])) return "jp2";
    if (b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x37 && /\s/.test(String.fromCharCode(b[2]))) return "pnm";
    return null;
  }

  async function problemWith(file) {
    if (file.size === 0) return "`" + file.name + "` is empty (0 bytes)";
    if (file.size > limits.fileBytes) {
      return "`" + file.name + "` is larger than the limit of " + limits.fileBytes + " bytes";
    }
    const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
    if (!kindOf(head)) {
      return "`" + file.name + "` is in an unrecognised format, not a supported document; send " + accepted;
    }
    return null;
  }

  // Every problem with the chosen files, in the server's words, and which files have one.
  async function problems(files) {
    if (files.length === 0) return { messages: ["Choose at least one file to read."], bad: new Set() };
    const messages = [], bad = new Set();
    if (files.length > limits.files) messages.push("at most " + limits.files + (limits.files === 1 ? " file" : " files") + " per job");
    const total = files.reduce((sum, f) => sum + f.size, 0);
    if (total > limits.requestBytes) {
      messages.push("the upload is larger than the limit of " + limits.requestBytes + " bytes");
    }
    for (const file of files) {
      const problem = await problemWith(file);
      if (problem) { messages.push(problem); bad.add(file); }
    }
    return { messages, bad };
  }

  function showErrors(messages) {
    errorBox.textContent = "";
    if (messages.length === 0) { errorBox.hidden = true; return; }
    if (messages.length === 1) {
      errorBox.textContent = messages[0];
    } else {
      const list = document.createElement("ul");
      for (const m of messages) {
        const li = document.createElement("li");
        li.textContent = m;
        list.appendChild(li);
      }
      errorBox.appendChild(list);
    }
    errorBox.hidden = false;
  }

  async function listFiles() {
    const files = Array.from(input.files || []);
    const found = await problems(files);
    chosen.textContent = "";
    for (const file of files) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = file.name;
      const size = document.createElement("span");
      size.textContent = humanBytes(file.size);
      li.append(name, size);
      chosen.appendChild(li);
      if (found.bad.has(file)) li.classList.add("bad");
    }
    chosen.hidden = files.length === 0;
    showErrors(files.length ? found.messages : []);
  }

  input.addEventListener("change", listFiles);

  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (!e.dataTransfer || e.dataTransfer.files.length === 0) return;
    input.files = e.dataTransfer.files;
    listFiles();
  });

  function finishSending() {
    submit.disabled = false;
    sending.hidden = true;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const found = (await problems(Array.from(input.files || []))).messages;
    showErrors(found);
    if (found.length) { errorBox.focus(); return; }
    const body = new FormData(form);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/jobs");
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.responseType = "json";
    let announced = -1;
    xhr.upload.addEventListener("progress", (p) => {
      if (!p.lengthComputable) return;
      const percent = Math.floor((p.loaded / p.total) * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      // The text keeps up with the bar; screen readers hear it every 25%, not
      // every packet (a busy live region is announced once it is not busy).
      const step = Math.floor(percent / 25);
      sendStatus.setAttribute("aria-busy", step === announced ? "true" : "false");
      announced = step;
      sendStatus.textContent = humanBytes(p.loaded) + " of " + humanBytes(p.total) + " sent (" + percent + "%)";
    });
    xhr.upload.addEventListener("load", () => {
      sendStatus.setAttribute("aria-busy", "false");
      sendStatus.textContent = "Sent; checking the files…";
    });
    xhr.addEventListener("load", () => {
      const reply = xhr.response || {};
      if (xhr.status === 202 && reply.id) {
        sendStatus.textContent = "Accepted; opening the job…";
        window.location.assign("/jobs/" + encodeURIComponent(reply.id));
        return;
      }
      finishSending();
      const message = reply.error && reply.error.message
        ? reply.error.message
        : "The upload failed (HTTP " + xhr.status + "); try again.";
      showErrors([message]);
      errorBox.focus();
    });
    xhr.addEventListener("error", () => {
      finishSending();
      showErrors(["The connection was lost while sending; check your network and try again."]);
      errorBox.focus();
    });
    submit.disabled = true;
    sending.hidden = false;
    bar.value = 0;
    sendStatus.textContent = "Starting…";
    xhr.send(body);
  });
  errorBox.tabIndex = -1;
})();
