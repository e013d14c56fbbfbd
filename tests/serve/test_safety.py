"""cbir serve over HTTP: the JSON API's answers, and its safety rules.

It serves only images of the collection, by id (never a path from a request); bad requests get
a 4xx with a JSON error; uploads are size-limited and decoded safely; and the server keeps
serving after every one of them. Runs a real `cbir serve` on a small collection indexed with a
tiny test bundle.

Environment: CBIR_BIN (the cbir command), and a Chinese-CLIP bundle in CBIR_SERVE_MODEL or
CBIR_TEST_MODELS/cnclip-vit (tools/export/make_test_models.py); skipped, saying so, without.
"""
import http.client
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

CBIR = os.environ.get("CBIR_BIN", "cbir")
MAX_UPLOAD_MB = 1
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220),
           "yellow": (230, 210, 40), "white": (250, 250, 250), "black": (10, 10, 10)}


def model_dir():
    if os.environ.get("CBIR_SERVE_MODEL"):
        return os.environ["CBIR_SERVE_MODEL"]
    models = os.environ.get("CBIR_TEST_MODELS")
    path = os.path.join(models, "cnclip-vit") if models else None
    if not path or not os.path.isfile(os.path.join(path, "bundle.json")):
        pytest.skip("no test bundle: set CBIR_TEST_MODELS to the output of "
                    "tools/export/make_test_models.py (ctest does)")
    return path


