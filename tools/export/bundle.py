"""The model bundle on disk: bundle.json, file hashes and the fingerprint (docs/bundle.md).

The fingerprint recipe here and in lib/model must agree byte for byte; docs/bundle.md is the
contract both follow."""
import hashlib
import json
import os
from typing import Dict

from common import ExportError

FORMAT = "cbir-bundle"
FORMAT_VERSION = 1
EXPORTER = "tools/export 0.1"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(obj) -> bytes:
    """Sorted keys, no spaces, UTF-8 as is: the same bytes as nlohmann::json::dump()."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def fingerprint(meta: dict) -> str:
    """sha256 over each file's sha256 hex digest (files sorted by name, digests concatenated),
    then the canonical JSON of {"image": {"preprocess", "pooling" (null when absent)}, "text":
    text minus its file names}, each key only when the bundle has that tower."""
    h = hashlib.sha256()
    for name in sorted(meta["files"]):
        h.update(meta["files"][name]["sha256"].encode("ascii"))
    config = {}
    if "image" in meta:
        image = meta["image"]
        config["image"] = {"preprocess": image["preprocess"], "pooling": image.get("pooling")}
    if "text" in meta:
        config["text"] = {k: v for k, v in meta["text"].items() if k not in ("file", "vocab")}
    h.update(canonical_json(config))
    return "sha256:" + h.hexdigest()


def write_meta(folder: str, meta: dict) -> dict:
    """Hashes the files meta names (image.file, text.file, text.vocab), adds "files" and
    "fingerprint", and writes bundle.json. Returns the completed meta."""
    names = [meta["image"]["file"]]
    if "text" in meta:
        names += [meta["text"]["file"], meta["text"]["vocab"]]
    files: Dict[str, dict] = {}
    for name in names:
        path = os.path.join(folder, name)
        files[name] = {"sha256": sha256_file(path), "bytes": os.path.getsize(path)}
    full = {"format": FORMAT, "format_version": FORMAT_VERSION}
    full.update(meta)
    full["files"] = files
    full["fingerprint"] = fingerprint(full)
    with open(os.path.join(folder, "bundle.json"), "w", encoding="utf-8") as f:
        json.dump(full, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return full


def read_meta(folder: str) -> dict:
    """bundle.json, checked: format, version, every named file present with its size and sha256,
    and the fingerprint. Raises ExportError naming what is wrong."""
    path = os.path.join(folder, "bundle.json")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except OSError as e:
        raise ExportError(f"{path}: cannot be read ({e.strerror})")
    except ValueError as e:
        raise ExportError(f"{path}: not valid JSON ({e})")
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"{path}: not a {FORMAT} version {FORMAT_VERSION} file")
    for key in ("name", "family", "embed_dim", "precision", "image", "files", "fingerprint"):
        if key not in meta:
            raise ExportError(f"{path}: missing \"{key}\"")
    for name, info in meta["files"].items():
        file = os.path.join(folder, name)
        if not os.path.isfile(file):
            raise ExportError(f"{path}: names {name}, which is missing")
        if os.path.getsize(file) != info["bytes"] or sha256_file(file) != info["sha256"]:
            raise ExportError(f"{file}: does not match its sha256 in bundle.json (corrupt or "
                              "replaced); export the bundle again")
    if fingerprint(meta) != meta["fingerprint"]:
        raise ExportError(f"{path}: fingerprint does not match the files and settings")
    return meta
