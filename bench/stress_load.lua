-- bench/stress_load.lua: wrk script for bench/stress.sh.
--
--   wrk -s bench/stress_load.lua URL -- BODIES SAMPLE_DIR SAMPLE_EVERY
--
-- POSTs the SOAP bodies of the file BODIES (separated by lines holding only
-- "----8<----") in turn, each thread starting at another one. Counts every
-- response by HTTP status and, for 200 responses, by ResponseClass and
-- ResponseCode; writes every SAMPLE_EVERY-th response body (and every
-- response that is not a 200 Success, up to 50 per thread) to SAMPLE_DIR for
-- schema validation afterwards. done() prints one line per figure:
--   requests N / status CODE N / code RESPONSECODE N / samples N /
--   spliced N / errors connect N read N write N status N timeout N
--
-- wrk keeps the part of a body it has read when the server closes the
-- connection mid-response (a killed child, a graceful restart), and hands
-- it over later in front of the next response's body on the new
-- connection. A body that begins with an XML declaration and holds another
-- is taken from that last one on and counted as spliced: stress.sh allows
-- that only in the phases that cut connections.

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local function read_bodies(path)
   local f = assert(io.open(path, "rb"))
   local all = f:read("*a")
   f:close()
   local bodies = {}
   for body in (all .. "\n----8<----\n"):gmatch("(.-)\n%-%-%-%-8<%-%-%-%-\n") do
      if body:find("%S") then
         table.insert(bodies, body)
      end
   end
   assert(#bodies > 0, "no bodies in " .. path)
   return bodies
end

function init(args)
   local bodies = read_bodies(args[1])
   sample_dir = args[2]
   sample_every = tonumber(args[3]) or 100
   requests = {}
   for i, body in ipairs(bodies) do
      requests[i] = wrk.format("POST", wrk.path,
         { ["Content-Type"] = "text/xml; charset=utf-8" }, body)
   end
   nreq = #requests
   nxt = (id * 7919) % nreq          -- each thread starts elsewhere
   responses = 0
   statuses = {}
   codes = {}
   samples = 0
   odd = 0
   spliced = 0
end

function request()
   nxt = nxt % nreq + 1
   return requests[nxt]
end

local function sample(body, tag)
   samples = samples + 1
   local f = io.open(string.format("%s/%s-%d-%d.xml", sample_dir, tag, id, samples), "wb")
   if f then
      f:write(body)
      f:close()
   end
end

function response(status, headers, body)
   responses = responses + 1
   if body:sub(1, 5) == "<?xml" then
      local last = nil
      for pos in body:gmatch("()<%?xml") do last = pos end
      if last and last > 1 then
         spliced = spliced + 1
         body = body:sub(last)
      end
   end
   statuses[status] = (statuses[status] or 0) + 1
   local code = "-"
   if status == 200 then
      code = body:match("<m:ResponseCode>([^<]*)</m:ResponseCode>") or "(none)"
   end
   codes[code] = (codes[code] or 0) + 1
   if status ~= 200 or code ~= "NoError" then
      if odd < 50 then
         odd = odd + 1
         sample(body, "odd")
      end
   elseif responses % sample_every == 0 then
      sample(body, "ok")
   end
end

function done(summary, latency, requests_done)
   local st, cd, total, nsamples, nspliced = {}, {}, 0, 0, 0
   for _, t in ipairs(threads) do
      total = total + (t:get("responses") or 0)
      nsamples = nsamples + (t:get("samples") or 0)
      nspliced = nspliced + (t:get("spliced") or 0)
      for k, v in pairs(t:get("statuses") or {}) do st[k] = (st[k] or 0) + v end
      for k, v in pairs(t:get("codes") or {}) do cd[k] = (cd[k] or 0) + v end
   end
   io.write(string.format("requests %d\n", total))
   for k, v in pairs(st) do io.write(string.format("status %s %d\n", k, v)) end
   for k, v in pairs(cd) do io.write(string.format("code %s %d\n", k, v)) end
   io.write(string.format("samples %d\n", nsamples))
   io.write(string.format("spliced %d\n", nspliced))
   local e = summary.errors
   io.write(string.format("errors connect %d read %d write %d status %d timeout %d\n",
                          e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("latency p50_ms %.1f p99_ms %.1f max_ms %.1f\n",
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                          latency.max / 1000))
end
