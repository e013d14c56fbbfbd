"""RESULTS.md from bench/run's collected results: the machine, then every figure as cbir /
reference / ratio, then per-benchmark detail, memory and the commands. A benchmark whose JSON
this file does not know how to read is shown raw rather than dropped."""
import json

import store_data


def _table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _x(ours, ref, higher_is_better):
    """The ratio as 'N.Nx better' from cbir's side."""
    if not ours or not ref:
        return ""
    return f"{(ours / ref if higher_is_better else ref / ours):.2f}x"


def _data(run, name):
    r = run["results"].get(name)
    return r["data"] if r and r.get("data") is not None else None


# Each returns (summary rows [what, cbir, reference, ratio], detail markdown).

def tokenizer(d):
    rows = [["tokenizer, texts/s (one call per text)", f"{d['cbir_single_texts_per_s']:,.0f}",
             f"{d['python_texts_per_s']:,.0f} (Chinese-CLIP's tokenizer, Python)",
             _x(d["cbir_single_texts_per_s"], d["python_texts_per_s"], True)]]
    detail = _table(["tokenizer", "texts/s", "vs Python"], [
        ["Python reference (bench/tokenizer/reference_tokenizer.py)", f"{d['python_texts_per_s']:,.0f}", "1.0x"],
        ["cbir_tokenize, one call per text", f"{d['cbir_single_texts_per_s']:,.0f}",
         _x(d["cbir_single_texts_per_s"], d["python_texts_per_s"], True)],
        ["cbir_tokenize, all texts in one call", f"{d['cbir_batch_texts_per_s']:,.0f}",
         _x(d["cbir_batch_texts_per_s"], d["python_texts_per_s"], True)]])
    return rows, f"{d['texts']} golden texts, ids checked on both sides, 1 thread, best of {d['rounds']} rounds.\n\n" + detail


def image(d):
    rows, table = [], []
    for r in d["rows"]:
        size = f"{r['width']}x{r['height']}"
        table.append([size, r["transform"], f"{r['python_ms']:.1f}", f"{r['cbir_exact_ms']:.1f}",
                      _x(r["cbir_exact_ms"], r["python_ms"], False), f"{r['cbir_fast_ms']:.1f}",
                      _x(r["cbir_fast_ms"], r["python_ms"], False),
                      f"{r['fast_mean_abs_diff']:.2f} / {r['fast_max_abs_diff']}"])
        if r["transform"] == "clip" and r["width"] in (640, 4000):
            for mode in ("exact", "fast"):
                rows.append([f"decode + preprocess {size} JPEG, ms/image ({mode})", f"{r[f'cbir_{mode}_ms']:.1f}",
                             f"{r['python_ms']:.1f} (Pillow + torchvision)",
                             _x(r[f"cbir_{mode}_ms"], r["python_ms"], False)])
    head = ["image", "transform", "Pillow + torchvision ms", "cbir exact ms", "speed-up", "cbir fast ms",
            "speed-up", "fast vs exact: mean / max abs diff"]
    return rows, (f"CPU ms per image to a normalised 3x224x224 tensor, 1 thread, best of {d['rounds']} "
                  "rounds; exact mode's pixels checked equal to Pillow's.\n\n" + _table(head, table))


def ingest(d):
    best = {(r["precision"], r["side"]): r["images_per_s"] for r in d["results"]}
    rows, table = [], []
    for p in sorted({k[0] for k in best}):
        c, py, m = best.get((p, "cbir")), best.get((p, "python")), best.get((p, "model alone"))
        rows.append([f"indexing {p}, images/s", f"{c:.2f}", f"{py:.2f} (Python pipeline)", _x(c, py, True)])
        rows.append([f"indexing {p} vs the model alone, images/s", f"{c:.2f}", f"{m:.2f} (model alone)",
                     f"{c / m:.0%}"])
        table.append([p, f"{c:.2f}", f"{py:.2f}", f"{m:.2f}", f"{c / m:.0%}", _x(c, py, True)])
    m = d.get("machine", {})
    return rows, (f"{m.get('images', '?')} JPEGs, best of {m.get('rounds', '?')} round(s), load average up to "
                  f"{m.get('loadavg_max', [0])[0]:.1f}.\n\n" + _table(
                      ["precision", "cbir index", "Python pipeline", "model alone", "cbir / model alone",
                       "cbir / Python"], table))


