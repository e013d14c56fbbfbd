#!/usr/bin/env python3
"""Index a folder of images with cbir, then search it by text and by image.

    search_folder.py MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...
"""
import argparse
import sys

import cbir


def show_progress(p):
    print(f"\rindexing: {p.done}/{p.total} files", end="\n" if p.done == p.total else "",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model"), ap.add_argument("images"), ap.add_argument("collection")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("-t", dest="queries", action="append", default=[], type=lambda s: ("text", s))
    ap.add_argument("-i", dest="queries", action="append", type=lambda s: ("image", s))
    args = ap.parse_args()

    try:
        # The collection is created on the first run, tied to this model's fingerprint.
        with cbir.Model(args.model) as model, \
                cbir.Collection(args.collection, model=model, create=True) as coll:
            r = coll.ingest(model, args.images, progress=show_progress)
            print(f"indexed {args.images}: {r.found} found, {r.added} added, "
                  f"{r.unchanged} unchanged, {r.failed} failed")
            for f in r.failures:
                print(f"failed: {f.path}: {f.message}")
            for kind, query in args.queries:
                if kind == "text":
                    hits = coll.search_text(model, query, k=args.k)
                else:
                    hits = coll.search_image(model, query, k=args.k)
                print(f'{kind} "{query}":')
                for rank, hit in enumerate(hits, 1):
                    print(f"  {rank}. {hit.score:.3f} {hit.uri}")
            coll.save()  # closing saves too, but could only log a failure
    except cbir.Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
