// The gallery in a real browser: Debian's chromium, headless, driven by playwright-core.
// Indexes a gallery with `cbir index`, starts `cbir serve` on it, then in the page: a Chinese and
// an English text query (their expected shapes must come first), an image upload (the image
// itself, then its kind), "more like this" on a result, the next page, the filter box and date
// range; screenshots go to --out.
//
// usage: node browser_test.mjs --cbir BIN --model BUNDLE --data DIR --out DIR [--class red_circle]
//   DIR (examples/data) holds gallery/<colour>_<shape>_<n>.jpg and queries.tsv (colour, shape,
//   zh, en). Exit status: 0 passed, 1 failed, 77 skipped (the reason is printed).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const SKIP = 77;
// "The expected shapes first": the first result has the expected class, and so do most (3) of
// the first 5 -- what a person sees at a glance, and what the default model's quality promises
// (precision@5 >= 0.8 on average over the classes, see tools/train_tiny/tests).
const TOP = 5;
const MOST = 3;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}

// Under CI (CI=true or 1; run_browser_test.sh passes it on as CBIR_NO_SKIP) a missing
// dependency fails the test: CI must run it.
const NO_SKIP = Boolean(process.env.CBIR_NO_SKIP) || ["true", "1"].includes(process.env.CI);
function skip(why) {
  if (NO_SKIP) {
    console.log(`FAIL (under CI nothing is skipped): ${why}`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

const cbir = option("cbir");
const model = option("model");
const data = option("data");
const out = option("out");
const wanted = option("class", "red_circle");
const chromiumPath = option("chromium", "/usr/bin/chromium");

if (!fs.existsSync(path.join(model, "bundle.json"))) {
  skip(`no model bundle at ${model} (the default model is made by tools/train_tiny/train.py)`);
}
if (!fs.existsSync(path.join(data, "queries.tsv"))) {
  skip(`no gallery at ${data} (tools/train_tiny/train.py --gallery writes it)`);
}
if (!fs.existsSync(chromiumPath)) skip(`no chromium at ${chromiumPath} (apt-get install chromium)`);
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  skip(`playwright-core is not installed (npm ci in tests/serve): ${e.message}`);
}

// The class's queries, and a picture of another class to upload.
const rows = fs.readFileSync(path.join(data, "queries.tsv"), "utf8").trim().split("\n")
  .slice(1).map((line) => line.split("\t"));
const row = rows.find(([colour, shape]) => `${colour}_${shape}` === wanted);
if (!row) throw new Error(`${wanted} is not a class of ${data}/queries.tsv`);
const [, , zh, en] = row;
const gallery = path.join(data, "gallery");
const pictures = fs.readdirSync(gallery).filter((f) => f.endsWith(".jpg")).sort();
const upload = pictures.find((f) => !f.startsWith(`${wanted}_`));
const uploadClass = upload.replace(/_\d+\.jpg$/, "");

fs.mkdirSync(out, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "cbir-serve-browser-"));
const failures = [];

function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

const classOf = (uri) => path.basename(uri).replace(/_\d+\.jpg$/, "");

// Whether the first of `hits` and most of the first TOP have class `cls`; and a description.
function expected(hits, cls) {
  const top = hits.slice(0, TOP).map((h) => path.basename(h.uri));
  const ok = top.length > 0 && classOf(top[0]) === cls &&
    top.filter((f) => classOf(f) === cls).length >= MOST;
  return [ok, `first and ${MOST} of the first ${TOP} are ${cls}: ${top.join(" ")}`];
}

// Index, then serve on a free port; the first line printed names the URL.
execFileSync(cbir, ["index", gallery, "--db", path.join(work, "db"), "--model", model],
  { stdio: ["ignore", "ignore", "inherit"] });
const server = spawn(cbir, ["serve", "--db", path.join(work, "db"), "--model", model,
  "--port", "0", "--refresh", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let text = "";
  server.stdout.on("data", (chunk) => {
    text += chunk;
    const m = text.match(/http:\/\/127\.0\.0\.1:\d+\//);
    if (m) resolve(m[0]);
  });
  server.on("exit", (code) => reject(new Error(`cbir serve exited (${code}): ${text}`)));
});
console.log(`serving ${url}`);

const context = await chromium.launchPersistentContext(path.join(work, "profile"), {
  executablePath: chromiumPath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(30000);
page.on("pageerror", (e) => check(false, `no JavaScript error in the page: ${e.message}`));

// The first results on screen once a search of `kind` has answered.
async function results(kind, action) {
  const answered = page.waitForResponse((r) => /\/api\/(search|similar)\b/.test(r.url()));
  await action();
  await answered;
  await page.waitForSelector(`#results[data-state=ready][data-kind=${kind}]`);
  return page.$$eval("[data-testid=result]", (cards) => cards.map((c) => ({
    id: Number(c.dataset.id), uri: c.dataset.uri, rank: Number(c.dataset.rank),
    score: Number(c.querySelector("[data-testid=score]").textContent),
  })));
}

async function thumbnailsLoaded(n) {
  await page.waitForFunction((count) => [...document.querySelectorAll("#results img")]
    .slice(0, count).every((img) => img.complete && img.naturalWidth > 0), n);
  return true;
}

try {
  await page.goto(url);
  await page.waitForFunction(() => /\d+ images/.test(document.getElementById("info").textContent));
  const info = await page.textContent("#info");
  check(info.includes(`${pictures.length} images`), `collection info shown: ${info}`);

  for (const text of [zh, en]) {
    const hits = await results("text", async () => {
      await page.fill("[data-testid=search-input]", text);
      await page.press("[data-testid=search-input]", "Enter");
    });
    const [ok, what] = expected(hits, wanted);
    check(hits.length === 24, `"${text}": a page of 24 results (got ${hits.length})`);
    check(ok, `"${text}": ${what}`);
    check((await page.textContent("#status")).includes(text), `"${text}": named in the status`);
    check(await thumbnailsLoaded(TOP), `"${text}": thumbnails loaded`);
    if (text === zh) await page.screenshot({ path: path.join(out, "serve-text-query.png") });
  }

  const uploaded = await results("image", () =>
    page.setInputFiles("[data-testid=upload-input]", path.join(gallery, upload)));
  check(path.basename(uploaded[0].uri) === upload && uploaded[0].score > 0.999,
    `upload ${upload}: itself first (${path.basename(uploaded[0].uri)}, ${uploaded[0].score})`);
  const [uploadOk, uploadWhat] = expected(uploaded.slice(1), uploadClass);
  check(uploadOk, `upload ${upload}, after itself: ${uploadWhat}`);

  const source = uploaded[1];
  const similar = await results("similar", () =>
    page.click(`[data-testid=result][data-id="${source.id}"] [data-testid=more-like-this]`));
  check(!similar.some((h) => h.id === source.id), "more like this: the item itself left out");
  const [similarOk, similarWhat] = expected(similar, classOf(source.uri));
  check(similarOk, `more like ${path.basename(source.uri)}: ${similarWhat}`);
  check(page.url().includes(`like=${source.id}`), "more like this: in the address (back works)");
  check(await thumbnailsLoaded(TOP), "more like this: thumbnails loaded");
  await page.screenshot({ path: path.join(out, "serve-more-like-this.png"), fullPage: true });

  const next = await results("similar", () => page.click("[data-testid=next]"));
  check(next[0].rank === 25 && !next.some((h) => similar.some((s) => s.id === h.id)),
    `next page: ranks from 25, none repeated (first rank ${next[0].rank})`);
  await page.goBack();
  await page.waitForFunction(() => document.getElementById("range").textContent.startsWith("1–"));
  check(true, "back: the first page again");

  // The filter box and the date range narrow the text search.
  const colour = uploadClass.split("_")[0];
  const filtered = await results("text", async () => {
    await page.fill("[data-testid=search-input]", en);
    await page.fill("[data-testid=where-input]", `path like '%/${colour}_%'`);
    await page.press("[data-testid=search-input]", "Enter");
  });
  check(filtered.length > 0 && filtered.every((h) => path.basename(h.uri).startsWith(`${colour}_`)),
    `filter "path like '%/${colour}_%'": only ${colour} pictures (${filtered.length})`);
  check(page.url().includes("where="), "filter: in the address");
  await page.screenshot({ path: path.join(out, "serve-filter.png") });
  const answered = page.waitForResponse((r) => /\/api\/search\b/.test(r.url()));
  await page.fill("[data-testid=from-input]", "2020-01-01");
  await page.press("[data-testid=search-input]", "Enter");
  const dated = await (await answered).json();
  await page.waitForSelector("#results[data-state=empty]", { state: "attached" });
  check(dated.results.length === 0 && dated.query.from === "2020-01-01",
    "date range: the gallery's pictures carry no capture time, so none is taken after 2020");
  const wrong = page.waitForResponse((r) => /\/api\/search\b/.test(r.url()));
  await page.fill("[data-testid=from-input]", "");
  await page.fill("[data-testid=where-input]", "width >");
  await page.press("[data-testid=search-input]", "Enter");
  check((await wrong).status() === 400, "a malformed filter: 400");
  await page.waitForSelector("[data-testid=error]:not([hidden])");
  check((await page.textContent("[data-testid=error]")).includes("at position"),
    "a malformed filter: the error says where");
} catch (e) {
  check(false, `the walk through the page finished: ${e.message}`);
  await page.screenshot({ path: path.join(out, "serve-failure.png"), fullPage: true })
    .catch(() => {});
} finally {
  await context.close();
  server.kill("SIGTERM");
  await new Promise((resolve) => server.exitCode !== null ? resolve() : server.on("exit", resolve));
  fs.rmSync(work, { recursive: true, force: true });
}
check(server.exitCode === 0, `cbir serve stopped cleanly on SIGTERM (exit ${server.exitCode})`);
console.log(failures.length ? `${failures.length} check(s) failed` : `passed; screenshots in ${out}`);
process.exit(failures.length ? 1 : 0);
