"""OCR benchmark: the tesseract CLI, scribe-worker on one and on all cores, and
OCRmyPDF, on the same generated 20-page scanned PDF. Run via `scripts/bench ocr`."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"
WORKER = REL / "scribe-worker"
FIXTURES = REL / "scribe-fixtures"
OCRMYPDF = ROOT / "target" / "bench-venv" / "bin" / "ocrmypdf"
DPI = 200
CORES = os.cpu_count() or 1
ENV = dict(os.environ, OMP_THREAD_LIMIT="1")


def run(cmd, **kw):
    """Runs cmd; returns (seconds, peak RSS in MB of the process tree's largest member)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr.read().decode(errors='replace')}")
    return secs, usage.ru_maxrss / 1024


def cer(truth, text):
    out = subprocess.run([FIXTURES, "cer", truth, text], check=True, capture_output=True, text=True)
    return float(out.stdout)


def make_pdf(work, pages):
    pdf, truth = work / f"scan-{pages}.pdf", work / f"truth-{pages}.txt"
    subprocess.run([FIXTURES, "scanned-pdf", "--pages", str(pages), "--dpi", str(DPI),
                    "--out", pdf, "--truth", truth], check=True)
    return pdf, truth


def tesseract_cli(work, pdf, pages):
    """(a): pdftoppm to raw PGM, then the tesseract CLI once per page, on one core."""
    out = work / "a"
    out.mkdir()
    texts, total = [], 0.0
    for n in range(1, pages + 1):
        pgm = out / f"p{n}"
        secs, _ = run(["taskset", "-c", "0", "pdftoppm", "-gray", "-r", str(DPI), "-f", str(n), "-l", str(n),
                       "-singlefile", pdf, pgm])
        total += secs
        secs, _ = run(["taskset", "-c", "0", "tesseract", f"{pgm}.pgm", out / f"t{n}", "-l", "eng",
                       "--dpi", str(DPI)])
        total += secs
        texts.append((out / f"t{n}.txt").read_text())
    (out / "all.txt").write_text("\f".join(texts))
    return total, out / "all.txt"


def warm_engine(work, pdf, pages):
    """(w): one tesseract process reading every page from a list (one warm engine,
    automatic layout analysis, PSM 3), over raw renders made beforehand (not timed)."""
    out = work / "w"
    out.mkdir()
    subprocess.run(["pdftoppm", "-gray", "-r", str(DPI), pdf, out / "p"], check=True)
    renders = sorted(out.glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1]))
    (out / "list.txt").write_text("".join(f"{p}\n" for p in renders))
    secs, _ = run(["taskset", "-c", "0", "tesseract", out / "list.txt", out / "all", "-l", "eng",
                   "--dpi", str(DPI)])
    return secs, out / "all.txt"


def scribe(work, pdf, name, threads, cpus, formats="all"):
    out = work / name
    cmd = ["taskset", "-c", cpus, WORKER, "ocr", pdf, "--threads", str(threads), "--out", out, "-q",
           "--lang", "eng", "--config", ROOT / "config", "--format", formats]
    secs, rss = run(cmd)
    doc = next(out.iterdir())
    return secs, rss, doc / "text.txt", json.loads((doc / "results.json").read_text())


def ocrmypdf(work, pdf):
    out = work / "d"
    out.mkdir()
    secs, _ = run([OCRMYPDF, "--force-ocr", "--output-type", "pdf", "--sidecar", out / "side.txt",
                   "-l", "eng", "-j", str(CORES), pdf, out / "out.pdf"])
    return secs, out / "side.txt"


