"""The soak (run via `scripts/soak`): one web and two worker processes on loopback,
a stream of jobs with known text, and every fault the design promises to survive —
workers SIGKILLed every 10 s and restarted, one RabbitMQ restart, one PostgreSQL
restart, the web SIGKILLed in the middle of uploads, and (local storage on a
tmpfs) the storage filling up. Exits non-zero unless every accepted job
completed with its own text, no page was stored twice, every job's results
exist, every refusal was a clear 4xx/5xx with the JSON error envelope, no job
is half recorded and no stored byte is left without a job row.

Bounded: `--jobs` job submissions (default 1000) and `--max-minutes` (default 60)."""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
REL = TARGET / "release"  # --profile debug: the binaries `cargo test --workspace` built
KEY = "soak-key-000001"
S3_ENDPOINT = "http://127.0.0.1:5005"
FINAL = ("complete", "error", "cancelled")
RETRY_DELAYS = [2, 5, 15]
ORPHAN_AFTER_SECS = 6

# Words Tesseract reads reliably in DejaVu Sans; each page gets its own draw.
WORDS = """
apple basket candle harbour window garden silver morning orange pencil river
meadow castle bridge ticket summer winter autumn spring market village forest
letter number office budget report museum travel station airport planet rocket
engine button kitchen pocket bottle mirror ladder carpet blanket pillow jacket
helmet hammer anchor island desert valley canyon glacier thunder lantern marble
copper velvet cotton leather paper timber cement granite basalt quartz crystal
violet purple yellow crimson scarlet golden bronze ivory walnut cherry lemon
melon banana carrot potato tomato pepper garlic ginger butter cheese bread
coffee sugar honey salmon turtle rabbit donkey falcon eagle parrot tiger zebra
camel horse sheep goat monkey dragon wizard knight prince queen farmer sailor
doctor lawyer painter singer dancer writer reader player runner driver pilot
""".split()


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def psql(sql, db="postgres", check=True):
    r = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql],
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr.strip()}")
    return r.stdout.strip() if r.returncode == 0 else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for(pred, secs, what):
    deadline = time.time() + secs
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not happen within {secs} s")


def word_overlap(want, got):
    """Share of the expected words found in the text read (order-free)."""
    norm = lambda s: re.findall(r"[a-z0-9]+", s.lower())
    have = set(norm(got))
    want = norm(want)
    return sum(w in have for w in want) / max(len(want), 1)


def multipart(files, fields=()):
    boundary = "soak" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    for name, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), boundary



