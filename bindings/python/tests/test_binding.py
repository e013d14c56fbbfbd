"""The binding itself: versions, errors, struct layouts, life without numpy, offline install,
and the README's examples being the files CI runs."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cbir
from cbir import _native, errors
from conftest import MODEL, REPO

BINDING = Path(__file__).resolve().parents[1]
HEADER = (REPO / "include" / "cbir.h").read_text()


def _env():
    """The environment for a child Python: this binding importable, the same library."""
    env = dict(os.environ, PYTHONPATH=str(BINDING))
    env["CBIR_LIBRARY"] = _native.lib._name
    return env


def test_versions_of_library_binding_and_header_agree():
    parts = [re.search(rf"#define CBIR_VERSION_{p} (\d+)", HEADER).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert cbir.library_version() == ".".join(parts)
    assert cbir.__version__ == cbir.library_version()
    pyproject = (BINDING / "pyproject.toml").read_text()
    assert f'version = "{cbir.__version__}"' in pyproject
    assert "cbir" in cbir.build_info()


def test_status_codes_mirror_the_header():
    defined = {m.group(1): int(m.group(2))
               for m in re.finditer(r"#define CBIR_(OK|E[A-Z_]+) \(?(-?\d+)\)?", HEADER)}
    assert defined == {s.name: s.value for s in cbir.Status}


def test_errors_carry_code_and_message():
    with pytest.raises(cbir.InvalidArgumentError) as e:
        cbir.set_threads(-1)
    assert isinstance(e.value, ValueError) and e.value.code == cbir.Status.EINVAL
    assert "threads" in e.value.message and "CBIR_EINVAL" in str(e.value)
    cbir.set_threads(0)
    for status in cbir.Status:
        if status != cbir.Status.OK:
            err = errors.error(status, "why")
            assert isinstance(err, cbir.Error) and err.code == status and err.message == "why"
    assert isinstance(errors.error(cbir.Status.EIMAGE_TRUNCATED, ""), cbir.ImageError)
    assert errors.error(-77, "future code").code == -77


STRUCTS = {
    "cbir_model_options_t": _native.ModelOptions, "cbir_model_info_t": _native.ModelInfo,
    "cbir_pixels_t": _native.Pixels, "cbir_collection_options_t": _native.CollectionOptions,
    "cbir_item_t": _native.Item, "cbir_search_options_t": _native.SearchOptions,
    "cbir_photo_t": _native.Photo, "cbir_attr_t": _native.Attr,
    "cbir_query_part_t": _native.QueryPart,
    "cbir_space_vectors_t": _native.SpaceVectors, "cbir_space_info_t": _native.SpaceInfo,
    "cbir_space_model_t": _native.SpaceModel,
    "cbir_collection_info_t": _native.CollectionInfo,
    "cbir_ingest_progress_t": _native.IngestProgress,
    "cbir_ingest_options_t": _native.IngestOptions, "cbir_ingest_summary_t": _native.IngestSummary,
    "cbir_tokenizer_options_t": _native.TokenizerOptions,
    "cbir_preprocess_options_t": _native.PreprocessOptions,
}


def _layout_program(tmp_path):
    exe = os.environ.get("CBIR_STRUCT_LAYOUT")
    if exe:
        return exe
    cc = shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler to compare struct layouts with (set CBIR_STRUCT_LAYOUT)")
    exe = str(tmp_path / "layout")
    subprocess.run([cc, "-std=c99", "-I", str(REPO / "include"), str(Path(__file__).with_name(
        "struct_layout.c")), "-o", exe], check=True)
    return exe


def test_struct_layouts_match_the_c_compiler(tmp_path):
    out = subprocess.run([_layout_program(tmp_path)], check=True, capture_output=True, text=True)
    c_layout = dict(line.rsplit(" ", 1) for line in out.stdout.splitlines())
    py_layout = {}
    for name, struct in STRUCTS.items():
        py_layout[name] = str(ctypes.sizeof(struct))
        for field, _ in struct._fields_:
            py_layout[f"{name}.{field}"] = str(getattr(struct, field).offset)
    assert py_layout == c_layout


def test_without_numpy_vectors_are_lists(model, gallery, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.modules["numpy"] = None  # as if numpy were not installed
        import cbir
        with cbir.Model({str(MODEL)!r}) as m:
            v = m.embed_text("a red circle")
            assert type(v) is list and len(v) == m.dim and type(v[0]) is float, v
            rows = m.embed_images([{gallery[0]!r}, {gallery[1]!r}]).check()
            assert type(rows) is list and len(rows) == 2 and len(rows[1]) == m.dim
            with cbir.Collection({str(tmp_path / "c")!r}, model=m, create=True) as c:
                c.add(["a", "b"], rows)
                hits = c.search(rows[1], k=2)
                assert hits[0].uri == "b" and hits[0].score > 0.999, hits
                assert type(c.vector(hits[0].id)) is list
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], env=_env(), capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_a_missing_library_is_explained():
    env = dict(_env(), CBIR_LIBRARY="/nonexistent/libcbir.so")
    run = subprocess.run([sys.executable, "-c", "import cbir"], env=env, capture_output=True,
                         text=True)
    assert run.returncode != 0 and "CBIR_LIBRARY" in run.stderr and "/nonexistent" in run.stderr


def test_pip_installs_offline_into_a_venv(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(BINDING, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                                "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                          "--no-deps", "-q", str(src)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    env = dict(os.environ, CBIR_LIBRARY=_native.lib._name)
    env.pop("PYTHONPATH", None)
    check = subprocess.run([python, "-c", "import cbir; print(cbir.__file__, cbir.library_version())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    where, version = check.stdout.split()
    assert where.startswith(str(venv)) and version == cbir.__version__
    typed = subprocess.run([python, "-c", "import cbir, os; print(os.path.exists(os.path.join("
                            "os.path.dirname(cbir.__file__), 'py.typed')))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert typed.stdout.strip() == "True"


README_EXAMPLES = {
    "## Using cbir from C": "examples/c/search_folder.c",
    "## From C++": "examples/cpp/search_folder.cpp",
    "## From Python": "bindings/python/examples/search_folder.py",
    "## From Rust": "bindings/rust/examples/search_folder.rs",
    "## From Go": "bindings/go/examples/search_folder/main.go",
}


def test_readme_examples_are_taken_from_files_ci_runs():
    readme = (REPO / "README.md").read_text()
    for heading, path in README_EXAMPLES.items():
        assert heading + "\n" in readme, f"README.md lacks the section {heading!r}"
        section = readme.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
        blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
        code = [body for lang, body in blocks if lang not in ("sh", "console", "text")]
        assert code, f"{heading}: no code block"
        source = (REPO / path).read_text().splitlines()
        for body in code:
            assert _is_excerpt(body, source), f"{heading}: a code block is not taken from {path}"


def _is_excerpt(snippet, lines):
    """Whether the snippet is a run of consecutive lines of the file, up to indentation."""
    want = textwrap.dedent(snippet.strip("\n"))
    n = want.count("\n") + 1
    return any(textwrap.dedent("\n".join(lines[i:i + n])) == want for i in range(len(lines)))


def test_precision_auto_follows_the_cpu():
    native = bool(cbir.features() & 8)  # CBIR_FEATURE_CPU_BF16
    assert native == bool({"avx512_bf16", "amx_bf16"} & set(cbir.cpu_features()))
    with cbir.Model(MODEL, device="cpu", precision="auto") as m:
        assert m.info.compute_precision == ("bf16" if native else "fp32")
    with cbir.Model(MODEL, device="cpu") as m:  # the C default stays fp32
        assert m.info.compute_precision == "fp32"
    if not native:
        with pytest.raises(cbir.UnsupportedError, match="no bf16 instructions"):
            cbir.Model(MODEL, device="cpu", precision="bf16")
