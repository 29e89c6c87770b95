"""Pipeline benchmarks (run via `scripts/bench accept`): accept latency under load
with an empty and a 2,000-task queue, web RSS while receiving a 1 GB upload, and
the end-to-end overhead of a one-page job beyond the worker's own OCR time."""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL = Path(os.environ.get("SCRIBE_BENCH_BIN", ROOT / "target" / "release"))
KEY = "bench-key-0001"
# `scripts/bench accept --against REV`: the revision, and the worktree it was built in.
AGAINST = None
if os.environ.get("SCRIBE_BENCH_AGAINST"):
    _tree = Path(os.environ["SCRIBE_BENCH_AGAINST_TREE"])
    AGAINST = (os.environ["SCRIBE_BENCH_AGAINST"], _tree / "target" / "release", _tree / "config")
PORT = 18470


def env_for(db, prefix, storage, port=PORT):
    return dict(
        os.environ,
        OMP_THREAD_LIMIT="1",
        SCRIBE__DATABASE__URL=f"postgres://postgres@127.0.0.1:5432/{db}",
        SCRIBE__BROKER__PREFIX=prefix,
        SCRIBE__STORAGE__ROOT=str(storage),
        SCRIBE__WEB__PORT=str(port),
        SCRIBE__WEB__API_KEYS=f"bench:{KEY}",
        SCRIBE__LIMITS__MAX_FILE_BYTES=str(2 << 30),
        SCRIBE__WEB__MAX_REQUEST_BYTES=str(2 << 30),
        SCRIBE__DATABASE__POOL_SIZE="16",
        SCRIBE_LOG="error",
    )


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def queue_depth(queue):
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "messages"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    return 0


def wait_ready(port=PORT):
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    sys.exit("scribe-web did not become ready")


def multipart(path, boundary="scribeBENCHboundary"):
    data = Path(path).read_bytes()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, boundary


def wrk(work, body, boundary, clients, secs, port=PORT):
    body_file = work / "body.bin"
    body_file.write_bytes(body)
    script = work / "post.lua"
    script.write_text(f"""
local f = io.open("{body_file}", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"
wrk.headers["Authorization"] = "Bearer {KEY}"
""")
    out = subprocess.run(["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{secs}s", "--latency",
                          "-s", str(script), f"http://127.0.0.1:{port}/api/v1/jobs"],
                         check=True, capture_output=True, text=True).stdout
    def lat(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return lat(50), lat(99), rps, int(non2xx.group(1)) if non2xx else 0


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hash_and_write_ms(data, work, rounds=50):
    """What storing one upload costs at least: SHA-256 of its bytes and one fsynced write."""
    import hashlib
    start = time.perf_counter()
    for i in range(rounds):
        hashlib.sha256(data).hexdigest()
        with open(work / f"floor-{i}", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return (time.perf_counter() - start) * 1000 / rounds


def durable_ceiling(data, work, threads=64, secs=5.0):
    """How many of these uploads per second the disk itself can make durable:
    `threads` writers, each writing the bytes to a new file and fsyncing it (no
    hashing, no HTTP, no database) for `secs`. No web tier can beat this."""
    import threading
    done = [0] * threads
    stop = time.perf_counter() + secs

    def writer(n):
        i = 0
        while time.perf_counter() < stop:
            path = work / f"ceiling-{n}-{i}"
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
            i += 1
        done[n] = i

    start = time.perf_counter()
    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def drop_queues(prefix):
    for q in ("ocr", "dead", "retry.0", "retry.1", "retry.2"):
        subprocess.run(["rabbitmqctl", "-q", "delete_queue", f"{prefix}.{q}"], capture_output=True)


def merge_seconds(db, job_id):
    """The merge of the job's file: from its last committed page to its completion."""
    return float(psql(
        "SELECT extract(epoch FROM u.finished_at - max(p.created_at)) FROM uploads u JOIN pages p "
        f"ON p.upload_id = u.id WHERE u.job_id = '{job_id}' GROUP BY u.finished_at", db))


def submit_and_wait(path, outputs, poll):
    """Submits one file, polls until the job is finished, returns the job."""
    out = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {KEY}", "-F", f"file=@{path}",
                          "-F", f"outputs={outputs}", f"http://127.0.0.1:{PORT}/api/v1/jobs"],
                         check=True, capture_output=True, text=True).stdout
    job_id = json.loads(out)["id"]
    while True:
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/v1/jobs/{job_id}",
                                     headers={"Authorization": f"Bearer {KEY}"})
        job = json.loads(urllib.request.urlopen(req).read())
        if job["status"] in ("complete", "error"):
            return job
        time.sleep(poll)


