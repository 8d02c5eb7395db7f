#!/usr/bin/env python3
"""HTTP load benchmark with wrk over a seeded database, on SQLite, PostgreSQL or both.

    python3 bench/load.py [--backend sqlite|postgres|both] [--duration 10] [--connections 64]
                          [--threads 2] [--synthetic 10000] [--applications 30000]

Seeds a fresh database (`seed-demo --synthetic N`), starts the release server, and runs wrk
against: /healthz (the ceiling); GET /achievements/{id} over many ids; search with one repeated
query (the answer cache) and with two corpus keywords drawn at random per request; matches of
demands drawn at random; 20-item authenticated lists (connections, contracts, vouchers);
POST /auth/login; voucher approval and redemption settlement (writes).
Prints requests/s, p50 and p99 for each, each rate as a share of the /healthz ceiling of the
same run, and the SQL statements per request (from `db_statements_total` on /metrics), then the
sequential median of the 20-item connection list. Needs wrk (Debian package `wrk`) and a
release build (`cargo build --release`). Standard library only.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "Demo-Pass-2026!"
ADMIN = ("admin@demo.techtransfer.cn", "Demo-Admin-2026!")
QUERIES = ["石墨烯 散热", "锂电池 回收", "工业机器人 视觉", "污水处理", "基因 检测"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A keep-alive JSON client for setting up the run."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, token=None, expect=(200, 201)):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        if res.status not in expect:
            raise RuntimeError(f"{method} {path} → {res.status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def login(self, email, password):
        return self.call("POST", "/api/v1/auth/login", {"email": email, "password": password})["access_token"]


def statements(port):
    """The server's db_statements_total."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    found = re.search(r"^db_statements_total (\S+)$", text, re.M)
    return int(float(found.group(1))) if found else 0


