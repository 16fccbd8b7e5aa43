-- wrk script: POST a new report (a fresh client_id each time) with the token in TOKEN.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  math.randomseed(os.time() * 1000 + thread_id)
end

local function client_id()
  counter = counter + 1
  return string.format("%08x-%04x-4%03x-8%03x-%012x", math.random(0, 0x7fffffff),
    thread_id, math.random(0, 0xfff), math.random(0, 0xfff), counter)
end

local surnames = {"张", "王", "李", "赵", "钱", "孙", "周", "吴", "郑", "冯", "陈", "褚"}
local given = {"阿婆", "大伯", "秀英", "建国", "桂兰", "志强", "玉梅", "国庆", "红霞", "德明"}

request = function()
  -- Different households spread over part of 递铺街道, as a day of real reports would be.
  local name = surnames[math.random(#surnames)] .. given[math.random(#given)] ..
    tostring(math.random(1, 99))
  local lat = 30.725 + math.random() * 0.02
  local lng = 119.680 + math.random() * 0.02
  local body = string.format(
    '{"client_id":"%s","subject":{"name":"%s","phone":"13812345678","address":"长竹社区%d号"},' ..
    '"hardship":["elderly_alone"],"description":"独居，卧床，无人照料",' ..
    '"location":{"lat":%.6f,"lng":%.6f,"coord_type":"gcj02","accuracy_m":15},' ..
    '"observed_at":"2026-12-01T07:00:00+00:00"}', client_id(), name, math.random(1, 999),
    lat, lng)
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