def rss_peak_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def door_rounds(web, queue, work, body, boundary, port=PORT):
    """One row per client count (1, 16, 64) against the running `web`; returns req/s by count."""
    rates = {}
    for clients in (1, 16, 64):
        depth = queue_depth(queue)
        cpu0 = cpu_seconds(web.pid)
        p50, p99, rps, errors = wrk(work, body, boundary, clients, 8, port)
        per_req = (cpu_seconds(web.pid) - cpu0) * 1000 / max(rps * 8, 1)
        print(f"{depth:>12} {clients:>8} {p50:8.2f} {p99:8.2f} {rps:8.1f} {errors:>7} {per_req:15.2f}")
        rates[clients] = rps
    return rates


def reference_door(work, body, boundary):
    """The door of the reference build (`--against`): its own web binary and config, a
    fresh database, queues and storage, the same requests."""
    rev, bin_dir, config = AGAINST
    db = f"scribe_bench_ref_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-ref-{uuid.uuid4().hex[:8]}"
    storage = work / "ref-data"
    port = PORT + 1
    env = env_for(db, prefix, storage, port)
    web = None
    try:
        psql(f"CREATE DATABASE {db}")
        subprocess.run([bin_dir / "scribe-web", "--config", config, "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        web = subprocess.Popen([bin_dir / "scribe-web", "--config", config], env=env)
        wait_ready(port)
        return door_rounds(web, f"{prefix}.ocr", work, body, boundary, port)
    finally:
        if web:
            web.terminate()
            web.wait()
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        drop_queues(prefix)
        # Its files go with the work directory, after our second round (see the floor).


def main():
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-accept-"))
    db = f"scribe_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    storage = work / "data"
    psql(f"CREATE DATABASE {db}")
    env = env_for(db, prefix, storage)
    subprocess.run([REL / "scribe-web", "--config", ROOT / "config", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)
    try:
        wait_ready()
        pdf = work / "one-mb.pdf"
        subprocess.run([REL / "scribe-fixtures", "scanned-pdf", "--pages", "4", "--dpi", "200",
                        "--out", pdf, "--truth", work / "truth.txt"], check=True)
        with open(pdf, "ab") as f:  # pad to 1 MB: trailing bytes after %%EOF are ignored by readers
            f.write(b"\n" * max(0, (1 << 20) - pdf.stat().st_size))
        body, boundary = multipart(pdf)
        print(f"accept benchmark: POST /api/v1/jobs with a {len(body) / 1e6:.2f} MB PDF, no worker running\n")
        print(f"{'queue':>12} {'clients':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7} {'web CPU ms/req':>15}")
        queue = f"{prefix}.ocr"
        ours = door_rounds(web, queue, work, body, boundary)
        if AGAINST:
            # Between our two rounds, so that both see the machine as it is in this run
            # (its CPU speed drifts by minutes); on its own database and queues.
            print(f"\nthe same requests to the reference build ({AGAINST[0]}), empty queue:")
            theirs = reference_door(work, body, boundary)
            for clients in (1, 16, 64):
                print(f"{'':>12} {clients:>8} ours {ours[clients]:.1f} req/s = "
                      f"{ours[clients] / max(theirs[clients], 0.1):.1f}× the reference's {theirs[clients]:.1f}")
            print()
        while queue_depth(queue) < 2000:
            wrk(work, body, boundary, 16, 5)
        door_rounds(web, queue, work, body, boundary)
        # After the rounds: on a journal-less ext4 every new inode is found by
        # reading past those freed in the last minute, so the ceiling's deleted
        # files (and the reference's) would tax the rounds after them by ~10%
        # of the machine.
        data = pdf.read_bytes()
        floor = hash_and_write_ms(data, work)
        print(f"\nfloor: SHA-256 + one fsynced write of the same bytes in Python: {floor:.2f} ms wall per upload")
        ceiling = durable_ceiling(data, work)
        print(f"disk ceiling: 64 writers, each file written and fsynced: {ceiling:.0f} files/s "
              f"({ceiling * len(data) / 1e6:.0f} MB/s)")
        shutil.rmtree(storage, ignore_errors=True)
        storage.mkdir(exist_ok=True)

        # A fresh process, so its high-water mark is the upload's alone.
        web.terminate()
        web.wait()
        web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)
        wait_ready()
        big = work / "big.pdf"
        with open(big, "wb") as f:
            f.write(b"%PDF-1.4\n")
            f.truncate(1 << 30)
        before = rss_peak_kb(web.pid)
        start = time.perf_counter()
        code = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                               f"Authorization: Bearer {KEY}", "-F", f"file=@{big}",
                               f"http://127.0.0.1:{PORT}/api/v1/jobs"], check=True, capture_output=True,
                              text=True).stdout
        secs = time.perf_counter() - start
        after = rss_peak_kb(web.pid)
        print(f"\n1 GB upload: HTTP {code} in {secs:.1f} s; web peak RSS {before / 1024:.0f} MB before, "
              f"{after / 1024:.0f} MB after")
        big.unlink()
    finally:
        web.terminate()
        web.wait()

    # End-to-end overhead on a fresh queue with one worker.
    prefix2 = prefix + "-e2e"
    # The same page every time: without this the duplicates would be answered
    # from the first job and measure nothing.
    env = dict(env_for(db, prefix2, storage), SCRIBE__WEB__REUSE_DUPLICATES="false")
    web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)
    worker = subprocess.Popen([REL / "scribe-worker", "run", "--config", ROOT / "config"], env=env)
    try:
        wait_ready()
        png = work / "page.png"
        subprocess.run([REL / "scribe-fixtures", "scanned-pdf", "--pages", "1", "--dpi", "150",
                        "--out", work / "p.pdf", "--truth", work / "t.txt"], check=True)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", work / "p.pdf", work / "page"], check=True)
        overheads = []
        for _ in range(15):
            job = submit_and_wait(png, "txt,json", 0.01)
            job_id = job["id"]
            created = psql(f"SELECT extract(epoch FROM finished_at - created_at) * 1000 FROM jobs WHERE id = '{job_id}'", db)
            ocr_ms = sum(p["duration_ms"] for f in job["files"] for p in f["pages"])
            overheads.append(float(created) - ocr_ms)
        print(f"\nend-to-end overhead (accepted → complete minus worker page time), 15 one-page jobs: "
              f"median {statistics.median(overheads):.0f} ms, max {max(overheads):.0f} ms")
    finally:
        worker.terminate()
        web.terminate()
        worker.wait()
        web.wait()
        psql(f"DROP DATABASE {db} WITH (FORCE)")
        for p in (prefix, prefix2):
            drop_queues(p)
        shutil.rmtree(work, ignore_errors=True)


