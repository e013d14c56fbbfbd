"""A bounded soak of a collection in use (issue 18): one writer (`cbir index`, the shipped default
model) indexing a folder of photos and killed with SIGKILL at random moments, then run again
(it resumes); two reader processes searching the same collection all along; the disk filling up
once (where this runs as root: the collection lives on a small tmpfs the script mounts, and a
filler file takes the free space for a while; elsewhere that part is skipped, saying so); at
the end `cbir verify`, and the collection must hold every photo exactly once. Halfway, `cbir
backup` copies the collection from another process while the writer runs: the copy must
verify and hold every photo committed before it started.

    /usr/bin/python3 bench/soak/run.py [--build build] [--images 1500] [--seconds 90] [--json PATH]

Reported: writer runs, kills, disk-full failures, searches answered, corrupt results (a hit
whose id the collection does not hold, scores out of order or out of [-1, 1]), items lost
(photos not in the collection at the end) and doubled, and the verify result. Exit 1 unless
lost = doubled = corrupt = 0 and verify passes.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def make_photos(folder, n):
    """n distinct small JPEGs (random blocks of colour), made once."""
    import numpy as np
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(0)
    for i in range(n):
        path = os.path.join(folder, f"p{i:05d}.jpg")
        if not os.path.exists(path):
            blocks = rng.randint(0, 256, (6, 8, 3), dtype=np.uint8)
            Image.fromarray(blocks).resize((160, 120), Image.NEAREST).save(path, quality=85)
    return folder


def reader(lib, db, dim, seconds, out):
    """Searches random vectors against the collection until `seconds` pass; checks each result."""
    os.environ["CBIR_LIBRARY"] = lib
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import numpy as np
    import cbir
    rng = np.random.RandomState(os.getpid())
    answered = corrupt = 0
    end = time.time() + seconds
    coll = None
    while time.time() < end:
        try:
            if coll is None:
                coll = cbir.Collection(db, read_only=True)
            coll.refresh()
            q = rng.randn(dim).astype(np.float32)
            hits = coll.search(q / np.linalg.norm(q), k=10)
            scores = [h.score for h in hits]
            ok = all(-1.001 <= s <= 1.001 for s in scores) and scores == sorted(scores, reverse=True)
            for h in hits[:3]:
                ok = ok and coll.get(h.id).uri == h.uri
            answered += 1
            corrupt += not ok
        except cbir.NotFoundError:
            time.sleep(0.05)  # not created yet, or an item removed between search and get
        except cbir.Error:
            coll = None  # reopen (a refresh that found the folder mid-change)
            time.sleep(0.05)
    with open(out, "w") as f:
        json.dump({"answered": answered, "corrupt": corrupt}, f)


def uris_in(cli, db, work, name):
    """The file names a collection holds (cbir export), one per item."""
    out = os.path.join(work, name)
    subprocess.run([cli, "export", "--db", db, "--out", out], check=True, capture_output=True)
    with open(out + ".jsonl", encoding="utf-8") as f:
        return [os.path.basename(json.loads(line)["uri"]) for line in f]


def mount_tmpfs(path, mib):
    if os.geteuid() != 0:
        return "not root: the disk-full part is skipped"
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", path],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else f"mount failed ({r.stderr.strip()}): the disk-full part is skipped"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        return reader(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--images", type=int, default=1500)
    p.add_argument("--seconds", type=float, default=90)
    p.add_argument("--json")
    args = p.parse_args()
    cli = os.path.join(args.build, "cli", "cbir")
    lib = os.path.join(args.build, "lib", "libcbir.so")
    model = os.path.join(ROOT, "models", "tiny-bilingual")
    photos = make_photos(os.path.join(ROOT, "bench", "out", "soak-photos", str(args.images)), args.images)
    dim = json.load(open(os.path.join(model, "bundle.json"), encoding="utf-8"))["embed_dim"]

    work = tempfile.mkdtemp(prefix="cbir-soak-")
    disk = os.path.join(work, "disk")
    skipped = mount_tmpfs(disk, 64)
    mounted = skipped is None
    os.makedirs(disk, exist_ok=True)
    db = os.path.join(disk, "coll")
    stats = {"writer_runs": 0, "kills": 0, "disk_full_failures": 0, "disk_full": skipped or "once"}
    readers = [subprocess.Popen([sys.executable, __file__, "--reader", lib, db, str(dim),
                                 str(args.seconds), os.path.join(work, f"reader{i}.json")])
               for i in range(2)]
    rng = random.Random(1)
    start = time.time()
    filled = False
    backup = None  # (folder, the photos committed before it started)
    try:
        while True:
            # Once, a third of the way in: fill the disk for one writer run.
            filler = os.path.join(disk, "filler")
            full_now = mounted and not filled and time.time() - start > args.seconds / 3
            if full_now:
                subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=1024"],
                               capture_output=True)
                filled = True
            w = subprocess.Popen([cli, "index", photos, "--db", db, "--quiet", "--json",
                                  "--model", model], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            # Once, from halfway on and when it holds items: a backup from another process
            # while this writer runs.
            if backup is None and time.time() - start > args.seconds / 2 and os.path.isdir(db):
                time.sleep(0.2)
                before = uris_in(cli, db, work, "before")
                if before:
                    folder = os.path.join(work, "backup")
                    subprocess.run([cli, "backup", "--db", db, folder], check=True, capture_output=True)
                    backup = (folder, before)
            stats["writer_runs"] += 1
            try:
                # The run on a full disk is not killed: it must fail by itself, cleanly.
                out, err = w.communicate(timeout=120 if full_now else rng.uniform(0.3, 2.5))
                if full_now:
                    stats["disk_full_run"] = (f"exit {w.returncode}: " + err.strip().splitlines()[-1]
                                              if w.returncode else "exit 0 (it fitted)")
                if w.returncode != 0 and ("full" in err or "space" in err):
                    stats["disk_full_failures"] += 1
                elif w.returncode != 0:
                    raise SystemExit(f"soak: cbir index failed: {err.strip()}")
                elif json.loads(out)["found"] == json.loads(out)["unchanged"]:
                    if time.time() - start > args.seconds:
                        break  # all indexed, and the readers have had their time
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
                stats["kills"] += 1
            if os.path.exists(filler):
                os.remove(filler)  # the disk frees again after one failed run
    finally:
        for r in readers:
            r.wait()
    verify = subprocess.run([cli, "verify", "--db", db, "--json"], capture_output=True, text=True)
    report = json.loads(verify.stdout)
    uris = uris_in(cli, db, work, "final")
    want = set(os.listdir(photos))
    stats["backup"] = "taken" if backup else "not taken: nothing was committed in time"
    if backup:  # it opens as it is, verifies, and holds what was committed before it started
        folder, before = backup
        stats["backup_verify_ok"] = json.loads(subprocess.run(
            [cli, "verify", "--db", folder, "--json"], capture_output=True, text=True).stdout)["ok"]
        held = uris_in(cli, folder, work, "backup")
        stats["backup_items"] = len(held)
        stats["backup_missing_committed"] = len(set(before) - set(held))
    stats.update({"seconds": round(time.time() - start, 1), "images": len(want),
                  "items": len(uris), "items_lost": len(want - set(uris)),
                  "items_doubled": len(uris) - len(set(uris)), "verify_ok": report["ok"]})
    for i in range(2):
        with open(os.path.join(work, f"reader{i}.json")) as f:
            r = json.load(f)
        stats[f"reader{i}_searches"] = r["answered"]
        stats[f"reader{i}_corrupt"] = r["corrupt"]
    if mounted:
        subprocess.run(["umount", disk])
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(stats, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(stats, f, indent=1)
    good = (stats["items_lost"] == 0 and stats["items_doubled"] == 0 and stats["verify_ok"]
            and stats["reader0_corrupt"] == 0 and stats["reader1_corrupt"] == 0
            and stats.get("backup_verify_ok", True) and stats.get("backup_missing_committed", 0) == 0)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
