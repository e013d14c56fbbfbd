#!/usr/bin/env python3
"""Checks that the README's per-language code comes from the example files CI runs.

In each README section named below, every fenced block in the section's language must appear,
line for line (indentation compared relative to the block), in the example file the section
links to. usage: check_readme_snippets.py REPO
"""
import re
import sys
import textwrap
from pathlib import Path

# README heading -> (fence language, example file)
SECTIONS = {
    "Using cbir from C": ("c", "examples/c/search_folder.c"),
    "From C++": ("cpp", "examples/cpp/search_folder.cpp"),
    "From Python": ("python", "bindings/python/examples/search_folder.py"),
    "From Rust": ("rust", "bindings/rust/examples/search_folder.rs"),
    "From Go": ("go", "bindings/go/examples/search_folder/main.go"),
}


def sections(readme):
    """{heading: body} for the README's level-2 sections."""
    parts = re.split(r"^## (.+)$", readme, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def blocks(body, language):
    return re.findall(rf"^```{language}\n(.*?)^```$", body, flags=re.M | re.S)


def appears_in(snippet, source):
    """Whether the snippet's lines are consecutive lines of source, up to a common indent."""
    want = textwrap.dedent(snippet).rstrip("\n").split("\n")
    lines = source.split("\n")
    for start in range(len(lines) - len(want) + 1):
        window = textwrap.dedent("\n".join(lines[start:start + len(want)])).split("\n")
        if window == want:
            return True
    return False


def main(repo):
    readme = sections((repo / "README.md").read_text("utf-8"))
    failures = []
    for heading, (language, example) in SECTIONS.items():
        body = readme.get(heading)
        if body is None:
            failures.append(f"README has no section '## {heading}'")
            continue
        if example not in body:
            failures.append(f"'## {heading}' does not name {example}")
        source = (repo / example).read_text("utf-8")
        found = blocks(body, language)
        if not found:
            failures.append(f"'## {heading}' has no ```{language} block")
        for snippet in found:
            if not appears_in(snippet, source):
                first = snippet.strip().split("\n")[0]
                failures.append(f"'## {heading}': the block starting {first!r} is not in "
                                f"{example}: copy it from there again")
    for f in failures:
        print("FAIL", f)
    if not failures:
        print(f"ok: the README's code of {len(SECTIONS)} languages is in their example files")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
