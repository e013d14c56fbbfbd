"""PNG plots of bench/run's results: latency against recall per index type, images/s per
pipeline, latency against collection size. A plot whose data is missing is left out."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

import store_data  # noqa: E402


def _store_runs(run):
    """{n: rows} for every bench/store run that produced figures."""
    out = {}
    for name, r in run["results"].items():
        if name.startswith("store-") and r.get("data"):
            rows = store_data.rows(r["data"])
            if rows:
                out[int(name.split("-")[1])] = rows
    return dict(sorted(out.items()))


def latency_vs_recall(run, path):
    """bench/query's nprobe/efSearch sweeps as curves (cbir), bench/store's runs at the same size
    as points (cbir and raw FAISS at each spec's own setting)."""
    runs = _store_runs(run)
    q = run["results"].get("query", {}).get("data") or {}
    sweeps = [s for s in q.get("specs", []) if s.get("sweep")]
    n = q["n"] if sweeps else max(runs, default=None)
    if n is None:
        return None
    store = run["results"].get(f"store-{n}", {}).get("data") or {}
    if sweeps and store.get("dim") != q["dim"]:  # the quick run's tiny model: other vectors
        runs = {}
    names = sorted({store_data.name_of(s["spec"]) for s in sweeps} | {r["name"] for r in runs.get(n, [])})
    colour = {name: f"C{i}" for i, name in enumerate(names)}
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for s in sweeps:
        name = store_data.name_of(s["spec"])
        knob = "nprobe" if "nprobe" in s["sweep"][0] else "ef_search"
        pts = sorted((p["recall"], p["p50_ms"]) for p in s["sweep"])
        ax.plot(*zip(*pts), "-", marker=".", color=colour[name], label=f"{name}: cbir, {knob} swept (text queries)")
    for row in runs.get(n, []):
        for side, marker in (("cbir", "o"), ("faiss", "x")):
            ax.plot([row[f"{side}_recall"]], [row[f"{side}_p50"]], marker, color=colour[row["name"]], markersize=8,
                    label=f"{row['name']}: {'cbir' if side == 'cbir' else 'raw FAISS'} (bench/store)")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("p50 latency per query, ms (log)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_title(f"Search on {n:,} vectors: latency against recall, per index type")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def latency_vs_size(run, path):
    runs = _store_runs(run)
    if len(runs) < 2:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = {r["name"] for rows in runs.values() for r in rows}
    for i, name in enumerate(sorted(names)):
        for side, style in (("cbir", "-o"), ("faiss", ":x")):
            pts = [(n, r[f"{side}_p50"]) for n, rows in runs.items() for r in rows if r["name"] == name]
            if len(pts) >= 2:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, style, color=f"C{i}", label=f"{name} ({'cbir' if side == 'cbir' else 'raw FAISS'})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_xlabel("vectors in the collection")
    ax.set_ylabel("p50 latency per query, ms")
    ax.set_title("Search latency against collection size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def images_per_s(run, path):
    d = run["results"].get("ingest", {}).get("data")
    if not d:
        return None
    best = {(r["precision"], r["side"]): r["images_per_s"] for r in d["results"]}
    precisions = sorted({p for p, _ in best})
    sides = [("cbir", "cbir index"), ("python", "Python pipeline (DataLoader)"), ("model alone", "model alone")]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(sides)
    for i, (side, label) in enumerate(sides):
        xs = [j + i * width for j in range(len(precisions))]
        ax.bar(xs, [best.get((p, side), 0) for p in precisions], width, label=label, color=f"C{i}")
    ax.set_xticks([j + width for j in range(len(precisions))], precisions)
    ax.set_ylabel("images/s")
    ax.set_title("Indexing JPEG photos: images/s per pipeline")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw(run, folder):
    """Writes the plots into folder; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):  # a plot this run cannot draw must not survive from the last
        if old.endswith(".png"):
            os.remove(os.path.join(folder, old))
    made = [f(run, os.path.join(folder, name)) for f, name in (
        (latency_vs_recall, "latency_vs_recall.png"), (images_per_s, "images_per_s.png"),
        (latency_vs_size, "latency_vs_size.png"))]
    return [p for p in made if p]
