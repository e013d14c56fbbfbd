"""PNG plots of bench/run's results: latency against recall per index type, images/s per
pipeline, latency against collection size. A plot whose data is missing is left out."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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
    runs = _store_runs(run)
    if not runs:
        return None
    n = max(runs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, row in enumerate(runs[n]):
        colour = f"C{i}"
        for side, marker in (("cbir", "o"), ("faiss", "x")):
            points = row["sweep"][side] or [(row[f"{side}_recall"], row[f"{side}_p50"])]
            xs, ys = zip(*sorted(points))
            ax.plot(xs, ys, marker=marker, color=colour, linestyle="-" if side == "cbir" else ":",
                    label=f"{row['name']} ({'cbir' if side == 'cbir' else 'raw FAISS'})")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("p50 latency per query, ms (log)")
    ax.set_yscale("log")
    ax.set_title(f"Search on {n:,} vectors: latency against recall, per index type")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
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
