"""End to end through the `cbir` command: the shipped default model on its gallery.

Environment (tests/cli.cmake sets it): CBIR_BIN (the cbir executable), CBIR_DEFAULT_MODEL,
CBIR_DEFAULT_GALLERY, CBIR_TEST_BUNDLE (a tiny random bundle, for the tests that only need
plumbing), CBIR_GOLDEN_DIR (bad inputs; tests needing it skip when it is absent).
"""
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

CBIR = os.environ.get("CBIR_BIN", "cbir")
MODEL = os.environ.get("CBIR_DEFAULT_MODEL", "")
GALLERY = os.environ.get("CBIR_DEFAULT_GALLERY", "")
TEST_BUNDLE = os.environ.get("CBIR_TEST_BUNDLE", "")
GOLDEN = os.environ.get("CBIR_GOLDEN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "golden")

have_default = os.path.isfile(os.path.join(MODEL, "bundle.json")) and os.path.isdir(
    os.path.join(GALLERY, "gallery"))
needs_default = pytest.mark.skipif(not have_default, reason="models/tiny-bilingual is not there")


def cbir(*args, check=True):
    r = subprocess.run([CBIR, *args], capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"cbir {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


def index(db, model, *targets, extra=()):
    r = cbir("index", *targets, "--db", db, "--model", model, "--json", "--quiet", *extra)
    return json.loads(r.stdout)


def search(db, model, *query, k=5):
    r = cbir("search", *query, "--db", db, "--model", model, "-k", str(k), "--json")
    return [json.loads(line) for line in r.stdout.splitlines()]


def queries():
    with open(os.path.join(GALLERY, "queries.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [(f"{colour}_{shape}_", zh, en) for colour, shape, zh, en in rows]


def cls(uri):
    base = os.path.basename(uri)
    return base[: base.rindex("_") + 1]


@pytest.fixture(scope="module")
def default_db(tmp_path_factory):
    if not have_default:
        pytest.skip("models/tiny-bilingual is not there")
    db = str(tmp_path_factory.mktemp("cli") / "db")
    summary = index(db, MODEL, os.path.join(GALLERY, "gallery"))
    assert summary["added"] == len(os.listdir(os.path.join(GALLERY, "gallery")))
    assert summary["failed"] == 0
    return db


@needs_default
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_queries_reach_precision_at_5(default_db, lang, tmp_path):
    rows = queries()
    # One process for all queries (--queries loads the model once), lines numbered from 1; a
    # blank line in the middle must not shift the numbering.
    lines = [zh if lang == "zh" else en for _, zh, en in rows]
    lines.insert(1, "")
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    hits = search(default_db, MODEL, "--queries", str(path), k=5)
    by_line = {}
    for h in hits:
        by_line.setdefault(h["query"], []).append(h)
    assert sorted(by_line) == [n + 1 for n, text in enumerate(lines) if text]
    precisions = []
    for n, text in enumerate(lines):
        if not text:
            continue
        prefix = rows[n if n == 0 else n - 1][0]
        assert [h["rank"] for h in by_line[n + 1]] == [1, 2, 3, 4, 5]
        precisions.append(sum(cls(h["uri"]) == prefix for h in by_line[n + 1]) / 5)
    mean = sum(precisions) / len(precisions)
    print(f"{lang}: mean precision@5 over {len(precisions)} colour x shape queries = {mean:.3f}")
    assert mean >= 0.8


@needs_default
def test_one_text_query_matches_the_same_query_in_a_batch(default_db):
    _, zh, _ = queries()[0]
    single = search(default_db, MODEL, zh, k=5)
    r = subprocess.run([CBIR, "search", "--queries", "-", "--db", default_db, "--model", MODEL,
                        "-k", "5"], input=zh + "\n", capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    table = r.stdout.splitlines()
    assert table[0] == f"# 1: {zh}"
    assert [line.split()[-1] for line in table[1:]] == [h["uri"] for h in single]


@needs_default
def test_an_image_query_returns_its_own_kind_first(default_db):
    gallery = os.path.join(GALLERY, "gallery")
    misses = []
    # Every process start costs a second (LibTorch's static initialisers; several under ASan),
    # so a sample of the colour x shape classes; tools/train_tiny/tests/test_shipped.py checks them all.
    for i, (prefix, _, _) in enumerate(queries()[::4]):
        image = os.path.join(gallery, sorted(f for f in os.listdir(gallery) if f.startswith(prefix))[0])
        if i % 2 == 0:
            first = search(default_db, MODEL, "--image", image, k=2)
            assert first[0]["uri"] == os.path.abspath(image)  # the image itself, score 1
        like = search(default_db, MODEL, "--like", image, k=1)  # stored vector, itself left out
        if i == 0:  # a relative path names the same indexed item
            relative = search(default_db, MODEL, "--like", os.path.relpath(image), k=1)
            assert relative == like
        if cls(like[0]["uri"]) != prefix:
            misses.append((prefix, like[0]["uri"]))
    assert not misses, misses


@needs_default
def test_search_where_returns_only_what_the_filter_selects(default_db):
    _, zh, _ = queries()[0]
    everything = search(default_db, MODEL, zh, k=1000)
    red = [h for h in everything if os.path.basename(h["uri"]).startswith("red_")]
    assert 0 < len(red) < len(everything)
    r = cbir("search", zh, "--db", default_db, "--model", MODEL, "-k", "1000", "--json",
             "--where", "path like '%/red\\_%' and size > 0")
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert [h["uri"] for h in got] == [h["uri"] for h in red]  # the same order, only red ones
    bad = cbir("search", zh, "--db", default_db, "--model", MODEL, "--where", "width >> 3",
               check=False)
    assert bad.returncode != 0 and "at position 8" in bad.stderr and bad.stderr.count("\n") == 1


@needs_default
def test_composite_query_scores_are_the_weighted_sum_of_the_parts(default_db):
    """score(item) = q . v with q = normalize(sum w_i u_i), so every item's composite score is
    sum_i w_i score_i(item) over one constant (|sum w_i u_i|): checked from each part's own
    search, over every item."""
    gallery = os.path.join(GALLERY, "gallery")
    image = os.path.join(gallery, sorted(f for f in os.listdir(gallery) if f.startswith("blue_"))[0])
    parts = [(("红色的圆形",), 1.0), (("a blue triangle",), 1.0), (("a green square",), -1.0),
             (("--image", image), 0.5)]
    each = []
    for query, _ in parts:
        hits = search(default_db, MODEL, *query, k=1000)
        each.append({h["id"]: h["score"] for h in hits})
    got = search(default_db, MODEL, "红色的圆形", "--plus", "a blue triangle", "--minus",
                 "a green square", "--image", image + ":0.5", k=1000)
    assert len(got) == len(each[0])
    want = {h["id"]: sum(w * e[h["id"]] for (_, w), e in zip(parts, each)) for h in got}
    top = got[0]
    norm = want[top["id"]] / top["score"]  # |sum w_i u_i|, the same for every item
    # Scores are printed with a few decimals: compare to that precision.
    worst = max(abs(want[h["id"]] / norm - h["score"]) for h in got)
    assert worst < 2e-3, worst
    assert [h["score"] for h in got] == sorted((h["score"] for h in got), reverse=True)
    bad = cbir("search", "a dog", "--minus", "a dog", "--db", default_db, "--model", MODEL,
               check=False)
    assert bad.returncode == 1 and "cancel out" in bad.stderr


@needs_default
def test_duplicates_groups_copies_of_an_image(tmp_path):
    gallery = os.path.join(GALLERY, "gallery")
    names = sorted(os.listdir(gallery))
    images = tmp_path / "images"
    images.mkdir()
    for name in names[:: max(1, len(names) // 12)][:12]:  # different classes
        shutil.copy(os.path.join(gallery, name), images / name)
    first, second = sorted(os.listdir(images))[:2]
    shutil.copy(images / first, images / ("copy_of_" + first))
    shutil.copy(images / second, images / ("again_" + second))
    shutil.copy(images / second, images / ("more_" + second))
    db = str(tmp_path / "db")
    index(db, MODEL, str(images))
    r = cbir("duplicates", "--db", db, "--threshold", "0.9999")
    groups = [json.loads(line) for line in r.stdout.splitlines()]
    got = [sorted(os.path.basename(i["uri"]) for i in g["items"]) for g in groups]
    assert got == [sorted([second, "again_" + second, "more_" + second]),
                   sorted([first, "copy_of_" + first])]
    assert [g["size"] for g in groups] == [3, 2] and [g["group"] for g in groups] == [0, 1]
    only = cbir("duplicates", "--db", db, "--threshold", "0.9999", "--where",
                "path like '%copy_of_%' or path not like '%/again_%'")
    assert sorted(sorted(os.path.basename(i["uri"]) for i in json.loads(line)["items"])
                  for line in only.stdout.splitlines()) == sorted(
        [sorted([second, "more_" + second]), sorted([first, "copy_of_" + first])])
    bad = cbir("duplicates", "--db", db, "--threshold", "2", check=False)
    assert bad.returncode == 2


@needs_default
def test_reindexing_adds_nothing(default_db):
    summary = index(default_db, MODEL, os.path.join(GALLERY, "gallery"))
    assert summary["added"] == 0 and summary["updated"] == 0
    assert summary["unchanged"] == summary["found"]


@needs_default
def test_classify_names_the_right_label():
    gallery = os.path.join(GALLERY, "gallery")
    image = os.path.join(gallery, sorted(f for f in os.listdir(gallery) if f.startswith("red_circle_"))[0])
    r = cbir("classify", image, "--model", MODEL, "--labels", "红色的圆形,蓝色的正方形,绿色的三角形",
             "--json")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows[0]["label"] == "红色的圆形"
    assert abs(sum(row["probability"] for row in rows) - 1) < 1e-4


def small_gallery(tmp_path, n):
    src = os.path.join(GALLERY, "gallery") if have_default else os.path.join(GOLDEN, "images")
    if not os.path.isdir(src):
        pytest.skip("neither the default gallery nor golden images are there")
    dst = tmp_path / "images"
    dst.mkdir()
    for name in sorted(os.listdir(src))[:n]:
        shutil.copy(os.path.join(src, name), dst / name)
    return dst


def any_model():
    return MODEL if have_default else TEST_BUNDLE


def test_prune_removes_exactly_the_deleted_files(tmp_path):
    images = small_gallery(tmp_path, 12)
    db = str(tmp_path / "db")
    names = sorted(os.listdir(images))
    assert index(db, any_model(), str(images))["added"] == len(names)
    for name in names[:3]:
        os.remove(images / name)
    summary = index(db, any_model(), str(images), extra=("--prune",))
    assert summary["removed"] == 3
    cbir("export", "--db", db, "--out", str(tmp_path / "x"))
    with open(tmp_path / "x.jsonl", encoding="utf-8") as f:
        uris = sorted(os.path.basename(json.loads(line)["uri"]) for line in f)
    assert uris == names[3:]


def test_sigkill_mid_run_then_rerun_indexes_every_image_exactly_once(tmp_path):
    images = small_gallery(tmp_path, 200 if have_default else 13)
    db = str(tmp_path / "db")
    names = sorted(os.listdir(images))
    for attempt in range(3):  # kill at a few different moments
        p = subprocess.Popen([CBIR, "index", str(images), "--db", db, "--model", any_model(),
                              "--commit-every", "4", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5 + attempt)
        p.send_signal(signal.SIGKILL)
        p.wait()
    summary = index(db, any_model(), str(images))
    assert summary["failed"] == 0
    cbir("export", "--db", db, "--out", str(tmp_path / "x"))
    with open(tmp_path / "x.jsonl", encoding="utf-8") as f:
        uris = [os.path.basename(json.loads(line)["uri"]) for line in f]
    assert sorted(uris) == names  # each exactly once
    with open(tmp_path / "x.npy", "rb") as f:
        assert f.read(6) == b"\x93NUMPY"


def test_bad_inputs_are_reported_per_file_and_good_images_still_indexed(tmp_path):
    bad = os.path.join(GOLDEN, "bad")
    if not os.path.isdir(bad):
        pytest.skip(f"golden bad inputs not found at {bad}")
    images = small_gallery(tmp_path, 6)
    good = sorted(os.listdir(images))
    for name in os.listdir(bad):
        shutil.copy(os.path.join(bad, name), images / ("bad_" + name))
    db = str(tmp_path / "db")
    r = cbir("index", str(images), "--db", db, "--model", any_model(), "--json", "--quiet", "--ext", "")
    summary = json.loads(r.stdout)
    failed = {f.split(":")[0] for f in summary["failures"]}
    expected_bad = {str(images / ("bad_" + n)) for n in os.listdir(bad)}
    # Every bad file is reported on its own line (a CMYK JPEG may decode correctly instead).
    assert expected_bad - failed <= {str(images / "bad_cmyk.jpg")}
    assert summary["added"] == len(good) + len(expected_bad - failed)
    for line in summary["failures"]:
        assert "\n" not in line and len(line) < 400  # one clear reason each


def test_errors_are_one_line_and_non_zero(tmp_path):
    r = cbir("search", "a red circle", "--db", str(tmp_path / "nothing"), "--model", any_model(),
             check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("cbir: error: ") and r.stderr.count("\n") == 1
    assert "index a folder first" in r.stderr
    r = cbir("frobnicate", check=False)
    assert r.returncode == 2
    r = cbir("search", "--k", "0", "x", check=False)
    assert r.returncode == 2
    for command in ("index", "search", "info", "classify", "remove", "compact", "rebuild", "export",
                    "tokenize", "preprocess"):
        r = cbir(command, "--help")
        assert r.stdout.startswith("usage: cbir " + command)


def test_verify_and_backup(tmp_path):
    """cbir verify says what is wrong and exits 0 only when all is well; cbir backup makes a
    copy that verifies and searches like the original (issue 18)."""
    images = small_gallery(tmp_path, 12)
    db = str(tmp_path / "db")
    assert index(db, any_model(), str(images))["added"] == 12
    r = cbir("verify", "--db", db, "--json")
    report = json.loads(r.stdout)
    assert report["ok"] and [c["check"] for c in report["checks"]] == ["catalog", "vectors", "snapshot", "index"]
    r = cbir("verify", "--db", db, "--model", any_model(), "--json")
    assert [c["check"] for c in json.loads(r.stdout)["checks"]][-1] == "model"

    copy = str(tmp_path / "copy")
    cbir("backup", "--db", db, copy)
    assert json.loads(cbir("verify", "--db", copy, "--json").stdout)["ok"]
    query = str(images / sorted(os.listdir(images))[0])
    assert search(copy, any_model(), "--image", query) == search(db, any_model(), "--image", query)
    again = cbir("backup", "--db", db, copy, check=False)
    assert again.returncode != 0 and "exists" in again.stderr

    # A damaged snapshot: reported, with what to do, and a non-zero exit.
    shutil.copytree(copy, tmp_path / "bad_snapshot")
    with open(tmp_path / "bad_snapshot" / "index.snap", "r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 16)
    r = cbir("verify", "--db", str(tmp_path / "bad_snapshot"), check=False)
    assert r.returncode == 1 and "checksum" in r.stdout and "cbir compact" in r.stdout
    # A cut catalog: the open check fails and names the backup command.
    shutil.copytree(copy, tmp_path / "cut")
    os.truncate(tmp_path / "cut" / "catalog.sqlite", 70000)
    r = cbir("verify", "--db", str(tmp_path / "cut"), "--json", check=False)
    report = json.loads(r.stdout)
    assert r.returncode == 1 and not report["ok"]
    assert report["checks"][0]["check"] == "open" and "cbir backup" in report["checks"][0]["message"]


def dino_bundle():
    path = os.path.join(os.path.dirname(TEST_BUNDLE), "dinov2-cls") if TEST_BUNDLE else ""
    if not os.path.isfile(os.path.join(path, "bundle.json")):
        pytest.skip("no DINOv2 test bundle (the make_test_models fixture makes it)")
    return path


def spaces(db):
    info = json.loads(cbir("info", "--db", db, "--json").stdout)
    return {s["name"]: s["count"] for s in info["spaces"]}


def test_two_models_in_one_pass_and_sigkill_leaves_all_or_none_of_an_items_vectors(tmp_path):
    images = small_gallery(tmp_path, 120 if have_default else 13)
    db = str(tmp_path / "db")
    names = sorted(os.listdir(images))
    dino = dino_bundle()
    for attempt in range(3):  # killed at a few moments; each item has both vectors or neither
        p = subprocess.Popen([CBIR, "index", str(images), "--db", db, "--model", any_model(),
                              "--model", dino, "--commit-every", "3", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0 + attempt)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if os.path.exists(os.path.join(db, "catalog.sqlite")):
            counts = spaces(db)
            assert counts.get("clip", 0) == counts.get("dino", counts.get("clip", 0)), counts
    summary = index(db, any_model(), str(images), extra=("--model", dino))
    assert summary["failed"] == 0
    assert spaces(db) == {"clip": len(names), "dino": len(names)}
    # Each space answers from its own model: an image finds itself first in dino too.
    query = str(images / names[len(names) // 2])
    hits = [json.loads(line) for line in cbir("search", "--db", db, "--space", "dino", "--model", dino,
                                              "--image", query, "-k", "3", "--json").stdout.splitlines()]
    assert os.path.basename(hits[0]["uri"]) == names[len(names) // 2] and hits[0]["score"] > 0.999
    # A third space added later is filled for every item, and only that is encoded.
    patch = os.path.join(os.path.dirname(dino), "dinov2-mean_patch")
    summary = index(db, any_model(), str(images), extra=("--model", dino, "--model", "patch=" + patch))
    assert (summary["filled"], summary["added"]) == (len(names), 0)
    assert spaces(db) == {"clip": len(names), "dino": len(names), "patch": len(names)}
    # Export writes one .npy per space, rows in the order of the .jsonl.
    cbir("export", "--db", db, "--out", str(tmp_path / "x"))
    first, second = np.load(tmp_path / "x.npy"), np.load(tmp_path / "x.dino.npy")
    assert first.shape[0] == second.shape[0] == len(names)
    assert np.load(tmp_path / "x.patch.npy").shape[0] == len(names)
    assert np.allclose(np.linalg.norm(second, axis=1), 1, atol=1e-5)
    row = [json.loads(line)["uri"] for line in open(tmp_path / "x.jsonl", encoding="utf-8")].index(
        os.path.abspath(query))
    assert np.argmax(second @ second[row]) == row
    # The wrong model for a space is refused, naming both.
    r = cbir("search", "--db", db, "--space", "dino", "--model", any_model(), "--image", query, check=False)
    assert r.returncode == 1 and "space 'dino'" in r.stderr
