-- wrk script for overload.py: like post.lua, plus pacing and a count per HTTP status.
-- usage: wrk -s overload.lua URL -- BODIES_FILE [DELAY_MS]
-- Each connection waits DELAY_MS after every answer before its next request, so C connections
-- offer about C * 1000 / DELAY_MS requests/s while answers are fast (refusals are), whatever
-- the server's pace: close to open-loop load. Env WRK_AUTH: the Authorization header.
local reqs, n, i, pause = {}, 0, 0, 0
statuses = {}  -- global: done() reads it from each thread with thread:get
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local hdr = {["Content-Type"] = "application/json"}
  local auth = os.getenv("WRK_AUTH")
  if auth and #auth > 0 then hdr["Authorization"] = auth end
  for line in io.lines(args[1]) do
    if #line > 0 then n = n + 1; reqs[n] = wrk.format("POST", nil, hdr, line) end
  end
  pause = tonumber(args[2] or "0")
end

function delay()
  return pause
end

function request()
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(s, lat, _)
  local total, parts = {}, {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + count end
  end
  for code, count in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', code, count) end
  local e = s.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"statuses":{%s}}\n',
    s.requests, s.duration, lat:percentile(50), lat:percentile(99), lat.max,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