def sequential_median_ms(port, path, token, n=300):
    """Median latency of `n` requests one after another on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"authorization": f"Bearer {token}"}
    times = []
    for _ in range(n):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        res.read()
        times.append((time.perf_counter() - started) * 1000)
        assert res.status == 200, res.status
    times.sort()
    return times[len(times) // 2]


def random_pairs(prefix, words):
    """A wrk script searching two words drawn at random per request (len(words)² queries:
    more than the answer cache holds, so the cache does not decide the figure)."""
    quoted = ", ".join(f'"{w}"' for w in words)
    return (f"local words = {{{quoted}}}\n"
            "function request()\n"
            f'  return wrk.format(nil, "{prefix}" .. words[math.random(#words)] .. "%20" .. words[math.random(#words)])\n'
            "end\n")


def random_paths(path, prefix, values):
    """A wrk script requesting `prefix .. value` for a value drawn at random per request."""
    quoted = ", ".join(f'"{v}"' for v in values)
    return (f"local values = {{{quoted}}}\n"
            "function request()\n"
            f'  return wrk.format(nil, "{prefix}" .. values[math.random(#values)])\n'
            "end\n")


def wrk(args, url, script=None, duration=None):
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration or args.duration}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def lua(path, text):
    Path(path).write_text(text)
    return str(path)


def prepare_redemptions(port, admin, wanted, path):
    """Redeems issued vouchers (a provider offering their category) and has each holder
    confirm, leaving `wanted` confirmed redemptions to settle."""
    client = Client(port)
    provider = client.login("service-provider1@demo.techtransfer.cn", DEMO_PASSWORD)
    holders = {}
    for n in range(1, 9):
        token = client.login(f"enterprise{n}@demo.techtransfer.cn", DEMO_PASSWORD)
        org = client.call("GET", "/api/v1/me", token=token)["organization"]
        if org:
            holders[org["id"]] = token
    vouchers, page = [], 1
    while len(vouchers) < wanted:
        batch = client.call("GET", f"/api/v1/vouchers?per_page=100&page={page}", token=admin)["items"]
        if not batch:
            break
        vouchers += [v for v in batch if v["status"] == "active" and v["enterprise_id"] in holders]
        page += 1
    started = time.time()

    def redeem(chunk):
        own, ids = Client(port), []
        for v in chunk:
            r = own.call("POST", "/api/v1/voucher-redemptions", {
                "voucher_code": v["code"], "service_fee_fen": 20_000, "invoice_no": "FP-LOAD", "description": "检测服务",
            }, token=provider)
            own.call("POST", f"/api/v1/voucher-redemptions/{r['id']}/confirm", {}, token=holders[v["enterprise_id"]])
            ids.append(r["id"])
        return ids

    chunks = [vouchers[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        ids = [i for chunk in pool.map(redeem, chunks) for i in chunk]
    path.write_text("\n".join(ids) + "\n")
    print(f"prepared {len(ids)} confirmed redemptions in {time.time() - started:.1f}s")


def seed_lists(port, client, admin, wanted=20):
    """Gives enterprise1 `wanted` connections (accepted) and `wanted` contracts with a
    university, so the list endpoints serve full 20-item pages; returns enterprise1's token."""
    enterprise = client.login("enterprise1@demo.techtransfer.cn", DEMO_PASSWORD)
    university = client.login("university1@demo.techtransfer.cn", DEMO_PASSWORD)
    seller = client.call("GET", "/api/v1/me", token=university)["organization"]["id"]
    buyer = client.call("GET", "/api/v1/me", token=enterprise)["organization"]["id"]
    owned, page = [], 1
    while len(owned) < wanted:
        items = client.call("GET", f"/api/v1/achievements?per_page=100&page={page}")["items"]
        if not items:
            break
        owned += [a["id"] for a in items if a["org_id"] == seller]
        page += 1
    for achievement in owned[:wanted]:
        conn = client.call("POST", "/api/v1/connections", {"achievement_id": achievement, "message": "压测对接"},
                           token=enterprise, expect=(201, 409))
        if conn and conn.get("id"):
            client.call("POST", f"/api/v1/connections/{conn['id']}/accept", {}, token=university)
        client.call("POST", "/api/v1/contracts", {
            "kind": "license", "title": "压测许可合同", "seller_org_id": seller, "buyer_org_id": buyer,
            "achievement_id": achievement, "amount_fen": 1_000_000,
            "payment_plan": [{"due_date": "2099-01-31", "amount_fen": 500_000},
                             {"due_date": "2099-06-30", "amount_fen": 500_000}],
        }, token=enterprise)
    return enterprise


