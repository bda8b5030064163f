-- wrk script of bench/http_load_wrk.ts. The first script argument names a
-- file holding one pre-signed request: "Name: value" header lines, an empty
-- line, then the body. wrk formats it once and sends it again and again
-- (no request() function, so wrk's static fast path). Non-2xx answers
-- count as errors. done() prints one JSON line on stdout, latencies in ms.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  for line in file:lines() do
    if line == "" then break end
    local name, value = line:match("^([^:]+): (.*)$")
    wrk.headers[name] = value
  end
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    sample = sample or (status .. " " .. (body or ""):sub(1, 200))
  end
end

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function done(summary, latency, requests)
  local non2xx, sample = 0, nil
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("non2xx")
    sample = sample or thread:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"non2xx":%d,"socketErrors":%d,' ..
      '"p50":%.3f,"p99":%.3f,"max":%.3f,"sample":%s}\n',
    summary.requests, summary.duration / 1e6, non2xx,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, sample and quote(sample) or "null"))
end
