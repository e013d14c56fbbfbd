"""cbir.Collection: searching the indexed gallery, items, persistence, refusals, closing."""
import os
import threading

import numpy as np
import pytest

import cbir
from conftest import label, needs_shipped_model


@pytest.mark.parametrize("query", ["a red circle", "红色的圆形"])
def test_text_search_brings_back_the_right_pictures(model, indexed, query):
    needs_shipped_model()
    hits = indexed.search_text(model, query, k=5)
    # A red circle first; the tiny model knows colours better than shapes: only red ones follow.
    assert label(hits[0].uri) == "red_circle", hits
    assert all(label(h.uri).startswith("red_") for h in hits), hits


def test_image_search_finds_the_image_itself_first(model, indexed, gallery):
    query = gallery[len(gallery) // 2]
    hits = indexed.search_image(model, query, k=5)
    assert len(hits) == 5 and hits[0].uri == os.path.abspath(query) and hits[0].score > 0.999
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    needs_shipped_model()
    colour = label(query).split("_")[0]
    assert all(label(h.uri).startswith(colour + "_") for h in hits), hits
    assert label(query) in [label(h.uri) for h in hits[1:]], hits


def test_more_like_this_leaves_the_item_out(indexed, gallery):
    me = indexed.find(os.path.abspath(gallery[3]))
    hits = indexed.search_similar(me, k=4)
    assert len(hits) == 4 and me not in [h.id for h in hits]
    again = indexed.search(indexed.vector(me), k=5)
    assert {h.id for h in hits} <= {h.id for h in again} - {me}


def test_filters_and_batches(model, indexed, gallery):
    q = model.embed_image(gallery[0])
    only = os.path.abspath(gallery[5])
    assert [h.uri for h in indexed.search(q, k=3, uri_prefix=only)] == [only]
    some = [indexed.find(os.path.abspath(p)) for p in gallery[2:5]]
    assert sorted(h.id for h in indexed.search(q, k=10, ids=some)) == sorted(some)
    assert [h.uri for h in indexed.range_search(q, 0.999)] == [os.path.abspath(gallery[0])]
    assert [h.uri for h in indexed.search(q, k=10, min_score=0.999)] == [os.path.abspath(gallery[0])]
    both = indexed.search(np.stack([q, model.embed_image(gallery[1])]), k=2)
    assert [row[0].uri for row in both] == [os.path.abspath(g) for g in gallery[:2]]


def test_where_filters_by_expression(model, indexed, gallery):
    q = model.embed_image(gallery[0])
    name = os.path.basename(gallery[4])
    hits = indexed.search(q, k=10, where=f"path like '%/{name}' and width > 0")
    assert [h.uri for h in hits] == [os.path.abspath(gallery[4])]
    with pytest.raises(cbir.InvalidArgumentError) as e:
        indexed.search(q, where="width >")
    assert "at position 8" in str(e.value)
    # The gallery's JPEGs carry no EXIF: no camera, no capture time.
    assert indexed.search(q, where="make = 'Apple' or taken > 0") == []
    assert len(indexed.search(q, k=10, where="format = 'jpeg' and not make = 'Apple'")) == 10


def test_composite_queries_sum_their_parts(model, indexed, gallery):
    from pathlib import Path
    me = indexed.find(os.path.abspath(gallery[1]))
    raw = np.arange(model.dim, dtype=np.float32) - 7
    parts = [("a red circle", 1.0), ("蓝色的三角形", -0.5), (Path(gallery[0]), 0.5),
             (open(gallery[2], "rb").read(), 0.25), (me, 2.0), (raw, 0.1)]
    unit = lambda v: np.asarray(v, dtype=np.float64) / np.linalg.norm(v)
    vectors = [model.embed_text("a red circle"), model.embed_text("蓝色的三角形"),
               model.embed_image(gallery[0]), model.embed_image(gallery[2]), indexed.vector(me), raw]
    want = unit(sum(w * unit(v) for v, (_, w) in zip(vectors, parts)))
    got = cbir.compose_query(parts, model=model, collection=indexed)
    assert np.allclose(got, want, atol=1e-5)
    hits = indexed.search(got, k=3)
    assert hits[0].score == pytest.approx(float(np.dot(want, indexed.vector(hits[0].id))), abs=1e-4)
    with pytest.raises(cbir.InvalidArgumentError, match="cancel out"):
        cbir.compose_query([("a dog", 1), ("a dog", -1)], model=model)


def test_attributes_are_typed_and_filterable(model, tmp_path, gallery):
    with cbir.Collection(tmp_path / "c", model=model, create=True) as c:
        ids = c.add(["a", "b", "c"], model.embed_images(gallery[:3]).check())
        assert c.set_attrs({ids[0]: {"album": "Rome", "stars": 5, "fav": True},
                            ids[1]: {"stars": 3, "seen": cbir.Time(1700000000), "w": 0.5}}) == 6
        assert c.attrs(ids[0]) == {"album": "Rome", "fav": True, "stars": 5}
        seen = c.attrs(ids[1])["seen"]
        assert isinstance(seen, cbir.Time) and seen == 1700000000
        assert c.attrs(ids[2]) == {}
        q = c.vector(ids[2])
        assert [h.id for h in c.search(q, k=3, where="attr.stars >= 4")] == [ids[0]]
        assert {h.id for h in c.search(q, k=3, where="not attr.stars >= 4")} == {ids[1], ids[2]}
        assert [h.id for h in c.search(q, k=3, where="attr.seen < '2024-01-01'")] == [ids[1]]
        c.set_attrs([(ids[0], "stars", None)])
        assert c.attrs(ids[0]) == {"album": "Rome", "fav": True}
        with pytest.raises(cbir.NotFoundError):
            c.set_attrs([(ids[0], "x", 1), (9999, "x", 1)])
        assert "x" not in c.attrs(ids[0])
        with pytest.raises(cbir.InvalidArgumentError, match="key"):
            c.set_attrs([(ids[0], "bad key", 1)])
        with pytest.raises(TypeError):
            c.set_attrs([(ids[0], "x", [1, 2])])
        p = c.photo(ids[0])
        assert p.format == "" and p.taken is None and p.lat is None
        again = c.add(["a-copy"], [c.vector(ids[0])])
        assert c.duplicates(0.999) == [[ids[0], again[0]]]
        assert c.duplicates(0.999, where="path != 'a-copy'") == []


def test_concurrent_searches_agree(model, indexed, gallery):
    queries = model.embed_images(gallery[:8]).check()
    expected = [indexed.search(q, k=3) for q in queries]
    results, errors = {}, []

    def worker(i):
        try:
            for _ in range(5):
                results[i] = indexed.search(queries[i], k=3)
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and [results[i] for i in range(8)] == expected


def test_items_round_trip(model, tmp_path):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, model.dim)).astype(np.float32)
    with cbir.Collection(tmp_path / "c", model=model, create=True, index_spec="flat") as coll:
        ids = coll.add(["a", cbir.Item("b", payload='{"tag": 1}', width=4, height=3), "c"], vectors)
        assert len(coll) == 3 and list(coll.ids()) == sorted(ids)
        b = coll.get(ids[1])
        assert (b.uri, b.payload, b.width, b.height, b.id) == ("b", '{"tag": 1}', 4, 3, ids[1])
        np.testing.assert_allclose(coll.vector(ids[1]), vectors[1] / np.linalg.norm(vectors[1]), atol=1e-6)
        assert coll.search(vectors[2], k=1)[0].id == ids[2]
        with pytest.raises(cbir.ExistsError):
            coll.add(["a"], vectors[:1])
        assert coll.upsert(["a"], vectors[2:3]) == [ids[0]]
        with pytest.raises(cbir.MismatchError):
            coll.add(["d"], np.ones((1, model.dim + 1), np.float32))
        with pytest.raises(cbir.InvalidArgumentError):
            coll.add(["d"], np.zeros((1, model.dim), np.float32))
        with pytest.raises(ValueError):
            coll.add(["d", "e"], vectors[:1])
        assert coll.remove([ids[2], 12345]) == 1 and len(coll) == 2
        coll.remove_uri("a")
        with pytest.raises(cbir.NotFoundError):
            coll.find("a")
        with pytest.raises(cbir.NotFoundError):
            coll.get(ids[2])
        coll.verify()


