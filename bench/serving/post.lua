-- wrk script: POST JSON bodies read from a file (one body per line, cycled).
-- usage: wrk -s post.lua http://127.0.0.1:PORT/path -- BODIES_FILE
-- Prints one JSON line "RESULT {...}" at the end (latencies in microseconds).
-- env WRK_AUTH, when set, is sent as the Authorization header (limelight needs an API key).
local reqs, n, i = {}, 0, 0

function init(args)
  local hdr = {["Content-Type"] = "application/json"}
  local auth = os.getenv("WRK_AUTH")
  if auth and #auth > 0 then hdr["Authorization"] = auth end
  for line in io.lines(args[1]) do
    if #line > 0 then n = n + 1; reqs[n] = wrk.format("POST", nil, hdr, line) end
  end
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(s, lat, _)
  local e = s.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    s.requests, s.duration, s.bytes, lat:percentile(50), lat:percentile(90),
    lat:percentile(99), lat.max, lat.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
