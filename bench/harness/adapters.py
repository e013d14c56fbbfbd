"""Figures from the printed output of a benchmark that does not write JSON (yet)."""
import json

import store_data


def from_log(name, text):
    if name.startswith("store-"):
        return store_data.from_log(text)
    if name == "model":  # bench/model/run.py ends with "raw: {json}"
        line = next((l for l in text.splitlines() if l.startswith("raw: ")), None)
        return {"raw": json.loads(line[5:])} if line else None
    return None
