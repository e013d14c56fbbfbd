"""cbir serve under local load: requests/s and p50/p95 latency of /api/search, with the query
embedding and the index search broken out, against references measured in the same run.

    /usr/bin/python3 bench/serve/run.py [--cbir BIN] [--model DIR] [--data DIR] [--seconds S]
                                        [--connections N]

Indexes DATA/gallery with `cbir index`, starts `cbir serve` on it and drives it with wrk
(Debian's wrk, script load.lua) for S seconds per row:
  /api/search?q=TEXT   text search: HTTP + text embedding + index search + JSON (the queries of
                       DATA/queries.tsv, Chinese and English, in turn)
  /api/similar/ID      "more like this": HTTP + index search + JSON, no embedding
  /api/info            HTTP + JSON only: the floor
each with 1 connection (latency) and with N (throughput). The references: cbir serve reports
the time of every answer's parts in a Server-Timing header, timed in-process around the C API
calls: the query embedding, the index search, and reading the page's items from the catalog.
With one connection, "p50 / in-process" is the p50 latency over the sum of those parts' p50s,
and "rest" their difference: HTTP and JSON.
Figures go to stdout (a Markdown table) and bench/out/serve.json.
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def start_server(cbir, db, model):
    proc = subprocess.Popen([cbir, "serve", "--db", db, "--model", model, "--port", "0",
                             "--refresh", "0"], stdout=subprocess.PIPE, text=True)
    m = re.search(r"(http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
    if not m:
        proc.kill()
        sys.exit("cbir serve did not start")
    return proc, m.group(1)


def wrk(url, paths_file, seconds, connections):
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections),
                          "-d", f"{seconds}s", "--timeout", "30s", "-s",
                          os.path.join(HERE, "load.lua"), url, "--", paths_file],
                         check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("{"))
    return json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cbir", default=os.path.join(ROOT, "build", "cli", "cbir"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tiny-bilingual"))
    ap.add_argument("--data", default=os.path.join(ROOT, "examples", "data"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk, or scripts/setup)")

    with open(os.path.join(args.data, "queries.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    texts = [r["zh"] for r in rows] + [r["en"] for r in rows]
    work = tempfile.mkdtemp(prefix="cbir-bench-serve-")
    try:
        db = os.path.join(work, "db")
        subprocess.run([args.cbir, "index", os.path.join(args.data, "gallery"), "--db", db,
                        "--model", args.model], check=True, capture_output=True)
        proc, url = start_server(args.cbir, db, args.model)
        try:
            info = json.load(urllib.request.urlopen(url + "/api/info"))
            count = info["collection"]["count"]
            ids = [r["id"] for r in json.load(urllib.request.urlopen(
                f"{url}/api/search?k={min(count, 200)}&q=" + urllib.parse.quote(texts[0])))["results"]]
            lists = {
                "search": ["/api/search?k=24&q=" + urllib.parse.quote(t) for t in texts],
                "similar": [f"/api/similar/{i}?k=24" for i in ids],
                "info": ["/api/info"],
            }
            rows_out = []
            for name, paths in lists.items():
                paths_file = os.path.join(work, name + ".txt")
                with open(paths_file, "w", encoding="utf-8") as f:
                    f.write("\n".join(paths) + "\n")
                for c in (1, args.connections):
                    r = wrk(url, paths_file, args.seconds, c)
                    r.update(endpoint=name, connections=c)
                    rows_out.append(r)
                    print(f"{name:8} c={c}: {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                          f"p95 {r['p95_ms']:7.2f} ms", file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bad = sum(r["non_200"] + r["socket_errors"] for r in rows_out)
    print(f"model {info['model']['name']} ({info['model']['dim']}-d, {info['model']['device']}), "
          f"{count} images, index {info['collection']['effective_spec']}, {args.seconds} s per row, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}\n")
    print("| endpoint | connections | requests/s | p50 ms | p95 ms | embed p50 ms | search p50 ms "
          "| items p50 ms | p50 / in-process | rest ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows_out:
        inproc = r["embed_p50_ms"] + r["search_p50_ms"] + r["items_p50_ms"]
        single = r["connections"] == 1 and r["endpoint"] != "info"
        ratio = f"{r['p50_ms'] / inproc:.1f}x" if single and inproc > 0 else ""
        rest = f"{r['p50_ms'] - inproc:.2f}" if single else ""
        embed = f"{r['embed_p50_ms']:.2f}" if r["endpoint"] == "search" else ""
        search = f"{r['search_p50_ms']:.3f}" if r["endpoint"] != "info" else ""
        items = f"{r['items_p50_ms']:.3f}" if r["endpoint"] != "info" else ""
        print(f"| /api/{r['endpoint']} | {r['connections']} | {r['rps']:.1f} | {r['p50_ms']:.2f} | "
              f"{r['p95_ms']:.2f} | {embed} | {search} | {items} | {ratio} | {rest} |")
    if bad:
        print(f"\nWARNING: {bad} requests failed (non-200 or socket errors)")
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "out", "serve.json"), "w") as f:
        json.dump({"model": info["model"], "count": count, "rows": rows_out}, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