def post_job(port, body, boundary):
    """POST /api/v1/jobs; the status and body of the answer (OSError when none came)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/api/v1/jobs", body=body, headers={
            "Authorization": f"Bearer {KEY}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()

class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = Path(tempfile.mkdtemp(prefix="scribe-soak-"))
        tag = uuid.uuid4().hex[:8]
        self.db = f"scribe_soak_{tag}"
        self.prefix = f"soak-{tag}"
        self.bucket = f"scribe-soak-{tag}"
        self.port = free_port()
        self.storage = self.work / "data"
        self.storage.mkdir()
        self.tmpfs = False
        self.web = None
        self.workers = [None, None]
        self.lock = threading.Lock()
        self.failures = []
        self.accepted = {}      # job id -> {"files": [(name, [page texts])], "at": t}
        self.refusals = []      # (status, code, expected, during)
        self.unanswered = 0     # connection errors (the web was down)
        self.attempts = 0
        self.faults = {"worker_kills": 0, "web_kills": 0, "broker_restarts": 0, "db_restarts": 0,
                       "storage_full_secs": 0.0, "storage_full_refusals": 0, "cut_uploads": 0}
        self.web_down = threading.Event()
        self.storage_full = threading.Event()
        self.done = threading.Event()
        self.notes = []

    # -- processes -------------------------------------------------------
    def env(self):
        e = dict(
            os.environ,
            OMP_THREAD_LIMIT="1",
            SCRIBE_LOG=os.environ.get("SCRIBE_LOG", "warn"),
            SCRIBE__DATABASE__URL=f"postgres://postgres@127.0.0.1:5432/{self.db}",
            SCRIBE__BROKER__PREFIX=self.prefix,
            SCRIBE__BROKER__RETRY_DELAYS_SECS=",".join(map(str, RETRY_DELAYS)),
            SCRIBE__STORAGE__ROOT=str(self.storage),
            SCRIBE__WEB__PORT=str(self.port),
            SCRIBE__WEB__API_KEYS=f"soak:{KEY}",
            SCRIBE__WEB__REPUBLISH_AFTER_SECS="3",
            SCRIBE__WEB__ORPHAN_AFTER_SECS=str(ORPHAN_AFTER_SECS),
            SCRIBE__WORKER__SLOTS="1",
            SCRIBE__OCR__THREADS="1",
            SCRIBE__WORKER__PAGES_PER_TASK="4",
        )
        if self.args.storage == "s3":
            e.update(SCRIBE__STORAGE__BACKEND="s3", SCRIBE__STORAGE__BUCKET=self.bucket,
                     SCRIBE__STORAGE__ENDPOINT=S3_ENDPOINT,
                     AWS_ACCESS_KEY_ID=e.get("AWS_ACCESS_KEY_ID", "scribe-soak"),
                     AWS_SECRET_ACCESS_KEY=e.get("AWS_SECRET_ACCESS_KEY", "scribe-soak-secret"),
                     AWS_REGION=e.get("AWS_REGION", "us-east-1"))
            # No shared folder: each worker only has its own scratch directory.
            e["SCRIBE__STORAGE__ROOT"] = str(self.work / "no-shared-folder")
        return e

    def start_web(self):
        out = open(self.work / "web.log", "ab")
        self.web = subprocess.Popen([REL / "scribe-web", "--config", ROOT / "config"], env=self.env(),
                                    stdout=out, stderr=out)
        wait_for(lambda: self.http_ok("/readyz"), 60, "scribe-web ready")

    def start_worker(self, i):
        scratch = self.work / f"scratch-{i}"
        scratch.mkdir(exist_ok=True)
        out = open(self.work / f"worker-{i}.log", "ab")
        env = dict(self.env(), TMPDIR=str(scratch))
        self.workers[i] = subprocess.Popen([REL / "scribe-worker", "run", "--config", ROOT / "config"],
                                           env=env, stdout=out, stderr=out)

    def http_ok(self, path):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2)
            return True
        except Exception:
            return False

    def get(self, path, timeout=30):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     headers={"Authorization": f"Bearer {KEY}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # -- documents -------------------------------------------------------
    def page_text(self, job, page):
        return f"Soak {job} page {page} " + " ".join(self.rng.sample(WORDS, 9))

    def plan(self):
        """Every submission: its files with their page texts, or a deliberate refusal."""
        docs = self.work / "docs"
        docs.mkdir()
        plans, lines = [], []
        for n in range(self.args.jobs):
            r = self.rng.random()
            if r < 0.04:
                kind = self.rng.choice(["not_a_document", "empty", "unknown_language"])
                plans.append({"refuse": kind})
                continue
            files = []
            shapes = ["png"]
            if r < 0.25:
                shapes = ["pdf2"]
            elif r < 0.32:
                shapes = ["pdf3"]
            elif r < 0.36:
                shapes = ["pdf9"]
            elif r < 0.44:
                shapes = ["png", "pdf2"]
            for f, shape in enumerate(shapes):
                pages = {"png": 1, "pdf2": 2, "pdf3": 3, "pdf9": 9}[shape]
                texts = [self.page_text(n, p + 1) for p in range(pages)]
                path = docs / f"job{n:05d}-{f}.{'png' if shape == 'png' else 'pdf'}"
                lines.append("\t".join([str(path)] + texts))
                files.append((path, texts))
            plans.append({"files": files})
        (self.work / "docs.tsv").write_text("\n".join(lines) + "\n")
        subprocess.run([REL / "scribe-fixtures", "documents", self.work / "docs.tsv", "--dpi", "200"],
                       check=True)
        return plans

    # -- submitting ------------------------------------------------------
    def submit(self, plan):
        """One POST; returns the HTTP status, or None when nothing answered."""
        fields = []
        if "refuse" in plan:
            kind = plan["refuse"]
            if kind == "not_a_document":
                files = [("notes.png", b"this is plain text, not a scan\n" * 40)]
            elif kind == "empty":
                files = [("empty.pdf", b"")]
            else:
                files = [("scan.png", (self.work / "docs").glob("*.png").__next__().read_bytes())]
                fields = [("language", "xx-nonexistent")]
        else:
            files = [(p.name, p.read_bytes()) for p, _ in plan["files"]]
            fields = [("outputs", "txt,json,pdf" if any(p.suffix == ".pdf" for p, _ in plan["files"])
                       else "txt,json")]
        body, boundary = multipart(files, fields)
        during = "web down" if self.web_down.is_set() else "storage full" if self.storage_full.is_set() else ""
        try:
            status, raw = post_job(self.port, body, boundary)
        except OSError:
            with self.lock:
                self.unanswered += 1
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        with self.lock:
            if status == 202 and "refuse" not in plan:
                self.accepted[data["id"]] = {"files": plan["files"], "at": time.time()}
            elif status == 202:
                self.failures.append(f"a deliberately bad upload ({plan['refuse']}) was accepted")
            else:
                err = (data or {}).get("error") if isinstance(data, dict) else None
                ok = (400 <= status < 600 and isinstance(err, dict) and isinstance(err.get("code"), str)
                      and isinstance(err.get("message"), str) and err["message"])
                self.refusals.append((status, err.get("code") if isinstance(err, dict) else None,
                                      plan.get("refuse"), during))
                if not ok:
                    self.failures.append(f"refusal without the JSON error envelope: HTTP {status} {raw[:200]!r}")
                elif "refuse" not in plan and status < 500:
                    self.failures.append(f"a good upload was refused: HTTP {status} {err}")
        return status

    def active_jobs(self):
        out = psql("SELECT count(*) FROM jobs WHERE status IN ('pending','processing')", self.db, check=False)
        return int(out) if out else None

    def submitter(self, queue):
        while True:
            with self.lock:
                if not queue:
                    return
                plan = queue.pop(0)
                self.attempts += 1
            while True:
                if time.time() > self.deadline:
                    return
                active = self.active_jobs()
                if active is not None and active < self.args.backlog:
                    break
                time.sleep(0.3)
            status = self.submit(plan)
            # Good documents the service could not take (web down, storage full,
            # a database restart) are sent again later, as a client would.
            if "refuse" not in plan and status != 202:
                time.sleep(1)
                with self.lock:
                    queue.append(plan)

    # -- faults ----------------------------------------------------------
    def progress(self):
        with self.lock:
            return self.attempts / max(self.args.jobs, 1)

    def killer(self):
        i = 0
        while not self.done.wait(self.args.kill_every):
            w = self.workers[i % 2]
            if w and w.poll() is None:
                w.send_signal(signal.SIGKILL)
                w.wait()
                self.faults["worker_kills"] += 1
            self.start_worker(i % 2)
            i += 1

    def faulter(self):
        steps = [(0.15, self.restart_broker), (0.30, self.restart_database), (0.50, self.kill_web)]
        if self.tmpfs:
            steps.append((0.70, self.fill_storage))
        for at, step in steps:
            while self.progress() < at and not self.done.is_set():
                time.sleep(0.5)
            if self.done.is_set():
                return
            try:
                step()
            except Exception as e:  # a fault that could not be injected is a finding too
                self.failures.append(f"{step.__name__}: {e}")

    def restart_broker(self):
        log("fault: RabbitMQ stop_app / start_app")
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
        time.sleep(3)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)
        wait_for(lambda: listening(5672), 60, "RabbitMQ back")
        self.faults["broker_restarts"] += 1

    def restart_database(self):
        log("fault: PostgreSQL restart")
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                       check=True, capture_output=True)
        wait_for(lambda: listening(5432), 60, "PostgreSQL back")
        self.faults["db_restarts"] += 1

    def kill_web(self):
        """SIGKILL the web while uploads are half sent: their bytes are partly stored, their rows never."""
        log("fault: SIGKILL the web mid-upload")
        big = b"%PDF-1.4\n" + os.urandom(3 << 20)
        body, boundary = multipart([("cut.pdf", big)])
        socks = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall((f"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
                       f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode())
            s.sendall(body[: len(body) // 2])
            socks.append(s)
        time.sleep(1.0)
        self.web_down.set()
        self.web.send_signal(signal.SIGKILL)
        self.web.wait()
        self.faults["web_kills"] += 1
        self.faults["cut_uploads"] += len(socks)
        for s in socks:
            s.close()
        self.web_killed_at = time.time()
        time.sleep(1)
        if self.args.storage == "local":
            # What the cut uploads left (staging files, no row): the sweeper must remove it.
            known = set(psql("SELECT id FROM jobs", self.db, check=False).splitlines())
            self.faults["orphans_left"] = sum(1 for k in self.stored_keys() if k.split("/")[1:2]
                                              and k.split("/")[1] not in known)
        self.start_web()
        self.web_down.clear()

    def fill_storage(self):
        log("fault: storage full")
        filler = self.storage / ".soak-filler"
        with open(filler, "wb") as f:
            block = b"\0" * (1 << 20)
            try:
                while True:
                    f.write(block)
                    f.flush()
            except OSError:
                pass
        self.storage_full.set()
        started = time.time()
        # A few uploads while it is full: each must be refused clearly.
        probe = next((self.work / "docs").glob("*.png")).read_bytes()
        for _ in range(3):
            body, boundary = multipart([("full.png", probe)], [("outputs", "txt,json")])
            try:
                status, raw = post_job(self.port, body, boundary)
            except OSError as e:
                self.failures.append(f"storage full: the upload got no answer ({e})")
                continue
            try:
                err = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                err = None
            self.faults["storage_full_refusals"] += 1
            self.faults.setdefault("storage_full_statuses", []).append(status)
            if status == 202:
                self.failures.append("storage full: an upload was accepted with no space to keep it")
                self.accepted[json.loads(raw)["id"]] = {"files": [], "at": time.time(), "probe": True}
            elif status not in (503, 507) or not err:
                self.failures.append(f"storage full: HTTP {status} {raw[:200]!r} (want 507/503 with the envelope)")
        time.sleep(self.args.full_secs)  # workers meet the full disk too: they must retry
        filler.unlink()
        self.storage_full.clear()
        self.faults["storage_full_secs"] = time.time() - started
        log("storage has space again")

    # -- checks ----------------------------------------------------------
    def stored_keys(self):
        """Every stored object (and, locally, every file, staging files included)."""
        if self.args.storage == "local":
            return [str(p.relative_to(self.storage)) for p in self.storage.rglob("*") if p.is_file()]
        keys, token = [], None
        while True:
            url = f"{S3_ENDPOINT}/{self.bucket}?list-type=2" + (f"&continuation-token={urllib.request.quote(token)}" if token else "")
            xml = urllib.request.urlopen(url, timeout=30).read().decode()
            keys += re.findall(r"<Key>([^<]+)</Key>", xml)
            m = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", xml)
            if not m:
                return keys
            token = m.group(1)

    def incomplete_multipart(self):
        if self.args.storage != "s3":
            return 0
        xml = urllib.request.urlopen(f"{S3_ENDPOINT}/{self.bucket}?uploads", timeout=30).read().decode()
        return len(re.findall(r"<UploadId>", xml))

    def check(self):
        jobs = dict(line.split("|") for line in psql("SELECT id, status FROM jobs", self.db).splitlines() if line)
        pages = files = 0
        worst = 1.0
        for job_id, info in self.accepted.items():
            status = jobs.get(job_id)
            if status != "complete":
                self.failures.append(f"job {job_id} is {status}, not complete")
                continue
            code, raw = self.get(f"/api/v1/jobs/{job_id}/results")
            if code != 200:
                self.failures.append(f"job {job_id}: GET results → {code}")
            code, raw = self.get(f"/api/v1/jobs/{job_id}")
            view = json.loads(raw)
            for (path, texts), f in zip(info["files"], view["files"]):
                files += 1
                pages += len(texts)
                if f["status"] != "complete":
                    self.failures.append(f"job {job_id} file {path.name}: {f['status']} {f.get('error')}")
                    continue
                code, text = self.get(f"/api/v1/jobs/{job_id}/files/{f['id']}/text")
                score = word_overlap(" ".join(texts), text.decode("utf-8", "replace"))
                worst = min(worst, score)
                if code != 200 or score < 0.8:
                    self.failures.append(f"job {job_id} file {path.name}: its own text? overlap {score:.2f} "
                                         f"(HTTP {code}): {text[:120]!r}")
        dup = psql("SELECT count(*) FROM (SELECT upload_id, number FROM pages GROUP BY 1, 2 "
                   "HAVING count(*) > 1) d", self.db)
        if dup != "0":
            self.failures.append(f"{dup} pages stored twice")
        bad_counts = psql("SELECT count(*) FROM uploads u WHERE status = 'complete' AND (pages_done <> page_count "
                          "OR page_count <> (SELECT count(*) FROM pages p WHERE p.upload_id = u.id))", self.db)
        if bad_counts != "0":
            self.failures.append(f"{bad_counts} complete uploads whose page rows do not match their page count")
        # No half-recorded job: every row has its files, every file its bytes,
        # and jobs whose 202 never arrived (the web killed after the commit) still finish.
        empty = psql("SELECT count(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.job_id = j.id)",
                     self.db)
        if empty != "0":
            self.failures.append(f"{empty} jobs without files")
        unknown = [j for j in jobs if j not in self.accepted]
        for j in unknown:
            if jobs[j] not in FINAL:
                self.failures.append(f"job {j} (its 202 never arrived) is stuck {jobs[j]}")
        keys = set(self.stored_keys())
        for key in psql("SELECT storage_key FROM uploads", self.db).splitlines():
            if key and key not in keys:
                self.failures.append(f"an upload row without its stored original: {key}")
        # No orphaned bytes once the sweeper has run.
        time.sleep(max(0.0, self.web_killed_at + ORPHAN_AFTER_SECS * 2 + 3 - time.time())
                   if hasattr(self, "web_killed_at") else 0)
        deadline = time.time() + ORPHAN_AFTER_SECS * 3
        while True:
            orphans = [k for k in self.stored_keys()
                       if len(k.split("/")) < 2 or k.split("/")[1] not in jobs]
            if not orphans or time.time() > deadline:
                break
            time.sleep(1)
        if orphans:
            self.failures.append(f"{len(orphans)} stored files no job row owns, e.g. {orphans[:3]}")
        retries = sum(p.read_text(errors="replace").count("transient failure; retrying later")
                      for p in self.work.glob("worker-*.log"))
        dead = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "messages"],
                              capture_output=True, text=True).stdout
        dead = next((int(l.split()[1]) for l in dead.splitlines() if l.split()[:1] == [f"{self.prefix}.dead"]), 0)
        return {"pages": pages, "files": files, "unknown": len(unknown), "worst_overlap": worst,
                "dead_letters": dead, "retries": retries, "incomplete_multipart": self.incomplete_multipart()}

    # -- the run ---------------------------------------------------------
    def run(self):
        a = self.args
        if a.storage == "local" and not a.no_tmpfs:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={a.tmpfs_mb}m", "tmpfs", self.storage],
                               capture_output=True, text=True)
            self.tmpfs = r.returncode == 0
            if not self.tmpfs:
                self.notes.append(f"storage-full fault skipped: cannot mount a tmpfs ({r.stderr.strip()})")
        elif a.storage == "s3":
            self.notes.append("storage-full fault skipped on S3: the S3 server has no quota to fill")
            urllib.request.urlopen(urllib.request.Request(f"{S3_ENDPOINT}/{self.bucket}", method="PUT"), timeout=30)
        else:
            self.notes.append("storage-full fault skipped: --no-tmpfs")
        psql(f"CREATE DATABASE {self.db}")
        subprocess.run([REL / "scribe-web", "--config", ROOT / "config", "migrate"], env=self.env(), check=True,
                       stdout=subprocess.DEVNULL)
        plans = self.plan()
        log(f"{a.jobs} submissions planned ({sum('refuse' in p for p in plans)} deliberately bad), "
            f"storage {a.storage}{' on a tmpfs' if self.tmpfs else ''}, work dir {self.work}")
        self.start_web()
        self.start_worker(0)
        self.start_worker(1)
        started = time.time()
        self.deadline = started + a.max_minutes * 60
        queue = list(plans)
        threads = [threading.Thread(target=self.submitter, args=(queue,), daemon=True) for _ in range(a.clients)]
        killer = threading.Thread(target=self.killer, daemon=True)
        faulter = threading.Thread(target=self.faulter, daemon=True)
        for t in threads + [killer, faulter]:
            t.start()
        for t in threads:
            t.join()
        faulter.join()
        log(f"all submitted ({len(self.accepted)} accepted); waiting for the jobs to finish")
        while time.time() < self.deadline:
            active = self.active_jobs()
            if active == 0:
                break
            time.sleep(1)
        else:
            self.failures.append(f"timed out after {a.max_minutes} min with jobs still active")
        self.done.set()
        killer.join()
        elapsed = time.time() - started
        figures = self.check()
        self.summary(elapsed, figures)
        return not self.failures

    def summary(self, elapsed, f):
        codes = {}
        for status, code, _, _ in self.refusals:
            codes[f"{status} {code}"] = codes.get(f"{status} {code}", 0) + 1
        fl = self.faults
        print(f"""
