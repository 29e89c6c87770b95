#!/usr/bin/env python3
"""Scale-out model: what 8–64 worker processes ask of PostgreSQL, RabbitMQ, S3
and one web replica, from per-page costs measured by `scripts/bench split` (the
defaults are the README's run; override any with a flag) and counted in the code
(crates/worker/src/queue, crates/core/src/db/queries.rs). Prints a table and the
first limit each row hits. Usage: python3 scripts/scale_model.py [--ocr-s 1.9 …]"""

import argparse
import math

# Counted in the code, per page and per task (see README, "Scale-out").
STATEMENTS_PER_PAGE = 4     # is_cancelled; record_page: INSERT … ON CONFLICT, UPDATE pages_done, SELECT
TX_PER_PAGE_CODE = 2        # is_cancelled (autocommit) + the record_page transaction
STATEMENTS_PER_TASK = 12    # claim (UPDATE, UPDATE, SELECT), set_page_count, done_pages, upload,
#                             finish_upload, job_ready_to_finish, uploads_of, finish_job_if_done (3 + UPDATE)
EVENTS_PER_PAGE = 1         # pages_done
EVENTS_PER_TASK = 3         # claimed, file finished, job finished
BROKER_PER_TASK = 2         # delivery + ack (a split adds one confirmed publish per extra range)
S3_PUTS_PER_PAGE = 3        # txt, json, and the page's PDF text layer (hocr/png when asked)
S3_GETS_PER_PAGE_MERGE = 2  # the merge reads json + the text layer back
MERGE_FETCHES_IN_FLIGHT = 8  # pages fetched at once (PAGE_FETCHES_IN_FLIGHT in upload_task.rs)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ocr-s", type=float, default=1.42, help="seconds per A4 page at 200 dpi, one core")
    p.add_argument("--tx-page", type=float, default=2.0, help="DB transactions per page, counted in the code")
    p.add_argument("--tx-job", type=float, default=12.0, help="DB transactions per one-page job, counted in the code")
    p.add_argument("--s3-page", type=float, default=5.4, help="S3 requests per page of a split PDF, measured")
    p.add_argument("--merge-ms-page", type=float, default=14.0, help="merge cost per page, measured (40 pages)")
    p.add_argument("--conns-worker", type=float, default=1.0, help="DB connections a 1-slot worker holds, measured")
    p.add_argument("--pool-size", type=int, default=8, help="database.pool_size (each process's upper bound)")
    p.add_argument("--max-connections", type=int, default=100, help="PostgreSQL max_connections")
    p.add_argument("--db-commits-s", type=float, default=3000,
                   help="assumed commits/s one small PostgreSQL sustains with fsync (not measured here)")
    p.add_argument("--events-s-web", type=float, default=5000,
                   help="assumed events/s one web replica fans out to SSE clients (not measured here)")
    p.add_argument("--s3-latency-ms", type=float, default=0.0,
                   help="latency of one GET the merge makes, 8 pages in flight (moto on loopback: ~0; S3: 10-30)")
    p.add_argument("--pages-per-task", type=int, default=10)
    p.add_argument("--doc-pages", type=int, default=400)
    a = p.parse_args()

    ranges = math.ceil(a.doc_pages / a.pages_per_task)
    print(f"model: one OCR slot per worker process on its own core, {a.ocr_s:.2f} s/page; "
          f"a {a.doc_pages}-page document splits into {ranges} ranges of {a.pages_per_task}\n")
    head = (f"{'workers':>7} {'pages/s':>8} {'DB tx/s':>8} {'DB conns':>9} {'worst':>6} {'AMQP msg/s':>10} "
            f"{'S3 req/s':>9} {f'{a.doc_pages}p OCR s':>10} {'merge s':>8} {'doc s':>7}  first limit")
    print(head)
    for n in (1, 2, 3, 8, 16, 24, 32, 48, 64):
        pages_s = n / a.ocr_s
        tx_s = pages_s * a.tx_page
        conns = n * a.conns_worker + a.pool_size  # + one web replica's pool
        worst = n * a.pool_size + a.pool_size
        tasks_s = pages_s / a.pages_per_task
        amqp = pages_s * EVENTS_PER_PAGE + tasks_s * (BROKER_PER_TASK + EVENTS_PER_TASK)
        s3 = pages_s * a.s3_page
        waves = math.ceil(ranges / n)
        ocr_doc = waves * a.pages_per_task * a.ocr_s
        merge = a.doc_pages * (a.merge_ms_page
                              + S3_GETS_PER_PAGE_MERGE * a.s3_latency_ms / MERGE_FETCHES_IN_FLIGHT) / 1000
        limits = []
        if worst > a.max_connections:
            limits.append(f"pools could open {worst} > max_connections {a.max_connections}")
        if conns > a.max_connections:
            limits.append(f"{conns:.0f} connections in use > {a.max_connections}")
        if tx_s > a.db_commits_s:
            limits.append("PostgreSQL commits/s")
        if amqp > a.events_s_web:
            limits.append("one web replica's event fan-out")
        if n >= ranges:
            limits.append(f"one document has only {ranges} ranges")
        if merge > ocr_doc:
            limits.append("the single-worker merge outlasts the OCR")
        print(f"{n:>7} {pages_s:8.1f} {tx_s:8.0f} {conns:>9.0f} {worst:>6} {amqp:>10.0f} {s3:>9.0f} "
              f"{ocr_doc:>10.0f} {merge:>8.1f} {ocr_doc + merge:>7.0f}  {'; '.join(limits) or '-'}")
    print(f"""
where it saturates first: the connection budget. Each process's pool may grow to
database.pool_size ({a.pool_size}); {math.floor((a.max_connections - a.pool_size) / a.pool_size) + 1} workers' pools can already exceed
max_connections {a.max_connections} when they all fill (retries after a database restart do), although a
1-slot worker holds about {a.conns_worker:.0f}. Move it: pool_size = slots + 2 on workers, or PgBouncer in
transaction mode in front of PostgreSQL. Commits/s ({a.tx_page:.1f} per page) stay far below a single
PostgreSQL's even at 64 workers; events and S3 requests likewise. For one large document the merge is
serial: {a.doc_pages} pages × ({a.merge_ms_page:.0f} ms + {S3_GETS_PER_PAGE_MERGE} GETs × {a.s3_latency_ms:.0f} ms / {MERGE_FETCHES_IN_FLIGHT} in flight) runs on one worker after the last page, and past {ranges} workers a
{a.doc_pages}-page document gains nothing (pages_per_task {a.pages_per_task}); merge per range (each range
leaves its merged part, the last step only concatenates; pages_per_task larger for huge documents) to move it.""")


if __name__ == "__main__":
    main()