def query(d, store):
    """Text query on N vectors; the reference adds raw FAISS's search at the same size and spec
    (from bench/store's run of that size) to Python's query encoding."""
    py = d["python"]
    same = store and store.get("dim") == d["dim"]  # the quick run's tiny model has 32 dimensions
    faiss = {r["name"]: r for r in store_data.rows(store)} if same else {}
    rows, table = [], []
    for s in d["specs"]:
        f = faiss.get(store_data.name_of(s["spec"]))
        ref50 = py["encode_p50_ms"] + f["faiss_p50"] if f else None
        ref = f"{ref50:.2f}" if ref50 else "n/a (no FAISS figure for this spec and dimension)"
        rows.append([f"text query p50 ms, {d['n']:,} vectors, {store_data.name_of(s['spec'])}",
                     f"{s['query_p50_ms']:.2f}", ref, _x(s["query_p50_ms"], ref50, False) if ref50 else ""])
        table.append([s["spec"], f"{s['build_s']:.1f}", f"{s['query_p50_ms']:.2f} / {s['query_p95_ms']:.2f}",
                      f"{s['search_p50_ms']:.3f} / {s['search_p95_ms']:.3f}",
                      f"{py['encode_p50_ms']:.2f} / {py['encode_p95_ms']:.2f}",
                      f"{f['faiss_p50']:.3f}" if f else "n/a", ref,
                      f"{s['recall']:.3f}" if "recall" in s else "exact"])
    head = ["spec", "build s", "cbir query p50 / p95 ms", "cbir search alone p50 / p95 ms",
            "Python encode p50 / p95 ms", "raw FAISS search p50 ms", "reference p50 ms",
            "recall@10 vs flat (the texts' own answers)"]
    return rows, (f"Bundle {d['bundle']}, {d['n']:,} synthetic vectors of {d['dim']}, k={d['k']}, "
                  f"{d['threads']} thread(s). cbir's query: cbir_model_embed_texts + cbir_collection_search "
                  f"(its text embedding alone: p50 {d['embed_p50_ms']:.2f} ms). Reference: Chinese-CLIP's "
                  "Python tokenizer + the TorchScript text tower on ids padded to 52, plus raw FAISS's "
                  "search p50 at the same size and spec from bench/store.\n\n" + _table(head, table)
                  + f"\nPeak RSS: cbir (model + collection) {d['peak_rss_mib']:.0f} MiB; the Python reference "
                  f"(text tower only, no index) {py['peak_rss_mib']:.0f} MiB.\n")


def store(d, n):
    rows, table = [], []
    for r in store_data.rows(d):
        table.append([r["spec"], f"{r['build_s']:.1f}", f"{r['cbir_p50']:.3f} / {r['cbir_p95']:.3f}",
                      f"{r['faiss_p50']:.3f} / {r['faiss_p95']:.3f}", _x(r["cbir_p50"], r["faiss_p50"], False),
                      f"{r['cbir_recall']:.3f} / {r['faiss_recall']:.3f}", r.get("open_rss") or ""])
        if n >= 100000:
            rows.append([f"search p50 / p95 ms, {n:,} vectors, {r['name']} (recall@10)",
                         f"{r['cbir_p50']:.3f} / {r['cbir_p95']:.3f} ({r['cbir_recall']:.3f})",
                         f"{r['faiss_p50']:.3f} / {r['faiss_p95']:.3f} ({r['faiss_recall']:.3f}) raw FAISS",
                         _x(r["cbir_p50"], r["faiss_p50"], False)])
    head = ["spec", "build s", "cbir p50 / p95 ms", "raw FAISS p50 / p95 ms", "p50: cbir's advantage",
            "recall@10 cbir / FAISS", "cbir RSS after open, MiB"]
    return rows, (f"{n:,} synthetic vectors, one query at a time, the same FAISS index searched through "
                  "cbir and directly (bench/store/bench_store.cpp).\n\n" + _table(head, table))


