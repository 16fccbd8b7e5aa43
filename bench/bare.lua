-- wrk script: POST a small JSON body to the bare Sanic endpoint.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"client_id":"00000000-0000-4000-8000-000000000000","subject":{"name":"张阿婆"},' ..
  '"hardship":["elderly_alone"],"description":"独居，卧床，无人照料"}'

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.3f, \"p50_ms\": %.2f, " ..
    "\"p99_ms\": %.2f, \"non2xx\": %d, \"errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
