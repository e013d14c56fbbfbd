// The cbir gallery page: plain JavaScript over the JSON API (/api/info, /api/search,
// /api/similar/ID, /api/thumb/ID). Text and "more like this" searches live in the URL's hash,
// so the browser's back button and links work; an uploaded image stays in memory.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null;   // the search on screen: {kind: "text"|"similar"|"image", ...}
let sequence = 0;     // answers to superseded requests are dropped
let uploadUrl = null; // object URL of the uploaded image's preview

async function api(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try {
    body = await res.json();
  } catch (_) {
    // not JSON: fall through to the status line
  }
  if (!res.ok || body === null) {
    throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  }
  return body;
}

function perPage() {
  return parseInt($("k").value, 10);
}

function basename(uri) {
  return uri.split(/[\\/]/).pop();
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function loadInfo() {
  try {
    const info = await api("/api/info");
    const m = info.model;
    const c = info.collection;
    $("info").textContent =
      `${c.count} images · model ${m.name} (${m.family}, ${m.dim}-d, ${m.device}) · ` +
      `index ${c.effective_spec}`;
    if (!m.has_text) {
      $("q").disabled = true;
      $("q").placeholder = "this model reads no text: search by image";
    }
  } catch (e) {
    $("info").textContent = "";
    showError(`cannot reach the gallery's API: ${e.message}`);
  }
}

// Text and similar searches go through the hash; the hashchange listener runs them.
function navigate(params) {
  const hash = "#" + new URLSearchParams(params).toString();
  if (location.hash === hash) run(fromHash());
  else location.hash = hash;
}

// The filter box and the date range, as request parameters (only those filled in).
const FILTERS = ["where", "from", "to"];
function filters() {
  const f = {};
  for (const name of FILTERS) if ($(name).value.trim()) f[name] = $(name).value.trim();
  return f;
}

function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const k = parseInt(p.get("k"), 10) || perPage();
  const offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
  const f = {};
  for (const name of FILTERS) if (p.has(name)) f[name] = p.get(name);
  if (p.has("q")) return { kind: "text", q: p.get("q"), k, offset, filters: f };
  if (p.has("like")) return { kind: "similar", id: p.get("like"), k, offset, filters: f };
  return null;
}

function request(search) {
  const page = new URLSearchParams({ k: search.k, offset: search.offset, ...search.filters });
  if (search.kind === "text") {
    page.set("q", search.q);
    return [`/api/search?${page}`, undefined];
  }
  if (search.kind === "similar") {
    return [`/api/similar/${encodeURIComponent(search.id)}?${page}`, undefined];
  }
  const type = search.file.type || "application/octet-stream";
  return [`/api/search?${page}`,
          { method: "POST", body: search.file, headers: { "Content-Type": type } }];
}

async function run(search) {
  if (!search) return;
  current = search;
  const mine = ++sequence;
  $("q").value = search.kind === "text" ? search.q : "";
  for (const name of FILTERS) $(name).value = search.filters[name] || "";
  if ([...$("k").options].some((o) => o.value === String(search.k))) $("k").value = search.k;
  $("results").dataset.state = "loading";
  showError("");
  try {
    const [url, init] = request(search);
    const answer = await api(url, init);
    if (mine === sequence) render(search, answer);
  } catch (e) {
    if (mine !== sequence) return;
    $("results").dataset.state = "error";
    showError(e.message);
  }
}

function describe(search, answer) {
  const q = answer.query;
  const t = answer.timing_ms;
  const timing = q.kind === "similar"
    ? `search ${t.search} ms`
    : `embedding ${t.embed} ms, search ${t.search} ms`;
  const filtered = [q.where && `where ${q.where}`, q.from && `taken from ${q.from}`,
                    q.to && `to ${q.to}`].filter(Boolean).join(", ");
  const among = filtered ? ` (${filtered})` : "";
  if (q.kind === "text") return `Best matches for “${q.text}”${among} · ${timing}`;
  if (q.kind === "similar") return `More like ${basename(q.uri)} (#${q.id})${among} · ${timing}`;
  return `Images like ${search.file.name || "the uploaded image"}${among} · ${timing}`;
}

function render(search, answer) {
  const list = $("results");
  list.replaceChildren();
  const template = $("card").content;
  for (const r of answer.results) {
    const card = template.firstElementChild.cloneNode(true);
    card.dataset.id = r.id;
    card.dataset.uri = r.uri;
    card.dataset.rank = r.rank;
    const img = card.querySelector("img");
    img.src = r.thumb;
    img.alt = basename(r.uri);
    card.querySelector(".score").textContent = r.score.toFixed(3);
    const name = card.querySelector(".name");
    name.textContent = basename(r.uri);
    name.title = r.uri;
    card.querySelector(".like").addEventListener("click", () =>
      navigate({ like: r.id, k: search.k, offset: 0, ...filters() }));
    list.appendChild(card);
  }
  list.dataset.state = answer.results.length ? "ready" : "empty";
  list.dataset.kind = answer.query.kind;

  $("query").hidden = false;
  $("status").textContent = answer.results.length
    ? describe(search, answer)
    : "No results: the collection is empty, or nothing passed the filters.";
  const thumb = $("query-thumb");
  if (answer.query.kind === "similar") thumb.src = answer.query.thumb;
  else if (answer.query.kind === "image") thumb.src = uploadUrl;
  else thumb.removeAttribute("src");

  $("pager").hidden = answer.offset === 0 && !answer.more;
  $("prev").disabled = answer.offset === 0;
  $("next").disabled = !answer.more;
  const first = answer.offset + 1;
  $("range").textContent = answer.results.length
    ? `${first}–${answer.offset + answer.results.length}` : "";
  window.scrollTo(0, 0);
}

// The search on screen again, with another page size or offset.
// The filters in force are those in the boxes now.
function rerun(k, offset) {
  if (!current) return;
  const f = filters();
  if (current.kind === "image") run({ ...current, k, offset, filters: f });
  else if (current.kind === "text") navigate({ q: current.q, k, offset, ...f });
  else navigate({ like: current.id, k, offset, ...f });
}

function page(direction) {
  if (current) rerun(current.k, Math.max(0, current.offset + direction * current.k));
}

function searchImage(file) {
  if (!file) return;
  if (uploadUrl) URL.revokeObjectURL(uploadUrl);
  uploadUrl = URL.createObjectURL(file);
  history.replaceState(null, "", location.pathname);
  run({ kind: "image", file, k: perPage(), offset: 0, filters: filters() });
}

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = $("q").value.trim();
  if (q) navigate({ q, k: perPage(), offset: 0, ...filters() });
  else if (current) rerun(perPage(), 0);
});
$("upload").addEventListener("change", (event) => {
  searchImage(event.target.files[0]);
  event.target.value = "";  // choosing the same file again searches again
});
$("k").addEventListener("change", () => rerun(perPage(), 0));
$("prev").addEventListener("click", () => page(-1));
$("next").addEventListener("click", () => page(1));

// Dropping an image anywhere on the page searches by it.
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  document.body.classList.add("dragging");
});
document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.addEventListener("drop", (event) => {
  event.preventDefault();
  document.body.classList.remove("dragging");
  searchImage(event.dataTransfer.files[0]);
});

window.addEventListener("hashchange", () => run(fromHash()));
loadInfo();
run(fromHash());