def test_backup_and_verify_report(model, tmp_path):
    v = np.eye(model.dim, dtype=np.float32)[:3]
    with cbir.Collection(tmp_path / "c", model=model, create=True) as coll:
        coll.add(["x", "y", "z"], v)
        coll.commit()
        coll.backup(tmp_path / "copy")
        with pytest.raises(cbir.ExistsError):
            coll.backup(tmp_path / "copy")
    with cbir.Collection(tmp_path / "copy", model=model, read_only=True) as copy:
        assert len(copy) == 3 and copy.search(v[1], k=1)[0].uri == "y"
        report = copy.verify_report()
        assert [name for name, _, _ in report] == ["catalog", "vectors", "snapshot", "index"]
        assert all(passed for _, passed, _ in report)


def test_reopened_read_only_it_serves_but_refuses_writes(model, tmp_path):
    path = tmp_path / "c"
    v = np.eye(model.dim, dtype=np.float32)[:2]
    with cbir.Collection(path, model=model, create=True) as coll:
        coll.add(["x", "y"], v)
    with cbir.Collection(path, model=model, read_only=True) as ro:
        assert len(ro) == 2 and ro.info.read_only
        assert ro.search(v[1], k=1)[0].uri == "y"
        with pytest.raises(cbir.Error):
            ro.add(["z"], v[:1])