def pg_counters(db):
    """Transactions committed and rows written in `db` so far (pg_stat_database)."""
    out = psql("SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, tup_returned + tup_fetched "
               f"FROM pg_stat_database WHERE datname = '{db}'")
    return [int(x) for x in out.split("|")]


def s3_counts(log):
    """Requests moto served so far, by method (from its access log)."""
    counts = {}
    for m in re.finditer(r'"(GET|PUT|POST|HEAD|DELETE) ', Path(log).read_text(errors="replace")):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def diff(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


def start_moto(work):
    venv = ROOT / "target" / "test-venv"
    port = free_port()
    log = work / "moto.log"
    proc = subprocess.Popen([venv / "bin" / "moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except Exception:
            time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}", log


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def submit_many(path, outputs, count):
    """Submits `count` copies at once; returns when every job is finished."""
    ids = []
    for _ in range(count):
        out = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {KEY}", "-F", f"file=@{path}",
                              "-F", f"outputs={outputs}", f"http://127.0.0.1:{PORT}/api/v1/jobs"],
                             check=True, capture_output=True, text=True).stdout
        ids.append(json.loads(out)["id"])
    for job_id in ids:
        while True:
            req = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/v1/jobs/{job_id}",
                                         headers={"Authorization": f"Bearer {KEY}"})
            job = json.loads(urllib.request.urlopen(req).read())
            if job["status"] in ("complete", "error"):
                assert job["status"] == "complete", job
                break
            time.sleep(0.1)
    return ids