def jpeg(colour, size=(96, 64)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def start_server(db, model, *options):
    """A `cbir serve` on a free port: (process, port)."""
    proc = subprocess.Popen([CBIR, "serve", "--db", str(db), "--model", model, "--port", "0",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise AssertionError(f"cbir serve did not start: {line!r} {proc.stderr.read()!r}")
    return proc, int(m.group(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model = model_dir()
    root = tmp_path_factory.mktemp("serve")
    gallery = root / "gallery"
    gallery.mkdir()
    for name, rgb in COLOURS.items():
        (gallery / f"{name}.jpg").write_bytes(jpeg(rgb))
    # A PNG, a JPEG stored sideways (EXIF orientation 6), and a secret next to the gallery
    # that must never be served.
    Image.new("RGB", (40, 300), (120, 0, 200)).save(gallery / "tall_purple.png")
    sideways = Image.new("RGB", (96, 64), (230, 20, 20))
    sideways.paste((20, 20, 230), (48, 0, 96, 64))  # stored: red left half, blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: red on top, blue below
    sideways.save(gallery / "exif_rotated.jpg", quality=95, exif=exif.tobytes())
    (root / "secret.txt").write_text("top secret\n")
    db = root / "db"
    subprocess.run([CBIR, "index", str(gallery), "--db", str(db), "--model", model],
                   check=True, capture_output=True, timeout=300)
    proc, port = start_server(db, model, "--refresh", "0", "--max-upload-mb", str(MAX_UPLOAD_MB),
                              "--thumb-size", "128")
    srv = {"port": port, "proc": proc, "gallery": gallery, "root": root,
           "count": len(COLOURS) + 2}
    yield srv
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def request(srv, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request on a fresh connection; the path is sent as
    given, without any normalisation."""
    conn = http.client.HTTPConnection("127.0.0.1", srv["port"], timeout=60)
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Length", str(len(body)))
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders(body)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, {k.lower(): v for k, v in res.getheaders()}, data


def get_json(srv, path, method="GET", body=None, headers=None):
    status, hdrs, data = request(srv, method, path, body, headers)
    assert hdrs.get("content-type", "").startswith("application/json"), (status, hdrs, data[:200])
    return status, json.loads(data)


def assert_error(srv, status_range, method, path, body=None, headers=None):
    status, doc = get_json(srv, path, method, body, headers)
    assert status in status_range, (path, status, doc)
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    assert doc["status"] == status
    return doc


def assert_alive(srv):
    assert srv["proc"].poll() is None, "cbir serve exited"
    status, doc = get_json(srv, "/api/info")
    assert status == 200 and doc["collection"]["count"] == srv["count"]


def raw(srv, data):
    """Sends bytes on a socket; returns the one response that comes back (b"" when the server
    closes without answering)."""
    with socket.create_connection(("127.0.0.1", srv["port"]), timeout=30) as s:
        s.sendall(data)
        reply = b""
        while True:
            head, sep, body = reply.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if len(body) >= (int(m.group(1)) if m else 0):
                    return reply
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return reply
            if not chunk:
                return reply
            reply += chunk


def multipart(fields):
    boundary = "cbirtestboundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, (filename, content) in fields.items():
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.write(f"Content-Disposition: {disp}\r\n".encode())
        if filename:
            out.write(b"Content-Type: application/octet-stream\r\n")
        out.write(b"\r\n" + content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------------------------------
# What it answers


def test_serves_the_page(server):
    status, hdrs, body = request(server, "GET", "/")
    assert status == 200 and hdrs["content-type"].startswith("text/html")
    assert b'src="/app.js"' in body and b'data-testid="search-input"' in body
    for path, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        status, hdrs, body = request(server, "GET", path)
        assert status == 200 and hdrs["content-type"].startswith(kind) and len(body) > 500


def test_info_describes_model_and_collection(server):
    status, doc = get_json(server, "/api/info")
    assert status == 200
    assert doc["collection"]["count"] == server["count"]
    assert doc["model"]["has_text"] is True and doc["model"]["dim"] == doc["collection"]["dim"]
    assert doc["collection"]["effective_spec"]
    assert doc["limits"]["max_upload_bytes"] == MAX_UPLOAD_MB << 20


def test_missing_file_is_404_not_a_crash(server, tmp_path):
    # An indexed file deleted afterwards: its thumbnail is a 404 naming the file. (Before
    # test_thumbnails..., which caches every thumbnail.)
    _, whole = get_json(server, f"/api/search?q=x&k={server['count']}")
    victim = next(r for r in whole["results"] if r["uri"].endswith("white.jpg"))
    moved = tmp_path / "white.jpg"
    os.rename(victim["uri"], moved)
    try:
        doc = assert_error(server, {404}, "GET", f"/api/thumb/{victim['id']}")
        assert "white.jpg" in doc["error"]
    finally:
        os.rename(moved, victim["uri"])
    assert_alive(server)


def ids_of(doc):
    return [r["id"] for r in doc["results"]]


def test_text_search_get_and_post_agree(server):
    status, hdrs, data = request(server, "GET", "/api/search?q=%E7%BA%A2%E8%89%B2&k=5")
    assert status == 200
    doc = json.loads(data)
    assert doc["query"] == {"kind": "text", "text": "红色"}
    assert len(doc["results"]) == 5 and doc["more"] is True
    scores = [r["score"] for r in doc["results"]]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in doc["results"]] == [1, 2, 3, 4, 5]
    for r in doc["results"]:
        assert os.path.dirname(r["uri"]) == str(server["gallery"])
        assert r["thumb"] == f"/api/thumb/{r['id']}"
    timing = {k: float(v) for k, v in re.findall(r"(\w+);dur=([\d.]+)", hdrs["server-timing"])}
    assert timing == doc["timing_ms"] and set(timing) == {"embed", "search", "items"}, hdrs
    assert timing["embed"] > 0
    status, posted = get_json(server, "/api/search", "POST",
                              json.dumps({"q": "红色", "k": 5}).encode(),
                              {"Content-Type": "application/json"})
    assert status == 200 and ids_of(posted) == ids_of(doc)


def test_paging_is_consecutive(server):
    n = server["count"]
    _, whole = get_json(server, f"/api/search?q=a+red+circle&k={n}")
    assert len(whole["results"]) == n and whole["more"] is False
    _, first = get_json(server, "/api/search?q=a+red+circle&k=3")
    _, second = get_json(server, "/api/search?q=a+red+circle&k=3&offset=3")
    assert ids_of(first) + ids_of(second) == ids_of(whole)[:6]
    assert [r["rank"] for r in second["results"]] == [4, 5, 6]
    _, last = get_json(server, f"/api/search?q=a+red+circle&k=3&offset={n - 1}")
    assert ids_of(last) == ids_of(whole)[-1:] and last["more"] is False


def test_similar_leaves_the_item_out(server):
    _, whole = get_json(server, f"/api/search?q=blue&k={server['count']}")
    some = whole["results"][0]["id"]
    status, doc = get_json(server, f"/api/similar/{some}?k=50")
    assert status == 200 and doc["query"]["id"] == some
    assert some not in ids_of(doc)
    assert sorted(ids_of(doc) + [some]) == sorted(ids_of(whole))


def test_thumbnails_are_small_jpegs_of_items(server):
    _, whole = get_json(server, f"/api/search?q=purple&k={server['count']}")
    for r in whole["results"]:
        status, hdrs, data = request(server, "GET", r["thumb"])
        assert status == 200 and hdrs["content-type"] == "image/jpeg"
        img = Image.open(io.BytesIO(data))
        assert img.format == "JPEG" and img.size[0] == img.size[1] <= 128
        # Never enlarged: the side is the image's shorter side when that is below 128.
        assert img.size[0] == min(128, r["width"], r["height"])
        if os.path.basename(r["uri"]) == "red.jpg":
            px = img.convert("RGB").getpixel((img.size[0] // 2, img.size[1] // 2))
            assert px[0] > 180 and px[1] < 80 and px[2] < 80, px
    # The second time comes from the cache, byte for byte.
    first = whole["results"][0]["thumb"]
    before = get_json(server, "/api/info")[1]["thumbnails"]
    assert request(server, "GET", first)[2] == request(server, "GET", first)[2]
    after = get_json(server, "/api/info")[1]["thumbnails"]
    assert after["hits"] == before["hits"] + 2 and after["misses"] == before["misses"]
    assert after["entries"] == server["count"]


def test_thumbnails_follow_exif_orientation(server):
    _, whole = get_json(server, f"/api/search?q=x&k={server['count']}")
    item = next(r for r in whole["results"] if r["uri"].endswith("exif_rotated.jpg"))
    img = Image.open(io.BytesIO(request(server, "GET", item["thumb"])[2])).convert("RGB")
    side = img.size[0]
    top, bottom = img.getpixel((side // 2, 4)), img.getpixel((side // 2, side - 5))
    assert top[0] > 180 and top[2] < 80, top        # red on top: turned upright
    assert bottom[2] > 180 and bottom[0] < 80, bottom


def test_upload_search_raw_and_multipart(server):
    red = jpeg(COLOURS["red"], (50, 50))
    status, doc = get_json(server, "/api/search?k=3", "POST", red, {"Content-Type": "image/jpeg"})
    assert status == 200 and doc["query"] == {"kind": "image", "bytes": len(red)}
    body, ctype = multipart({"image": ("red.jpg", red), "k": (None, b"3")})
    status, form = get_json(server, "/api/search", "POST", body, {"Content-Type": ctype})
    assert status == 200 and ids_of(form) == ids_of(doc) and len(ids_of(form)) == 3


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF"])
def test_upload_search_in_photo_formats(server, fmt):
    """A WebP or TIFF upload is searched like the same picture as JPEG (issue 24)."""
    status, doc = get_json(server, "/api/search?k=3", "POST", jpeg(COLOURS["red"], (50, 50)),
                           {"Content-Type": "image/jpeg"})
    buf = io.BytesIO()
    Image.new("RGB", (50, 50), COLOURS["red"]).save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    body, ctype = multipart({"image": (f"red.{fmt.lower()}", buf.getvalue()), "k": (None, b"3")})
    status, form = get_json(server, "/api/search", "POST", body, {"Content-Type": ctype})
    assert status == 200 and ids_of(form) == ids_of(doc)


# ------------------------------------------------------------------------------------------
# Safety: only collection items by id, 4xx JSON for everything else, and it keeps serving


@pytest.mark.parametrize("path", [
    "/../../../../etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "/api/thumb/../../../etc/passwd",
    "/api/thumb/..%2f..%2fsecret.txt",
    "/api/thumb//etc/passwd",
    "/api/thumb/1/../../secret.txt",
    "/api/thumb/%2Fetc%2Fpasswd",
    "/api/thumb/1%00.jpg",
    "/api/thumb/-1",
    "/api/thumb/0x1",
    "/api/thumb?path=/etc/passwd",
    "/app.js/../../../etc/passwd",
    "/static/../secret.txt",
    "/api/item/../../secret.txt",
    "/api/similar/../../etc/passwd",
])
def test_paths_are_never_files(server, path):
    status, hdrs, data = request(server, "GET", path)
    assert 400 <= status < 500, (path, status)
    assert b"root:" not in data and b"top secret" not in data
    assert hdrs["content-type"].startswith("application/json")
    assert json.loads(data)["status"] == status
    assert_alive(server)


@pytest.mark.parametrize("path", [
    "/api/thumb/999999", "/api/item/999999", "/api/similar/999999",
    "/api/thumb/99999999999999999999999999", "/api/similar/99999999999999999999999999",
])
def test_unknown_ids_are_404(server, path):
    doc = assert_error(server, {404}, "GET", path)
    assert "999" in doc["error"]
    assert_alive(server)


@pytest.mark.parametrize("query", [
    "q=", "q=%20%20", "k=5", "q=red&k=abc", "q=red&k=0", "q=red&k=100000", "q=red&k=-1",
    "q=red&k=1e3", "q=red&offset=-1", "q=red&offset=99999999999999999999",
    "q=red&offset=4999&k=200", "q=%FF%FEred", "q=red%00blue", "q=%C3", "q=" + "x" * 5000,
])
def test_malformed_query_strings_are_400(server, query):
    assert_error(server, {400}, "GET", "/api/search?" + query)
    assert_alive(server)


def test_odd_but_valid_query_strings(server):
    # Stray percent signs, repeated and unknown parameters: answered, not refused.
    for query in ("q=100%25&k=2", "q=%zz&k=2", "q=red&q=blue&k=2", "q=red&colour=x&k=2&&"):
        status, doc = get_json(server, "/api/search?" + query)
        assert status == 200 and len(doc["results"]) == 2, (query, doc)


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b'"red"', b"null", b'{"k": 5}', b'{"q": 5}', b'{"q": null}',
    b'{"q": "red", "k": -1}', b'{"q": "red", "k": "5"}', b'{"q": "red", "k": 2.5}',
    b'{"q": "red", "k": 0}', b'{"q": "red", "offset": 1e30}', b'{"q": "red", "extra": 1}',
    b'{"q": "\xff\xfe"}', b'{"q": "red"} trailing', b'{"q": ""}', b"[" * 100000,
    b'{"q": "red", "k": 1e400}', b'{"q": "red", "offset": -1e400}',
], ids=lambda b: repr(b[:30]))
def test_malformed_json_is_400(server, body):
    assert_error(server, {400}, "POST", "/api/search", body, {"Content-Type": "application/json"})
    assert_alive(server)


def png_claiming(width, height):
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("name,data,statuses", [
    ("empty", b"", {400}),
    ("text", b"hello, I am not an image\n" * 10, {415}),
    ("html", b"<!doctype html><html><body>hi</body></html>", {415}),
    ("truncated jpeg", jpeg((200, 10, 10), (300, 300))[:400], {422}),
    ("corrupt png", png_claiming(20, 20)[:-20] + b"\0" * 20, {422}),
    ("zero size png", png_claiming(0, 20), {422}),
    ("bomb png", png_claiming(100000, 100000), {413}),
    ("random", os.urandom(5000), {415}),
])
def test_bad_uploads_are_4xx(server, name, data, statuses):
    doc = assert_error(server, statuses, "POST", "/api/search", data,
                       {"Content-Type": "image/png"})
    assert "uploaded image" in doc["error"], doc
    body, ctype = multipart({"image": ("x.png", data)})
    assert_error(server, statuses, "POST", "/api/search", body, {"Content-Type": ctype})
    assert_alive(server)


def test_oversized_uploads_are_413(server):
    limit = MAX_UPLOAD_MB << 20
    # Over the limit by a little: refused once read (the image part is over the limit).
    big = os.urandom(limit + 1000)
    doc = assert_error(server, {413}, "POST", "/api/search", big, {"Content-Type": "image/jpeg"})
    assert "max-upload-mb" in doc["error"]
    # Far over: refused from the Content-Length alone, before any of the body is read.
    reply = raw(server, b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                        b"Content-Length: 99999999999\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413")
    assert_alive(server)


def test_other_bad_requests(server):
    assert_error(server, {415}, "POST", "/api/search", b"q=red", {"Content-Type": "text/plain"})
    body, ctype = multipart({"picture": ("x.jpg", jpeg((1, 2, 3)))})
    assert "image" in assert_error(server, {400}, "POST", "/api/search", body,
                                   {"Content-Type": ctype})["error"]
    body, ctype = multipart({"image": ("x.jpg", jpeg((1, 2, 3))), "k": (None, b"many")})
    assert_error(server, {400}, "POST", "/api/search", body, {"Content-Type": ctype})
    assert_error(server, {400}, "POST", "/api/search", b"--nope\r\n\r\n",
                 {"Content-Type": "multipart/form-data; boundary=x"})
    assert_error(server, {404, 405}, "DELETE", "/api/info")
    assert_error(server, {404, 405}, "PUT", "/api/thumb/1", b"x")
    assert_error(server, {404}, "GET", "/api/nothing")
    assert_alive(server)


def test_malformed_http_keeps_it_serving(server):
    for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x00\x01\x02\xff" * 100 + b"\r\n\r\n",
                 b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"b" * 20000 + b"\r\n\r\n",
                 b"GET /api/info HTTP/1.1\r\nHost: x\r\n"):  # never finished: timed out
        reply = raw(server, junk)
        assert reply == b"" or re.match(rb"HTTP/1\.1 4\d\d ", reply), reply[:100]
        assert b"root:" not in reply
    assert_alive(server)


def test_concurrent_requests(server):
    _, whole = get_json(server, f"/api/search?q=x&k={server['count']}")
    ids = ids_of(whole)
    paths = [f"/api/search?q=colour+{i}&k=4" for i in range(12)] + \
            [f"/api/thumb/{i}" for i in ids] + [f"/api/similar/{i}" for i in ids]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda p: request(server, "GET", p)[0], paths))
    assert statuses == [200] * len(paths)
    assert_alive(server)


def test_refresh_takes_in_what_others_commit(tmp_path):
    # Items indexed or removed by another process while serving show up (--refresh 1), and a
    # removed item's thumbnail is no longer served, cached or not.
    model = model_dir()
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    (gallery / "red.jpg").write_bytes(jpeg(COLOURS["red"]))
    db = tmp_path / "db"
    index = [CBIR, "index", str(gallery), "--db", str(db), "--model", model]
    subprocess.run(index, check=True, capture_output=True, timeout=300)
    proc, port = start_server(db, model, "--refresh", "1")
    srv = {"port": port, "proc": proc, "count": 1}
    try:
        _, doc = get_json(srv, "/api/search?q=red&k=5")
        red = doc["results"][0]
        assert request(srv, "GET", red["thumb"])[0] == 200
        (gallery / "blue.jpg").write_bytes(jpeg(COLOURS["blue"]))
        subprocess.run(index, check=True, capture_output=True, timeout=300)
        subprocess.run([CBIR, "remove", "--db", str(db), red["uri"]], check=True,
                       capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while get_json(srv, "/api/info")[1]["collection"]["count"] != 1 or \
                [r["uri"] for r in get_json(srv, "/api/search?q=red&k=5")[1]["results"]] != \
                [str(gallery / "blue.jpg")]:
            assert time.monotonic() < deadline, "the server never took in the changes"
            time.sleep(0.2)
        assert_error(srv, {404}, "GET", red["thumb"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_sigterm_stops_cleanly(server):
    # Last: the module's server goes away here.
    proc = server["proc"]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