def test_a_collection_refuses_another_model(model, tmp_path):
    path = tmp_path / "c"
    cbir.Collection(path, model=model, create=True).close()
    with pytest.raises(cbir.MismatchError) as e:
        cbir.Collection(path, fingerprint="sha256:" + "0" * 64)
    assert e.value.code == cbir.Status.EMISMATCH and e.value.message
    with pytest.raises(cbir.MismatchError):
        cbir.Collection(path, dim=model.dim + 1)
    with pytest.raises(cbir.NotFoundError):
        cbir.Collection(tmp_path / "absent", model=model)


def test_one_writer_at_a_time(model, tmp_path):
    with cbir.Collection(tmp_path / "c", model=model, create=True):
        with pytest.raises(cbir.LockedError):
            cbir.Collection(tmp_path / "c", model=model)


def test_a_closed_collection_raises_closed_error(model, tmp_path):
    coll = cbir.Collection(tmp_path / "c", model=model, create=True)
    coll.close()
    coll.close()
    assert coll.closed
    for call in (lambda: len(coll), lambda: coll.search(np.ones(model.dim), k=1),
                 lambda: coll.ingest(model, str(tmp_path)), lambda: coll.info):
        with pytest.raises(cbir.ClosedError) as e:
            call()
        assert e.value.code == cbir.Status.ECLOSED


def test_log_handler_receives_the_library_warnings(model, tmp_path):
    path = tmp_path / "c"
    with cbir.Collection(path, model=model, create=True) as coll:
        coll.add(["x"], np.ones((1, model.dim), np.float32))
    for snapshot in path.glob("index*"):
        snapshot.unlink()  # the index is a cache: cbir rebuilds it from the catalog, and warns
    messages = []
    cbir.set_log_handler(lambda level, message: messages.append((level, message)), cbir.LOG_INFO)
    try:
        with cbir.Collection(path, model=model) as coll:
            assert len(coll) == 1 and coll.search(np.ones(model.dim), k=1)[0].uri == "x"
    finally:
        cbir.set_log_handler(None)
    assert any(level == cbir.LOG_WARN and "rebuilding the index" in m for level, m in messages), \
        messages
    messages.clear()
    cbir.Collection(path, model=model).close()
    assert not messages  # removed: nothing arrives any more


def test_two_vector_spaces_each_searched_on_its_own(model, tmp_path):
    """A second space beside the model's (random "dino" vectors here: the store does not care
    which model made them): each space answers from its own vectors, exactly (flat)."""
    rng = np.random.RandomState(4)
    clip = rng.randn(40, model.dim).astype(np.float32)
    dino = rng.randn(40, 24).astype(np.float32)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
    with cbir.Collection(tmp_path / "c", model=model, create=True, index_spec="flat",
                         space="clip") as c:
        c.add_space("dino", dim=24, fingerprint="dino-test", index_spec="flat")
        with pytest.raises(cbir.ExistsError):
            c.add_space("dino", dim=24, fingerprint="dino-test")
        ids = c.add_spaces([f"img{i}" for i in range(40)], {None: clip, "dino": dino})
        assert [(s.name, s.dim, s.count, s.first) for s in c.spaces] == \
            [("clip", model.dim, 40, True), ("dino", 24, 40, False)]
        q = rng.randn(24).astype(np.float32)
        want = [ids[i] for i in np.argsort(-(unit(dino) @ (q / np.linalg.norm(q))))[:5]]
        assert [h.id for h in c.search(q, k=5, space="dino")] == want
        qc = rng.randn(model.dim).astype(np.float32)
        want = [ids[i] for i in np.argsort(-(unit(clip) @ (qc / np.linalg.norm(qc))))[:5]]
        assert [h.id for h in c.search(qc, k=5, space="clip")] == want
        assert [h.id for h in c.search(qc, k=5)] == want
        assert np.allclose(c.space_vector(ids[7], "dino"), unit(dino)[7], atol=1e-6)
        hits = c.search_similar(ids[7], k=3, space="dino")
        assert ids[7] not in [h.id for h in hits] and len(hits) == 3
        with pytest.raises(cbir.NotFoundError, match="'clip', 'dino'"):
            c.search(q, k=5, space="nope")
        with pytest.raises(cbir.MismatchError):
            c.search(q, k=5)  # 24 floats for the first space's model
        # A space added later, filled for some items; an upsert without it leaves it.
        c.add_space("late", dim=8, fingerprint="late-test", index_spec="flat")
        late = rng.randn(3, 8).astype(np.float32)
        c.set_space_vectors("late", ids[:3], late)
        with pytest.raises(cbir.NotFoundError):
            c.set_space_vectors("late", [ids[5], 10**9], late[:2])
        assert [s.count for s in c.spaces] == [40, 40, 3]
        c.add_spaces(["img0"], {"clip": clip[:1]}, upsert=True)
        assert [s.count for s in c.spaces] == [40, 39, 2]
        c.rebuild_space("dino", "hnsw:M=16")
        assert c.spaces[1].effective_spec.startswith("hnsw")
    with cbir.Collection(tmp_path / "c", read_only=True) as c:
        assert [s.count for s in c.spaces] == [40, 39, 2]
        assert c.search(dino[9], k=1, space="dino")[0].id == ids[9]