def split():
    """Pages/s on 1, 2 and 3 worker processes sharing nothing but PostgreSQL,
    RabbitMQ and S3 (each its own scratch dir): one 40-page PDF split into page
    ranges, then a stream of one-page jobs; with the database transactions, S3
    requests and merge time per page that `scripts/scale_model.py` extrapolates."""
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-split-"))
    db = f"scribe_bench_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {db}")
    moto, endpoint, moto_log = start_moto(work)
    pdf = work / "forty.pdf"
    subprocess.run([REL / "scribe-fixtures", "scanned-pdf", "--pages", "40", "--dpi", "200", "--out", pdf,
                    "--truth", work / "truth.txt"], check=True)
    one = work / "one.pdf"
    subprocess.run([REL / "scribe-fixtures", "scanned-pdf", "--pages", "1", "--dpi", "200", "--out", one,
                    "--truth", work / "truth1.txt"], check=True)
    stream = int(os.environ.get("BENCH_STREAM_JOBS", 24))
    print(f"split benchmark: S3 storage (moto_server), {os.cpu_count()} cores on this machine; each worker "
          f"process 1 OCR slot, its own TMPDIR, pages_per_task 5\n")
    print(f"{'workers':>7} {'40-page PDF s':>14} {'pages/s':>8} {'merge s':>8} {'one-page jobs':>14} "
          f"{'pages/s':>8} {'DB conns':>9}")
    rows = {}
    try:
        for processes in [int(n) for n in os.environ.get("BENCH_SPLIT_WORKERS", "1,2,3").split(",")]:
            prefix = f"bench-split-{processes}-{uuid.uuid4().hex[:6]}"
            bucket = f"bench-{prefix}"
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"))
            env = dict(env_for(db, prefix, work / "no-shared-folder"), SCRIBE__WORKER__SLOTS="1",
                       SCRIBE__OCR__THREADS="1", SCRIBE__WORKER__PAGES_PER_TASK="5",
                       # A stream of the same page: each must be read, not reused.
                       SCRIBE__WEB__REUSE_DUPLICATES="false",
                       SCRIBE__STORAGE__BACKEND="s3", SCRIBE__STORAGE__BUCKET=bucket,
                       SCRIBE__STORAGE__ENDPOINT=endpoint,
                       AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_REGION="us-east-1")
            if processes == 1:
                subprocess.run([REL / "scribe-web", "--config", ROOT / "config", "migrate"], env=env, check=True,
                               stdout=subprocess.DEVNULL)
            web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)
            workers = []
            for i in range(processes):
                scratch = work / f"scratch-{processes}-{i}"
                scratch.mkdir()
                workers.append(subprocess.Popen([REL / "scribe-worker", "run", "--config", ROOT / "config"],
                                                env=dict(env, TMPDIR=str(scratch))))
            try:
                wait_ready()
                time.sleep(2)  # the workers connect and declare their queues
                pg0, s30 = pg_counters(db), s3_counts(moto_log)
                start = time.perf_counter()
                job = submit_and_wait(pdf, "txt,json,pdf", 0.1)
                secs = time.perf_counter() - start
                assert job["status"] == "complete", job
                pg1, s31 = pg_counters(db), s3_counts(moto_log)
                conns = int(psql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'"))
                merge = merge_seconds(db, job["id"])
                start = time.perf_counter()
                submit_many(one, "txt,json,pdf", stream)
                ssecs = time.perf_counter() - start
                pg2, s32 = pg_counters(db), s3_counts(moto_log)
                rows[processes] = dict(pdf=40 / secs, stream=stream / ssecs, merge=merge,
                                       pdf_pg=[b - a for a, b in zip(pg0, pg1)], pdf_s3=diff(s31, s30),
                                       one_pg=[b - a for a, b in zip(pg1, pg2)], one_s3=diff(s32, s31))
                print(f"{processes:>7} {secs:14.1f} {40 / secs:8.3f} {merge:8.2f} {stream:>5} in {ssecs:5.1f} s "
                      f"{stream / ssecs:8.3f} {conns:>9}", flush=True)
            finally:
                for w in workers:
                    w.terminate()
                web.terminate()
                for w in workers:
                    w.wait()
                web.wait()
                drop_queues(prefix)
        for n in [n for n in rows if n > 1]:
            print(f"speed-up with {n} processes: 40-page PDF {rows[n]['pdf'] / rows[1]['pdf']:.2f}x, "
                  f"one-page stream {rows[n]['stream'] / rows[1]['stream']:.2f}x")
        r = rows[1]
        print("\nmeasured costs (1 worker; PostgreSQL pg_stat_database, moto's access log). Transactions are an "
              "upper bound: they include this benchmark's own polling of the job (10/s); rows written are "
              "the pipeline's alone:")
        print(f"  40-page PDF: {r['pdf_pg'][0] / 40:.1f} transactions and {r['pdf_pg'][1] / 40:.1f} rows written "
              f"per page; S3 per page: " + ", ".join(f"{v / 40:.1f} {k}" for k, v in sorted(r['pdf_s3'].items()) if v))
        print(f"  one-page job: {r['one_pg'][0] / stream:.1f} transactions and {r['one_pg'][1] / stream:.1f} rows "
              f"written per job; S3 per job: " + ", ".join(f"{v / stream:.1f} {k}" for k, v in sorted(r['one_s3'].items()) if v))
        merges = ", ".join(f"{rows[n]['merge']:.2f}" for n in rows)
        print(f"  merge (last page committed → file complete) of the 40-page PDF on 1/2/3 workers: "
              f"{merges} s; per page {r['merge'] / 40 * 1000:.0f} ms")
    finally:
        moto.terminate()
        moto.wait()
        psql(f"DROP DATABASE {db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def search(pages=10_000, queries=300):
    """Query time over the API at `pages` pages of one owner (each ~300 words of a
    Zipf-distributed 20,000-word vocabulary, indexed as English) and the index's
    size per page."""
    import random
    rng = random.Random(7)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    vocab = sorted({"".join(rng.choice(letters[:18]) for _ in range(rng.randint(3, 10)))
                    for _ in range(26_000)})[:20_000]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-search-"))
    db = f"scribe_bench_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {db}")
    env = env_for(db, f"bench-search-{uuid.uuid4().hex[:6]}", work / "data")
    try:
        subprocess.run([REL / "scribe-web", "--config", ROOT / "config", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        job = uuid.uuid4()
        psql(f"INSERT INTO jobs (id, owner, language, formats, published) "
             f"VALUES ('{job}', 'api:bench', 'eng', '{{}}', true)", db)
        per_upload = 100
        rows = []
        for u in range(pages // per_upload):
            upload = uuid.uuid4()
            psql(f"INSERT INTO uploads (id, job_id, position, file_name, storage_key, detected_type, size_bytes, "
                 f"sha256, page_count, status) VALUES ('{upload}', '{job}', {u}, 'doc-{u}.pdf', 'k', 'pdf', 1, 'x', "
                 f"{per_upload}, 'complete')", db)
            for n in range(1, per_upload + 1):
                text = " ".join(rng.choices(vocab, weights, k=300))
                rows.append(f"{upload}\t{n}\t{text}\t0\n")
        copy = work / "pages.tsv"
        copy.write_text("".join(rows))
        start = time.perf_counter()
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc",
                        f"\\copy pages (upload_id, number, text, duration_ms) FROM '{copy}'"], check=True)
        load = time.perf_counter() - start
        psql("VACUUM ANALYZE pages", db)
        index_bytes = int(psql("SELECT pg_relation_size('pages_search')", db))
        vector_bytes = int(psql("SELECT sum(pg_column_size(search)) FROM pages", db))
        web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)
        try:
            wait_ready()
            timings = []
            for i in range(queries):
                # Mostly mid-frequency words, some rare ones, some two-word queries.
                word = vocab[rng.randint(20, 3000)] if i % 3 else vocab[rng.randint(3000, 19_999)]
                q = word if i % 5 else f"{word} {vocab[rng.randint(20, 500)]}"
                req = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/v1/search?q={q.replace(' ', '+')}",
                                             headers={"Authorization": f"Bearer {KEY}"})
                start = time.perf_counter()
                body = json.loads(urllib.request.urlopen(req).read())
                timings.append((time.perf_counter() - start) * 1000)
                assert "total" in body, body
            timings.sort()
            p50 = timings[len(timings) // 2]
            p99 = timings[int(len(timings) * 0.99) - 1]
            print(f"{pages} pages ({load:.1f} s to load and index): {queries} queries over the API, "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; GIN index {index_bytes / pages:.0f} B/page, "
                  f"tsvector {vector_bytes / pages:.0f} B/page")
        finally:
            web.terminate()
            web.wait()
    finally:
        psql(f"DROP DATABASE {db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def merge(pages=400):
    """The merge of one large document: a 400-page PDF of one-line pages (cheap
    OCR, so the run is short) through the web and two 1-slot workers on local
    storage, ranges of 10; the merge is the time from the last committed page to
    the file's completion, on the worker that committed it."""
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-merge-"))
    db = f"scribe_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-merge-{uuid.uuid4().hex[:6]}"
    psql(f"CREATE DATABASE {db}")
    env = dict(env_for(db, prefix, work / "data"), SCRIBE__WORKER__SLOTS="1", SCRIBE__OCR__THREADS="1",
               SCRIBE__WORKER__PAGES_PER_TASK="10")
    subprocess.run([REL / "scribe-web", "--config", ROOT / "config", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    pdf = work / "long.pdf"
    line = "\t".join([str(pdf)] + [f"Merge benchmark page {n} of the long report" for n in range(1, pages + 1)])
    (work / "docs.tsv").write_text(line + "\n")
    subprocess.run([REL / "scribe-fixtures", "documents", work / "docs.tsv", "--dpi", "200"], check=True)
    procs = [subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=env)]
    try:
        wait_ready()
        procs += [subprocess.Popen([REL / "scribe-worker", "run", "--config", ROOT / "config"],
                                   env=dict(env, TMPDIR=str(work))) for _ in range(2)]
        start = time.perf_counter()
        job = submit_and_wait(pdf, "txt,json,hocr,pdf", 0.2)
        secs = time.perf_counter() - start
        assert job["status"] == "complete", job
        merged = merge_seconds(db, job["id"])
        size = sum(f.stat().st_size for f in (work / "data").rglob("searchable.pdf"))
        print(f"{pages}-page PDF ({pdf.stat().st_size / 1e6:.1f} MB), 2 workers, local storage: "
              f"accepted → complete {secs:.1f} s; merge (last page committed → file complete) "
              f"{merged:.2f} s = {merged / pages * 1000:.1f} ms per page; searchable PDF {size / 1e6:.1f} MB")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        psql(f"DROP DATABASE {db} WITH (FORCE)")
        drop_queues(prefix)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    mode = sys.argv[1:]
    modes = {"split": split, "search": search, "merge": merge}
    modes.get(mode[0] if mode else "", main)()
