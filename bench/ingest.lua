-- ingest.lua - wrk script: POST pre-signed Twilio webhooks (bench/presign),
-- each distinct, so that every answered request stored one message.
--   WEBHOOKS=file wrk -s bench/ingest.lua -t T -c C -d D http://127.0.0.1:PORT/twilio/sms
-- Threads take turns through the list (thread k: lines k, k+T, k+2T, ...);
-- at the end of the list a thread starts over, and Twilio retries are then
-- answered 200 without storing anything: run.sh counts stored messages.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   sigs, bodies = {}, {}
   for line in io.lines(os.getenv("WEBHOOKS")) do
      local sp = line:find(" ", 1, true)
      sigs[#sigs + 1] = line:sub(1, sp - 1)
      bodies[#bodies + 1] = line:sub(sp + 1)
   end
   -- setup() ran in wrk's own Lua state: the thread count comes from run.sh
   nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
   i = tid + 1
   wrapped = 0
end

function request()
   if i > #bodies then
      i = tid + 1
      wrapped = wrapped + 1
   end
   local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = sigs[i],
   }
   local body = bodies[i]
   i = i + nthreads
   return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
   local bad = summary.errors.status + summary.errors.connect +
      summary.errors.read + summary.errors.write + summary.errors.timeout
   io.write(string.format("ingest_requests=%d ingest_errors=%d p50_ms=%.1f p99_ms=%.1f\n",
      summary.requests, bad, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
