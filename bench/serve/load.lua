-- wrk script for bench/serve/run.py: each thread cycles through the request paths in the file
-- named by its first argument and collects the Server-Timing that cbir serve reports (the query
-- embedding, the index search and reading the items, timed in-process); done() prints one JSON
-- line.
local paths, counter, threads = {}, 0, {}
local parts = {"embed", "search", "items"}
-- Flat globals, one list per part: wrk copies them out of each thread for done().
embed, search, items, bad = {}, {}, {}, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  local header = headers["Server-Timing"]
  if header then
    for _, part in ipairs(parts) do
      table.insert(_G[part], tonumber(header:match(part .. ";dur=([%d.]+)")) or 0)
    end
  end
end

local function p50(values)
  if #values == 0 then return 0 end
  table.sort(values)
  return values[math.max(1, math.ceil(#values / 2))]
end

function done(summary, latency, requests)
  local all, all_bad = {embed = {}, search = {}, items = {}}, 0
  for _, t in ipairs(threads) do
    for _, part in ipairs(parts) do
      for _, v in ipairs(t:get(part)) do table.insert(all[part], v) end
    end
    all_bad = all_bad + t:get("bad")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"embed_p50_ms": %.3f, "search_p50_ms": %.3f, "items_p50_ms": %.3f, "non_200": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    p50(all.embed), p50(all.search), p50(all.items), all_bad,
    e.connect + e.read + e.write + e.timeout))
end
