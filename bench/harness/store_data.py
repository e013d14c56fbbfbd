"""bench/store's figures in one shape for the report and plots, from its JSON or, for a
bench_store without --json, from the Markdown table it prints:

    | spec | build s | cbir p50 ms | cbir p95 ms | FAISS p50 ms | FAISS p95 ms | p50 ratio | cbir recall | FAISS recall |
"""
import re

NAMES = ("flat", "hnsw", "ivf-sq8", "ivf-pq", "ivf")


def name_of(spec):
    """A short name for a cbir spec string: flat, hnsw, ivf, ivf-sq8, ivf-pq."""
    s = spec.lower()
    if s.startswith("ivf"):
        code = re.search(r"code=(\w+)", s)
        if not code or code.group(1) == "flat":
            return "ivf"
        return "ivf-pq" if code.group(1).startswith("pq") else "ivf-" + code.group(1)
    return next((n for n in NAMES if s.startswith(n)), s.split(":")[0])


def from_log(text):
    """{"specs": [...]} from bench_store's printed table; None when it holds no row."""
    specs = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 9 or cells[0] in ("spec", "---") or not re.match(r"^[\d.]+$", cells[1]):
            continue
        v = [float(c) for c in cells[1:]]
        specs.append({"spec": cells[0], "build_s": v[0], "cbir_p50_ms": v[1], "cbir_p95_ms": v[2],
                      "faiss_p50_ms": v[3], "faiss_p95_ms": v[4], "cbir_recall": v[6], "faiss_recall": v[7]})
    dim = re.search(r"^# bench_store: .*\bdim=(\d+)", text, re.M)
    return {"dim": int(dim.group(1)) if dim else None, "specs": specs} if specs else None


def rows(data):
    """[{name, spec, build_s, cbir_p50, cbir_p95, cbir_recall, faiss_*, sweep: {cbir, faiss}}]."""
    out = []
    for s in data.get("specs", []):
        sweep = s.get("sweep") or []
        out.append({"name": s.get("name") or name_of(s["spec"]), "spec": s["spec"], "build_s": s.get("build_s"),
                    "cbir_p50": s["cbir_p50_ms"], "cbir_p95": s["cbir_p95_ms"], "cbir_recall": s["cbir_recall"],
                    "open_rss": f"{s['open_rss_mib']:.0f}" if "open_rss_mib" in s else None,
                    "faiss_p50": s["faiss_p50_ms"], "faiss_p95": s["faiss_p95_ms"], "faiss_recall": s["faiss_recall"],
                    "sweep": {side: [(p[f"{side}_recall"], p[f"{side}_p50_ms"]) for p in sweep]
                              for side in ("cbir", "faiss")}})
    return out