def run_backend(args, backend, binary):
    """Seeds, serves and measures one backend; returns (results, notes)."""
    work = Path(tempfile.mkdtemp(prefix="tt-load-"))
    port = free_port()
    env = dict(os.environ)
    pg_db = None
    if backend == "sqlite":
        env["TT__DATABASE__URL"] = f"sqlite://{work}/load.db"
    else:
        pg_db = f"tt_load_{os.getpid()}"
        subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {pg_db}"], check=True)
        env["TT__DATABASE__URL"] = args.pg.rsplit("/", 1)[0] + "/" + pg_db
    env.update(
        {
            "TT__SERVER__PORT": str(port),
            "TT__SERVER__METRICS_PUBLIC": "true",
            "TT__LOG__LEVEL": "warn",
            "TT__MAIL__TRANSPORT": "log",
            "TT__AUTH__RATE_LIMITS": "off",
            "TT__JOBS__INTERVAL_SECS": "5",
            "TT__MATCHING__EMBEDDINGS__URL": "",
        }
    )
    server = None
    try:
        started = time.time()
        subprocess.run([str(binary), "seed-demo", "--synthetic", str(args.synthetic)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"seeded demo + {args.synthetic} synthetic listings in {time.time() - started:.1f}s ({backend})")
        server = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(work / "server.log", "w"))
        for _ in range(300):
            try:
                Client(port).call("GET", "/readyz")
                break
            except (OSError, RuntimeError):
                time.sleep(0.1)
        client = Client(port)
        admin = client.login(*ADMIN)
        achievements = [a["id"] for p in range(1, 11)
                        for a in client.call("GET", f"/api/v1/achievements?per_page=100&page={p}")["items"]]
        demands = [d["id"] for p in range(1, 6)
                   for d in client.call("GET", f"/api/v1/demands?per_page=100&page={p}")["items"]]
        words = sorted({k for p in range(1, 4)
                        for a in client.call("GET", f"/api/v1/achievements?per_page=100&page={p}")["items"]
                        for k in a.get("keywords", [])})
        if len(words) < 10:
            words = sorted({w for query in QUERIES for w in query.split()})
        enterprise = seed_lists(port, client, admin)

        # Voucher approval needs one submitted application per request.
        today = time.strftime("%Y-%m-%d")
        program = client.call("POST", "/api/v1/admin/voucher-programs", {
            "name": "压测创新券", "year": int(today[:4]), "total_budget_fen": 10 ** 13,
            "per_enterprise_cap_fen": 10 ** 12, "coverage_ratio_bp": 5000,
            "service_categories": ["inspection_testing", "rd_design"],
            "eligible_scales": ["large", "medium", "small", "micro"], "valid_days": 365,
            "applications_open": today, "applications_close": "2099-12-31", "settle_by": "2099-12-31",
        }, token=admin)["id"]
        enterprises = [client.login(f"enterprise{n}@demo.techtransfer.cn", DEMO_PASSWORD) for n in range(1, 9)]
        started = time.time()

        def apply(n):
            own, token = Client(port), enterprises[n]
            return [own.call("POST", f"/api/v1/voucher-programs/{program}/applications", {
                "requested_fen": 100_000, "purpose": "委托检测新材料样品", "service_category": "inspection_testing",
            }, token=token)["id"] for _ in range(n, args.applications, len(enterprises))]

        with ThreadPoolExecutor(len(enterprises)) as pool:
            ids = [i for chunk in pool.map(apply, range(len(enterprises))) for i in chunk]
        print(f"created {len(ids)} voucher applications in {time.time() - started:.1f}s")

        base = f"http://127.0.0.1:{port}"
        bearer = f'wrk.headers["Authorization"] = "Bearer {admin}"\n'
        as_enterprise = f'wrk.headers["Authorization"] = "Bearer {enterprise}"\n'
        q = urllib.parse.quote(QUERIES[0])

        def consume(name, path_prefix, file):
            # Each thread walks its own slice of the ids; once they run out the answers turn
            # 409 and are counted as non-2xx.
            return lua(work / f"{name}.lua", bearer + 'wrk.method = "POST"\n'
                       'wrk.headers["Content-Type"] = "application/json"\n'
                       + ('wrk.body = \'{"approved_fen":100000}\'\n' if name == "approve" else 'wrk.body = "{}"\n') +
                       'local ids, counter, next_thread = {}, 0, 0\n'
                       f'for id in io.lines("{file}") do ids[#ids + 1] = id end\n'
                       'function setup(thread) thread:set("slice", next_thread); next_thread = next_thread + 1 end\n'
                       f'local threads = {args.threads}\n'
                       'function request()\n'
                       '  local i = counter * threads + slice + 1\n'
                       '  counter = counter + 1\n'
                       '  local id = ids[i] or ids[#ids]\n'
                       f'  return wrk.format(nil, "{path_prefix}" .. id .. "/{name}")\n'
                       'end\n')

        (work / "applications.txt").write_text("\n".join(ids) + "\n")
        runs = [
            ("GET /healthz (ceiling)", f"{base}/healthz", None),
            ("GET /achievements/{id}", base,
             lua(work / "byid.lua", random_paths("", "/api/v1/achievements/", achievements))),
            (f"GET /achievements?q={QUERIES[0]} (same)", f"{base}/api/v1/achievements?q={q}", None),
            ("GET /achievements?q= (random pairs)", base,
             lua(work / "search.lua", random_pairs("/api/v1/achievements?q=", [urllib.parse.quote(w) for w in words]))),
            ("GET /demands/{id}/matches (random)", base,
             lua(work / "matches.lua", bearer + random_paths("", "/api/v1/demands/", [f"{d}/matches" for d in demands]))),
            ("GET /connections (20 items)", f"{base}/api/v1/connections?per_page=20", lua(work / "conn.lua", as_enterprise)),
            ("GET /contracts (20 items)", f"{base}/api/v1/contracts?per_page=20", lua(work / "contracts.lua", as_enterprise)),
            ("GET /vouchers (20 items)", f"{base}/api/v1/vouchers?per_page=20", lua(work / "vouchers.lua", bearer)),
            ("POST /auth/login", f"{base}/api/v1/auth/login",
             lua(work / "login.lua", 'wrk.method = "POST"\n'
                 'wrk.headers["Content-Type"] = "application/json"\n'
                 f'wrk.body = \'{{"email":"enterprise1@demo.techtransfer.cn","password":"{DEMO_PASSWORD}"}}\'\n')),
            ("POST …/approve (voucher)", base, consume("approve", "/api/v1/admin/voucher-applications/",
                                                       work / "applications.txt")),
            ("POST …/settle (redemption)", base, None),
        ]
        results = []
        for name, url, script in runs:
            if "settle" in name:
                prepare_redemptions(port, admin, args.redemptions, work / "redemptions.txt")
                script = consume("settle", "/api/v1/admin/voucher-redemptions/", work / "redemptions.txt")
            before = statements(port)
            r = wrk(args, url, script, duration=args.approve_duration if "…" in name else None)
            r["statements"] = (statements(port) - before) / max(r["requests"], 1)
            results.append((name, r))
            print(f"  {name:<40} {r['rps']:>10.0f} req/s  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms"
                  f"  stmts {r['statements']:>5.1f}  non-2xx {r['non_2xx']} {r['socket_errors']}", flush=True)
        notes = [f"sequential median of GET /connections (20 items): "
                 f"{sequential_median_ms(port, '/api/v1/connections?per_page=20', enterprise):.2f} ms"]
        approve, settle = results[-2][1], results[-1][1]
        notes.append(f"voucher approvals that succeeded: {approve['requests'] - approve['non_2xx']} of {len(ids)}")
        notes.append(f"settlements that succeeded: {settle['requests'] - settle['non_2xx']} of {args.redemptions}")
        return results, notes
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if pg_db:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=10000)
    parser.add_argument("--applications", type=int, default=30000)
    parser.add_argument("--approve-duration", type=int, default=3,
                        help="seconds of the approval and settlement runs (each request consumes one item)")
    parser.add_argument("--redemptions", type=int, default=3000,
                        help="confirmed redemptions prepared for the settlement run")
    parser.add_argument("--pg", default=os.environ.get("TT_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--bin", default=None)
    args = parser.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = Path(args.bin) if args.bin else target / "release" / "techtransfer"
    if not binary.exists():
        sys.exit(f"no release binary at {binary}; run cargo build --release")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    measured = {b: run_backend(args, b, binary) for b in backends}

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{args.synthetic} synthetic listings + demo data; share = req/s ÷ /healthz req/s of the same run")
    header = f"{'endpoint':<40}" + "".join(
        f" {b + ' req/s':>14} {'share':>7} {'p50 ms':>7} {'p99 ms':>7} {'stmts':>6}" for b in backends)
    print(header)
    names = [name for name, _ in measured[backends[0]][0]]
    for i, name in enumerate(names):
        line = f"{name:<40}"
        for b in backends:
            results = measured[b][0]
            r, ceiling = results[i][1], results[0][1]["rps"]
            line += (f" {r['rps']:>14.0f} {r['rps'] / ceiling:>7.1%} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}"
                     f" {r['statements']:>6.1f}")
        print(line)
    for b in backends:
        for note in measured[b][1]:
            print(f"{b}: {note}")


if __name__ == "__main__":
    main()