soak summary ({self.args.storage} storage{', tmpfs' if self.tmpfs else ''}):
  submissions     {self.attempts} POSTs for {self.args.jobs} planned; {len(self.accepted)} jobs accepted (202),
                  {len(self.refusals)} refused ({', '.join(f'{v}× {k}' for k, v in sorted(codes.items()))}),
                  {self.unanswered} unanswered while the web was down
  work            {f['files']} files, {f['pages']} pages in {elapsed:.0f} s ({f['pages'] / elapsed:.2f} pages/s)
  faults          {fl['worker_kills']} worker SIGKILLs, {fl['web_kills']} web SIGKILL ({fl['cut_uploads']} uploads cut),
                  {fl['broker_restarts']} RabbitMQ restart, {fl['db_restarts']} PostgreSQL restart,
                  storage full for {fl['storage_full_secs']:.0f} s (probe uploads answered
                  {fl.get('storage_full_statuses', [])}); files the cut uploads left: {fl.get('orphans_left', '-')}
  checks          worst word overlap {f['worst_overlap']:.2f}; jobs whose 202 never arrived: {f['unknown']};
                  worker retries of transient failures: {f['retries']};
                  dead letters: {f['dead_letters']}; incomplete S3 multipart uploads: {f['incomplete_multipart']}
  failures found  {len(self.failures)}""")
        for n in self.notes:
            print(f"  note            {n}")
        for x in self.failures[:30]:
            print(f"  FAIL {x}")
        print(f"\nsoak {'passed' if not self.failures else 'FAILED'}", flush=True)

    def cleanup(self):
        self.done.set()
        for p in self.workers + [self.web]:
            if p and p.poll() is None:
                p.kill()
                p.wait()
        # The broker and the database must be running for everyone else, whatever happened.
        if not listening(5672):
            subprocess.run(["rabbitmqctl", "-q", "start_app"], capture_output=True)
        if not listening(5432):
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           capture_output=True)
        psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)", check=False)
        for q in ["ocr", "dead"] + [f"retry.{i}" for i in range(len(RETRY_DELAYS))]:
            subprocess.run(["rabbitmqctl", "-q", "delete_queue", f"{self.prefix}.{q}"], capture_output=True)
        if self.tmpfs:
            subprocess.run(["umount", "-l", self.storage], capture_output=True)
        if self.failures or self.args.keep:
            logs = ROOT / "target" / "soak-logs"
            shutil.rmtree(logs, ignore_errors=True)
            logs.mkdir(parents=True, exist_ok=True)
            for p in self.work.glob("*.log"):
                shutil.copy(p, logs / p.name)
            print(f"logs: {logs}")
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=int(os.environ.get("SOAK_JOBS", 1000)))
    p.add_argument("--storage", choices=["local", "s3"], default=os.environ.get("SOAK_STORAGE", "local"))
    p.add_argument("--max-minutes", type=float, default=float(os.environ.get("SOAK_MAX_MINUTES", 60)))
    p.add_argument("--kill-every", type=float, default=10.0, help="seconds between worker SIGKILLs")
    p.add_argument("--clients", type=int, default=3, help="concurrent uploaders")
    p.add_argument("--backlog", type=int, default=12, help="jobs in flight before uploaders wait")
    p.add_argument("--full-secs", type=float, default=6.0, help="how long the storage stays full")
    p.add_argument("--tmpfs-mb", type=int, default=384)
    p.add_argument("--no-tmpfs", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the logs in target/soak-logs")
    p.add_argument("--profile", choices=["release", "debug"], default="release",
                   help="which build's binaries to run (scripts/test uses the debug ones it built)")
    args = p.parse_args()
    global REL
    REL = TARGET / args.profile
    soak = Soak(args)
    try:
        ok = soak.run()
    finally:
        soak.cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