def main():
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-"))
    pages = 20
    pdf, truth = make_pdf(work, pages)
    print(f"document: {pages} pages, A4 scanned at {DPI} dpi, lang eng, {CORES} cores; work dir {work}\n")

    a_secs, a_text = tesseract_cli(work, pdf, pages)
    w_secs, w_text = warm_engine(work, pdf, pages)
    b_secs, b_rss, b_text, b_json = scribe(work, pdf, "b", 1, "0")
    # The CLI baseline writes text only; this run writes the same (plus results.json, which needs the word boxes anyway).
    bt_secs, _, bt_text, _ = scribe(work, pdf, "bt", 1, "0", "txt,json")
    c_secs, c_rss, c_text, _ = scribe(work, pdf, "c", CORES, f"0-{CORES - 1}")
    # What OCRmyPDF is asked for below: the searchable PDF and the text.
    cp_secs, _, cp_text, _ = scribe(work, pdf, "cp", CORES, f"0-{CORES - 1}", "txt,json,pdf")
    d_secs, d_text = ocrmypdf(work, pdf)

    rows = [
        ("(a) pdftoppm + tesseract CLI, 1 core", a_secs, cer(truth, a_text)),
        ("(w) one warm tesseract (PSM 3), renders ready", w_secs, cer(truth, w_text)),
        ("(b) scribe-worker, 1 thread, 1 core", b_secs, cer(truth, b_text)),
        ("(b') same, --format txt,json", bt_secs, cer(truth, bt_text)),
        (f"(c) scribe-worker, {CORES} threads", c_secs, cer(truth, c_text)),
        (f"(c') same, --format txt,json,pdf", cp_secs, cer(truth, cp_text)),
        (f"(d) OCRmyPDF 17, -j {CORES}", d_secs, cer(truth, d_text)),
    ]
    print(f"{'run':42} {'seconds':>8} {'pages/s':>8} {'CER':>7}")
    for name, secs, rate in rows:
        print(f"{name:42} {secs:8.2f} {pages / secs:8.3f} {rate:7.2%}")
    print(f"\nb/a = {a_secs / b_secs:.2f}   b'/a = {a_secs / bt_secs:.2f}   c/b = {b_secs / c_secs:.2f}   "
          f"c/d = {d_secs / c_secs:.2f}  c'/d = {d_secs / cp_secs:.2f}  (speed ratios; (b) and (c) write every "
          f"output: text, hOCR, JSON, PDF, previews)")
    print(f"b' time / warm engine time = {bt_secs / w_secs:.3f}  (target <= 1.05: text alone vs one warm PSM 3 engine)")

    t = {k: sum(p["timings"][k] for p in b_json["pages"]) / 1000 for k in
         ("render_ms", "preprocess_ms", "recognize_ms", "output_ms")}
    other = b_secs - sum(t.values())
    print("\n(b) time split:")
    for k, v in t.items():
        print(f"  {k[:-3]:12} {v:7.2f} s  {v / b_secs:6.1%}")
    print(f"  {'other':12} {other:7.2f} s  {other / b_secs:6.1%}  (start-up, PDF assembly, writing)")
    non_core = b_secs - t["render_ms"] - t["recognize_ms"]
    print(f"  everything but rendering and recognition: {non_core / b_secs:.1%}")

    pdf100, _ = make_pdf(work, 100)
    _, rss100, _, _ = scribe(work, pdf100, "b100", 1, "0")
    print(f"\npeak RSS of (b): {b_rss:.0f} MB on 20 pages, {rss100:.0f} MB on 100 pages")
    shutil.rmtree(work, ignore_errors=True)


def preprocess():
    """Error rate of each preprocessing step, on and off, and of JPEG renders
    (pdf2image's path) against raw PGM, on a realistic 8-page scan (every other
    page skewed 1.5° with scanner noise)."""
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-pre-"))
    pdf, truth = work / "scan.pdf", work / "truth.txt"
    subprocess.run([FIXTURES, "scanned-pdf", "--pages", "8", "--dpi", "200", "--realistic", "--out", pdf,
                    "--truth", truth], check=True)
    variants = [
        ("defaults (deskew on, binarize off, denoise off)", {}),
        ("deskew off", {"SCRIBE__PREPROCESS__DESKEW": "false"}),
        ("binarize otsu", {"SCRIBE__PREPROCESS__BINARIZE": "otsu"}),
        ("binarize adaptive", {"SCRIBE__PREPROCESS__BINARIZE": "adaptive"}),
        ("denoise on", {"SCRIBE__PREPROCESS__DENOISE": "true"}),
    ]
    print(f"{'preprocessing':50} {'CER':>7} {'seconds':>8}")
    for name, extra in variants:
        out = work / f"v{len(name)}"
        start = time.perf_counter()
        subprocess.run([WORKER, "ocr", pdf, "--out", out, "-q", "--format", "txt,json", "--config", ROOT / "config"],
                       env=dict(ENV, **extra), check=True)
        secs = time.perf_counter() - start
        print(f"{name:50} {cer(truth, out / 'scan' / 'text.txt'):7.2%} {secs:8.1f}")

    # pdf2image always renders through `pdftoppm -jpeg`; compare with our raw PGM renders.
    for fmt, flags in (("jpeg", ["-jpeg"]), ("png", ["-png", "-gray"])):
        pages, texts, render = work / f"r-{fmt}", [], 0.0
        pages.mkdir()
        for n in range(1, 9):
            start = time.perf_counter()
            subprocess.run(["pdftoppm", *flags, "-r", str(DPI), "-f", str(n), "-l", str(n), "-singlefile", pdf,
                            pages / f"p{n}"], check=True)
            render += time.perf_counter() - start
        files = sorted(pages.iterdir(), key=lambda p: int(p.stem[1:]))
        out = work / f"o-{fmt}"
        subprocess.run([WORKER, "ocr", *files, "--out", out, "-q", "--format", "txt", "--config", ROOT / "config"],
                       env=ENV, check=True)
        for f in files:
            texts.append((out / f.stem / "text.txt").read_text())
        joined = work / f"{fmt}.txt"
        joined.write_text("\f".join(texts))
        label = "pdftoppm -jpeg (what pdf2image does)" if fmt == "jpeg" else "pdftoppm -png -gray (lossless)"
        print(f"{label:50} {cer(truth, joined):7.2%} {render:8.1f}  (render seconds, 8 pages)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    preprocess() if sys.argv[1:] == ["preprocess"] else main()
