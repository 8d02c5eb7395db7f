#!/usr/bin/env python3
"""Unauthenticated burst benchmark: memory, CPU and liveness under a flood of account requests.

    python3 bench/burst.py [--requests 500] [--backend sqlite|postgres] [--bin PATH]

Starts the release server on a fresh database with the production argon2 parameters
(19 MiB, t=2) and the per-IP rate limits off (`TT__AUTH__RATE_LIMITS=off`, so the hashing bound,
not the rate limit, is what holds), then for each scenario sends N requests at the same moment
while a probe polls GET /healthz every 10 ms:

- reset-confirm: POST /auth/password-reset/confirm with a made-up token (`"x"`);
- register: POST /auth/register with N distinct emails (each would need one argon2 hash).

Prints, per scenario: the answers by status, /healthz p50/p99/max during the burst, the
server's resident memory (VmRSS) before, at its peak and 30 s after, and how long memory took
to fall back under 150 MiB. Needs only the standard library and a release build.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def request(port, method, path, body=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, body=data, headers={"content-type": "application/json"})
        res = conn.getresponse()
        res.read()
        return res.status
    except (OSError, http.client.HTTPException) as e:
        return f"error:{type(e).__name__}"
    finally:
        conn.close()


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def probe(port, stop, out):
    """GET /healthz every 10 ms until `stop` is set; sends the latencies (ms) through `out`.
    A process of its own, so the burst's client threads do not delay it."""
    latencies = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    out.send(latencies)


def burst(port, pid, n, make_body, path):
    stop = threading.Event()
    peak = [rss_mib(pid)]
    probe_stop = multiprocessing.Event()
    receive, send = multiprocessing.Pipe(duplex=False)
    prober = multiprocessing.Process(target=probe, args=(port, probe_stop, send))
    prober.start()
    time.sleep(0.3)  # a few probes before the burst

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(pid))
            time.sleep(0.02)

    statuses = [None] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        gate.wait()
        statuses[i] = request(port, "POST", path, make_body(i))

    watchers = [threading.Thread(target=sample)]
    for t in watchers:
        t.start()
    workers = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in workers:
        t.start()
    before = rss_mib(pid)
    started = time.time()
    gate.wait()
    for t in workers:
        t.join()
    elapsed = time.time() - started
    time.sleep(0.3)  # and a few after it
    stop.set()
    probe_stop.set()
    healthz_ms = receive.recv()
    prober.join()
    for t in watchers:
        t.join()
    # Memory after the burst: sampled until it is back under 150 MiB or 30 s have passed.
    settled_after = None
    for tick in range(301):
        if rss_mib(pid) < 150:
            settled_after = tick / 10
            break
        time.sleep(0.1)
    return {
        "statuses": dict(Counter(statuses)),
        "burst_s": round(elapsed, 2),
        "healthz_p50_ms": round(percentile(healthz_ms, 50), 1),
        "healthz_p99_ms": round(percentile(healthz_ms, 99), 1),
        "healthz_max_ms": round(max(healthz_ms or [0]), 1),
        "healthz_probes": len(healthz_ms),
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(peak[0], 1),
        "rss_after_mib": round(rss_mib(pid), 1),
        "back_under_150_mib_after_s": settled_after,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("TT_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--bin", default=None)
    args = parser.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = Path(args.bin) if args.bin else target / "release" / "techtransfer"
    if not binary.exists():
        sys.exit(f"no release binary at {binary}; run cargo build --release")

    work = Path(tempfile.mkdtemp(prefix="tt-burst-"))
    port = free_port()
    env = dict(os.environ)
    pg_db = None
    if args.backend == "sqlite":
        env["TT__DATABASE__URL"] = f"sqlite://{work}/burst.db"
    else:
        pg_db = f"tt_burst_{os.getpid()}"
        subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {pg_db}"], check=True)
        env["TT__DATABASE__URL"] = args.pg.rsplit("/", 1)[0] + "/" + pg_db
    env.update({
        "TT__SERVER__PORT": str(port),
        "TT__LOG__LEVEL": "warn",
        "TT__MAIL__TRANSPORT": "log",
        "TT__AUTH__RATE_LIMITS": "off",
        "TT__JOBS__INTERVAL_SECS": "0",
        "TT__STORAGE__URL": str(work / "files"),
    })
    server = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(work / "server.log", "w"))
    try:
        for _ in range(300):
            if request(port, "GET", "/readyz", timeout=2) == 200:
                break
            time.sleep(0.1)
        time.sleep(1)
        print(f"server pid {server.pid}, {args.backend}, {args.requests} concurrent requests per scenario, "
              f"idle RSS {rss_mib(server.pid):.1f} MiB")
        scenarios = [
            ("reset-confirm", "/api/v1/auth/password-reset/confirm",
             lambda i: {"token": "x", "new_password": "aaaaaaaaaa"}),
            ("register", "/api/v1/auth/register",
             lambda i: {"email": f"burst{i}-{os.getpid()}@example.cn", "password": "aaaaaaaaaa",
                        "display_name": "压测"}),
        ]
        for name, path, body in scenarios:
            result = burst(port, server.pid, args.requests, body, path)
            print(f"{name}: " + json.dumps(result, ensure_ascii=False))
            time.sleep(2)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if pg_db:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
