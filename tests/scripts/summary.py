#!/usr/bin/env python3
"""What a ctest run ran, skipped and failed, from its JUnit report (ctest --output-junit).

    summary.py JUNIT_XML

A CTest entry is one test program; inside one, a case or check that lacks something (the golden
data, a GPU, a tool) skips and says so on its output: Catch2 tests with a "SKIPPED: ..." warning,
pytest with "SKIPPED [n] ..." (run with -rs), Go with "--- SKIP:", Rust with "SKIPPED: ...".
This lists each such reason under its test, then ends with two lines:

    skipped parts inside passing tests: M
    tests: N passed, N failed, N skipped

where the last line counts CTest entries ("skipped": did not run, a SKIP_RETURN_CODE exit, say).
Exit status 0; the caller keeps ctest's own.
"""
import re
import sys
import xml.etree.ElementTree as ET

# A reason per match; group "n" (when present) is how many pytest cases it stands for.
SKIP_PATTERNS = [
    re.compile(r"^SKIPPED \[(?P<n>\d+)\] (?P<why>.*)$"),  # pytest -rs
    re.compile(r"^\s*--- SKIP: (?P<why>.*)$"),             # go test -v
    re.compile(r"^\s*(?P<why>SKIPPED: .*)$"),              # Catch2 WARN, Rust eprintln, scripts
]


def skipped_parts(output):
    """[(count, reason)] for every skip line of one test's output."""
    parts = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        for pattern in SKIP_PATTERNS:
            m = pattern.match(line)
            if m:
                n = int(m.group("n")) if "n" in m.groupdict() and m.group("n") else 1
                why = m.group("why").strip()
                # Catch2 wraps a long warning onto indented lines, up to a blank one.
                indent = line[:len(line) - len(line.lstrip())]
                for more in lines[i + 1:]:
                    if not indent or not more.startswith(indent) or not more.strip():
                        break
                    why += " " + more.strip()
                parts.append((n, why))
                break
    return parts


def main(path):
    root = ET.parse(path).getroot()
    cases = root.iter("testcase")
    passed = failed = skipped = inner = 0
    lines = []
    for case in cases:
        name = case.get("name")
        out = "".join(e.text or "" for e in case.iter("system-out"))
        status = case.get("status", "")
        if case.find("skipped") is not None or status in ("notrun", "disabled"):
            skipped += 1
            reason = case.find("skipped")
            why = reason.get("message", "") if reason is not None else status
            lines.append(f"  {name}: not run ({why})")
            continue
        if case.find("failure") is not None or case.find("error") is not None or status == "fail":
            failed += 1
            continue
        passed += 1
        counts = {}  # one line per reason, with how many parts it skipped
        for n, why in skipped_parts(out):
            counts[why] = counts.get(why, 0) + n
        for why, n in counts.items():
            inner += n
            lines.append(f"  {name}: {why}" + (f" ({n} parts)" if n > 1 else ""))
    if lines:
        print("Skipped (each says what it lacks):")
        print("\n".join(lines))
    print(f"skipped parts inside passing tests: {inner}")
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
