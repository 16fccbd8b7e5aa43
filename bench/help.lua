-- wrk script: POST a new help request from the mini-program (a fresh client_id each time), with
-- the resident's token in TOKEN. Same shape as report.lua.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  math.randomseed(os.time() * 1000 + thread_id + 7)
end

local function client_id()
  counter = counter + 1
  return string.format("%08x-%04x-4%03x-8%03x-%012x", math.random(0, 0x7fffffff),
    thread_id, math.random(0, 0xfff), math.random(0, 0xfff), counter)
end

request = function()
  local lat = 30.725 + math.random() * 0.02
  local lng = 119.680 + math.random() * 0.02
  local body = string.format(
    '{"client_id":"%s","device_id":"bench-%d","for_self":true,' ..
    '"subject":{"address":"长竹社区%d号"},"hardship":["serious_illness","medical_expense"],' ..
    '"description":"老伴住院，医药费负担很重","contact_phone":"13905720001",' ..
    '"location":{"lat":%.6f,"lng":%.6f,"coord_type":"gcj02","accuracy_m":15}}',
    client_id(), thread_id, math.random(1, 999), lat, lng)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.3f, \"p50_ms\": %.2f, " ..
    "\"p99_ms\": %.2f, \"non2xx\": %d, \"errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
