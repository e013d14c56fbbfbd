-- wrk script for bench/serve/run.py: each thread cycles through the request paths in the file
-- named by its first argument, collects the Server-Timing that cbir serve reports (the query
-- embedding and the index search, timed in-process), and done() prints one JSON line.
local paths, counter, threads = {}, 0, {}
embed, search, bad = {}, {}, 0

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
  local timing = headers["Server-Timing"]
  if timing then
    table.insert(embed, tonumber(timing:match("embed;dur=([%d.]+)")) or 0)
    table.insert(search, tonumber(timing:match("search;dur=([%d.]+)")) or 0)
  end
end

local function percentile(values, p)
  if #values == 0 then return 0 end
  table.sort(values)
  return values[math.max(1, math.ceil(#values * p / 100))]
end

function done(summary, latency, requests)
  local all_embed, all_search, all_bad = {}, {}, 0
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("embed")) do table.insert(all_embed, v) end
    for _, v in ipairs(t:get("search")) do table.insert(all_search, v) end
    all_bad = all_bad + t:get("bad")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"embed_p50_ms": %.3f, "search_p50_ms": %.3f, "non_200": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    percentile(all_embed, 50), percentile(all_search, 50), all_bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
