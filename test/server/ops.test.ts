import { test } from "node:test";
import assert from "node:assert/strict";
import { testServer } from "./helpers.ts";

test("/healthz reports ok with live workers and in-flight calls", async () => {
  const server = await testServer();
  try {
    const response = await fetch(server.url + "/healthz");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok", liveWorkers: 0, warmSandboxes: 0, inFlight: 0 });
  } finally {
    await server.close();
  }
});

test("/metrics is Prometheus text: invocations by outcome, latency histograms, live workers, pool, in flight", async () => {
  const server = await testServer({ loader: { warmPool: 1 } });
  try {
    await server.post("/v1/run", { code: `export default { run() { return 1; } }` });
    await server.post("/v1/run", { code: `export default { run() { throw new Error("x"); } }` });
    await server.post("/v1/run", { code: `export default { run() { while (true) {} } }`, limits: { cpuMs: 20 } });
    await server.post("/v1/run", { id: "warm", code: `export default { run() { return 1; } }` });
    const response = await fetch(server.url + "/metrics");
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^# TYPE islet_invocations_total counter$/m);
    assert.match(text, /^islet_invocations_total\{outcome="ok"\} 2$/m);
    assert.match(text, /^islet_invocations_total\{outcome="exception"\} 1$/m);
    assert.match(text, /^islet_invocations_total\{outcome="exceededCpu"\} 1$/m);
    assert.match(text, /^# TYPE islet_invocation_duration_seconds histogram$/m);
    assert.match(text, /^islet_invocation_duration_seconds_bucket\{le="\+Inf"\} 4$/m);
    assert.match(text, /^islet_invocation_duration_seconds_count 4$/m);
    assert.match(text, /^islet_http_requests_total\{route="\/v1\/run",status="200"\} 4$/m);
    assert.match(text, /^islet_http_request_duration_seconds_bucket\{le="30",route="\/v1\/run"\} 4$/m);
    assert.match(text, /^islet_live_workers 1$/m, "the warm named worker");
    assert.match(text, /^islet_warm_pool_sandboxes \d+$/m);
    assert.match(text, /^islet_in_flight_calls 0$/m);
    assert.match(text, /^islet_rpc_sessions 0$/m);
    // Every sample line is `name{labels} number`.
    for (const line of text.trim().split("\n")) if (line !== "" && !line.startsWith("#")) assert.match(line, /^[a-z_][a-z0-9_]*(\{[^}]*\})? [\d.e+-]+$/, line);
  } finally {
    await server.close();
  }
});

test("/metrics has Node's process metrics: a stalled event loop shows as event-loop lag; the run counters go up", async () => {
  const server = await testServer();
  const scrape = async () => {
    const response = await fetch(server.url + "/metrics");
    assert.equal(response.status, 200);
    const text = await response.text();
    const value = (name: string) => {
      const match = new RegExp(`^${name.replace(/[{}"/]/g, "\\$&")} ([\\d.e+-]+)$`, "m").exec(text);
      return match === null ? undefined : Number(match[1]);
    };
    return { text, value };
  };
  try {
    const before = await scrape();
    assert.match(before.text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    assert.match(before.text, /^# TYPE process_cpu_seconds_total counter$/m);
    assert.match(before.text, /^# TYPE nodejs_heap_size_used_bytes gauge$/m);
    assert.equal(before.value('islet_invocations_total{outcome="ok"}'), undefined);
    for (let i = 1; i <= 3; i++) {
      const { status } = await server.post("/v1/run", { code: `export default { run() { return 1; } }` });
      assert.equal(status, 200);
      const after = await scrape();
      assert.equal(after.value('islet_invocations_total{outcome="ok"}'), i);
      assert.equal(after.value('islet_http_requests_total{route="/v1/run",status="200"}'), i);
    }
    assert.ok(before.value("nodejs_eventloop_lag_max_seconds")! < 0.25, before.text);
    // What a sandbox must never do to the host: hold its event loop. Here the host does it itself.
    // (The lag monitor is a timer: give it a turn before and after.)
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stalled = performance.now();
    while (performance.now() - stalled < 300);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await scrape();
    assert.ok(after.value("nodejs_eventloop_lag_seconds")! >= 0);
    assert.ok(after.value("nodejs_eventloop_lag_max_seconds")! >= 0.25, `lag max ${after.value("nodejs_eventloop_lag_max_seconds")}`);
  } finally {
    await server.close();
  }
});

test("graceful shutdown: in-flight calls finish, new ones are refused, health turns 503", async () => {
  const server = await testServer();
  const slow = server.post("/v1/run", { code: `export default { async run() { await scheduler.wait(300); return "finished"; } }` });
  while (server.service.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const closing = server.close();
  // The listener is closed at once; a request on a new connection cannot get in.
  await assert.rejects(fetch(server.url + "/healthz"));
  const answer = await slow;
  assert.equal(answer.status, 200);
  assert.equal(answer.json.result, "finished");
  await closing;
});

test("shutdown stops waiting after shutdownTimeoutMs and cancels what is still running", async () => {
  const server = await testServer({ shutdownTimeoutMs: 50 });
  const stuck = server.post("/v1/run", { code: `export default { async run() { await scheduler.wait(5000); return "late"; } }` });
  while (server.service.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await server.close();
  const outcome = await stuck.then((r) => r.json, (error: Error) => ({ rejected: error.message }));
  assert.ok(outcome.rejected !== undefined || outcome.error?.name === "WorkerDisposedError", JSON.stringify(outcome));
});