def model(d):
    """bench/model's figures: {"precision|threads|side": {metric: value}}."""
    by = {tuple(k.split("|")): v for k, v in d.items()}
    rows, table = [], []
    for (p, t, side), c in sorted(by.items()):
        if side != "cbir":
            continue
        tr, ea = by.get((p, t, "python traced"), {}), by.get((p, t, "python eager"), {})
        table.append([p, t, f"{c['images_per_s']:.2f}", f"{tr.get('images_per_s', 0):.2f}",
                      f"{ea.get('images_per_s', 0):.2f}", f"{c['text_p50']:.1f} / {c['text_p95']:.1f}",
                      f"{tr.get('text_padded_p50', 0):.1f} / {tr.get('text_padded_p95', 0):.1f}"])
        if t == "1":
            rows.append([f"image tower {p}, images/s, 1 thread", f"{c['images_per_s']:.2f}",
                         f"{tr['images_per_s']:.2f} (Python TorchScript)", _x(c["images_per_s"], tr["images_per_s"], True)])
            rows.append([f"text query encode {p} p50 ms, 1 thread", f"{c['text_p50']:.1f}",
                         f"{tr['text_padded_p50']:.1f} (Python TorchScript, padded to 52)",
                         _x(c["text_p50"], tr["text_padded_p50"], False)])
    head = ["precision", "threads", "cbir images/s", "Python traced images/s", "Python eager images/s",
            "cbir text p50 / p95 ms (whole query)", "Python traced text p50 / p95 ms (tower, padded)"]
    return rows, ("The image and text towers alone, batch 8 of preprocessed images; texts one at a time "
                  "(bench/model/run.py).\n\n" + _table(head, table))


def serve(d):
    table = [[f"/api/{r['endpoint']}", r["connections"], f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}",
              f"{r['p95_ms']:.2f}"] for r in d["rows"]]
    return [], (f"`cbir serve` under wrk, model {d['model'].get('name')}, {d['count']} images "
                "(bench/serve/run.py; its reference is the in-process time of each answer's parts, "
                "see bench/README.md).\n\n" + _table(["endpoint", "connections", "requests/s", "p50 ms", "p95 ms"], table))


def raw(d):
    return [], "Figures as the benchmark wrote them:\n\n```json\n" + json.dumps(d, indent=1)[:6000] + "\n```\n"


def render(run, pngs):
    m = run["machine"]
    lines = [f"# Benchmark results ({run['mode']} run)\n",
             f"Made by `{run['command']}` on {run['date']}, commit {m['commit']}. Each benchmark times "
             "cbir and its reference in the same run on this machine; bench/README.md says what each "
             "one measures and how.\n",
             "## Machine\n",
             _table(["cores", "CPU", "SIMD", "memory", "BLAS (libblas.so.3)", "thread variables", "cbir build",
                     "load average before / after"],
                    [[m["cores"], m["cpu"], m["simd"], f"{m['memory_gib']} GiB", m["blas"],
                      json.dumps(m["thread_env"]), m.get("build_type") or "?",
                      f"{m['load_before'][0]:.1f} / {m['load_after'][0]:.1f}"]]),
             f"Bundles: {', '.join(f'{k} `{v}`' for k, v in run['bundles'].items())}.\n"]
    summary, sections = [], []
    for name, r in run["results"].items():
        title = f"## {name}\n"
        if "skipped" in r:
            sections.append(title + r["skipped"] + "\n")
            continue
        d = r["data"]
        if d is None:
            sections.append(title + f"FAILED (exit {r['rc']}); see `{r['log']}`.\n")
            continue
        render_one = {"tokenizer": tokenizer, "image": image, "ingest": ingest, "serve": serve}.get(name)
        try:
            if name == "query":
                rows, text = query(d, _data(run, f"store-{d['n']}"))
            elif name.startswith("store-"):
                rows, text = store(d, int(name.split("-")[1]))
            elif name == "model":
                rows, text = model(d.get("results") or d.get("raw") or d)
            else:
                rows, text = render_one(d) if render_one else raw(d)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
            rows, text = raw(d)
            text = f"(report.py could not read this benchmark's JSON: {e!r})\n\n" + text
        summary += rows
        sections.append(title + text)
    lines.append("## At a glance: cbir / reference\n")
    lines.append(_table(["figure", "cbir", "reference", "cbir's advantage"], summary) if summary
                 else "No figures.\n")
    if pngs:
        lines.append("\n".join(f"![{p}]({p})" for p in pngs) + "\n")
    lines += sections
    lines.append("## Memory and time per benchmark\n")
    lines.append("Peak RSS of the largest process each benchmark ran (cbir's side and its reference "
                 "together, whichever was larger), its wall time and the load average when it started.\n")
    lines.append(_table(["benchmark", "peak RSS MiB", "seconds", "load before", "command"],
                        [[n, f"{r['peak_rss_mib']:.0f}", f"{r['seconds']:.0f}", f"{r['load_before']:.1f}",
                          f"`{r['cmd']}`"] for n, r in run["results"].items() if "skipped" not in r]))
    return "\n".join(lines)
