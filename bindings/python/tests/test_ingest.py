"""Collection.ingest: progress, per-file failures, skipping, cancelling, refusals."""
import os
import shutil

import pytest

import cbir


def test_bad_files_are_reported_and_good_ones_indexed(model, mixed_folder, tmp_path):
    folder, good = mixed_folder
    seen = []
    with cbir.Collection(tmp_path / "c", model=model, create=True) as coll:
        report = coll.ingest(model, folder, progress=seen.append)
        assert (report.found, report.added, report.failed) == (7, 4, 3), report
        assert sorted(os.path.basename(f.path) for f in report.failures) == \
            ["empty.png", "notes.jpg", "truncated.jpg"]
        for f in report.failures:
            assert isinstance(f.error, cbir.ImageError) and f.message, f
        assert sorted(coll.get(i).uri for i in coll.ids()) == sorted(good)
        # Progress came after each batch, and the last call saw every file.
        assert seen and seen[-1].done == seen[-1].total == 7 and seen[-1].failed == 3
        assert all(a.done <= b.done for a, b in zip(seen, seen[1:]))
        again = coll.ingest(model, folder)
        assert (again.added, again.unchanged, again.failed) == (0, 4, 3), again


def test_a_list_of_files_and_pruning(model, mixed_folder, tmp_path):
    folder, good = mixed_folder
    with cbir.Collection(tmp_path / "c", model=model, create=True) as coll:
        report = coll.ingest(model, good[:2] + [str(folder / "gone.jpg")])
        assert (report.added, report.failed) == (2, 1)
        assert report.failures[0].code == cbir.Status.ENOTFOUND
        coll.ingest(model, folder)
        os.remove(good[0])
        pruned = coll.ingest(model, folder, prune=True)
        assert pruned.removed == 1 and len(coll) == 3
        with pytest.raises(cbir.NotFoundError):
            coll.find(good[0])
        with pytest.raises(cbir.NotFoundError):
            coll.ingest(model, tmp_path / "no-such-folder")


def test_progress_can_cancel_and_exceptions_come_back(model, gallery, tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    n = 12  # more than one batch
    for p in gallery[:n]:
        shutil.copy(p, folder)
    with cbir.Collection(tmp_path / "c", model=model, create=True) as coll:
        report = coll.ingest(model, folder, progress=lambda p: False)
        assert report.cancelled and report.added < n and len(coll) == report.added

        def boom(p):
            raise RuntimeError("stop here")
        with pytest.raises(RuntimeError, match="stop here"):
            coll.ingest(model, folder, progress=boom)
        done = coll.ingest(model, folder)  # still usable; finishes the job
        assert not done.cancelled and len(coll) == n


def test_ingest_refuses_a_collection_of_another_model(model, gallery, tmp_path):
    with cbir.Collection(tmp_path / "c", create=True, dim=model.dim,
                         fingerprint="sha256:" + "1" * 64) as coll:
        with pytest.raises(cbir.MismatchError) as e:
            coll.ingest(model, os.path.dirname(gallery[0]))
        assert e.value.message
