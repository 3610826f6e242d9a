// POST /v1/run streamed (Accept: application/x-ndjson or text/event-stream): log lines as the
// worker makes them, then the plain form's answer; closing the request cancels the run. Against a
// real listening server with Node's fetch.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { testServer, type TestServer } from "./helpers.ts";
import { sleep } from "../helpers.ts";

/** Reads a streamed body line by line (ndjson) or message by message (SSE), as they arrive. */
async function* messages(response: Response, format: "ndjson" | "sse"): AsyncGenerator<any> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const separator = format === "ndjson" ? "\n" : "\n\n";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += value;
    for (let at = buffered.indexOf(separator); at >= 0; at = buffered.indexOf(separator)) {
      const chunk = buffered.slice(0, at);
      buffered = buffered.slice(at + separator.length);
      if (format === "ndjson") yield JSON.parse(chunk);
      else {
        const event = /^event: (.*)$/m.exec(chunk)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(chunk)![1]);
        assert.equal(event, data.type);
        yield data;
      }
    }
  }
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("POST /v1/run, streamed", () => {
  let server: TestServer;
  let upstream: Server;
  let gateHost: string;
  /** Requests to the gate, held until the test answers them. */
  const waiting: ServerResponse[] = [];
  before(async () => {
    upstream = createServer((_req, res) => void waiting.push(res));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    gateHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    server = await testServer({ outbound: { allowPrivate: true } });
  });
  after(async () => {
    for (const res of waiting) res.end();
    upstream.close();
    await server.close();
  });

  const gated = () => ({
    code: `export default { async run(n) {
      console.log("started", n);
      const gate = await (await fetch("http://${gateHost}/gate")).text();
      console.warn("finished", { gate });
      return n * 2;
    } }`,
    args: [21],
    allowHosts: [gateHost],
  });

  for (const format of ["ndjson", "sse"] as const) {
    test(`${format}: the first log line arrives while the worker waits on a gate the test opens only after reading it; the answer comes last`, async () => {
      const response = await fetch(server.url + "/v1/run", {
        method: "POST",
        headers: { "content-type": "application/json", accept: format === "ndjson" ? "application/x-ndjson" : "text/event-stream" },
        body: JSON.stringify(gated()),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), format === "ndjson" ? "application/x-ndjson" : "text/event-stream");
      const seen: any[] = [];
      for await (const message of messages(response, format)) {
        seen.push(message);
        if (message.type === "log" && message.message[0] === "started") {
          // The worker cannot have finished: its gate opens only now (once its request reaches it).
          await until(async () => waiting.length === 1, 5_000, "the worker's request at the gate");
          waiting.shift()!.end("open");
        }
      }
      assert.deepEqual(
        seen.map((m) => [m.type, m.level, m.message]),
        [
          ["log", "log", ["started", 21]],
          ["log", "warn", ["finished", { gate: "open" }]],
          ["result", undefined, undefined],
        ],
      );
      const result = seen[2];
      assert.equal(result.result, 42);
      assert.equal(result.outcome, "ok");
      assert.equal(result.logs.length, 2, "the answer is the plain form's, logs included");
      assert.ok(typeof seen[0].timestamp === "number");
    });
  }

  test("an invalid streamed request is refused as the plain form refuses it (400, JSON)", async () => {
    const response = await fetch(server.url + "/v1/run", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify({ code: "export default {}", args: "nope" }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /args/);
  });

  test("without a streaming Accept, the answer is the plain JSON one", async () => {
    const { status, headers, json } = await server.post("/v1/run", { code: `export default { run() { console.log("hi"); return 1; } }` });
    assert.equal(status, 200);
    assert.match(headers.get("content-type")!, /application\/json/);
    assert.equal(json.result, 1);
    assert.deepEqual(json.logs.map((l: { message: unknown[] }) => l.message), [["hi"]]);
  });

  for (const named of [false, true]) {
    test(`closing the request cancels the run: the ${named ? "named" : "one-shot"} worker is ended and its slot freed, long before its wall limit`, async () => {
      const health = async () => (await fetch(server.url + "/healthz")).json() as Promise<{ inFlight: number; liveWorkers: number }>;
      await until(async () => (await health()).liveWorkers === 0, 10_000, "no live workers before");
      const controller = new AbortController();
      const response = await fetch(server.url + "/v1/run", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/x-ndjson" },
        body: JSON.stringify({
          ...(named ? { id: "cancel-me" } : {}),
          code: `export default { async run() { console.log("waiting"); await scheduler.wait(25_000); console.log("never"); return 1; } }`,
          limits: { wallMs: 30_000 },
        }),
        signal: controller.signal,
      });
      const reader = messages(response, "ndjson");
      const first = await reader.next();
      assert.deepEqual([first.value.type, first.value.message], ["log", ["waiting"]]);
      const during = await health();
      assert.equal(during.inFlight, 1);
      assert.equal(during.liveWorkers, 1);
      const aborted = performance.now();
      controller.abort();
      await until(async () => {
        const now = await health();
        return now.inFlight === 0 && now.liveWorkers === 0;
      }, 5_000, "the run to end");
      assert.ok(performance.now() - aborted < 5_000);
      // The server logged the request as it ended; its worker is not running on.
      assert.ok(!server.logs.some((entry) => JSON.stringify(entry).includes("never")));
      // The id can be used again at once.
      if (named) {
        const again = await server.post("/v1/run", { id: "cancel-me", code: `export default { run() { return "fresh"; } }` });
        assert.equal(again.json.result, "fresh");
      }
    });
  }
});

describe("POST /v1/codemode/execute, streamed (islet's demo source: a plain server)", () => {
  let server: TestServer;
  before(async () => {
    server = await testServer();
  });
  after(async () => {
    await server.close();
  });

  for (const format of ["ndjson", "sse"] as const) {
    test(`${format}: each console line arrives as it is logged, a second before the answer the snippet sleeps for`, async () => {
      const response = await fetch(server.url + "/v1/codemode/execute", {
        method: "POST",
        headers: { "content-type": "application/json", accept: format === "ndjson" ? "application/x-ndjson" : "text/event-stream" },
        body: JSON.stringify({
          code: `async () => {
            const { conditions } = await demo.weather({ city: "Oslo" });
            console.log("Oslo", conditions);
            await scheduler.wait(1500);
            console.warn("done");
            return conditions;
          }`,
        }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), format === "ndjson" ? "application/x-ndjson" : "text/event-stream");
      const seen: { message: any; at: number }[] = [];
      for await (const message of messages(response, format)) seen.push({ message, at: performance.now() });
      assert.deepEqual(
        seen.map(({ message: m }) => [m.type, m.level, m.message]),
        [
          ["log", "log", ["Oslo snow"]],
          ["log", "warn", ["[warn] done"]],
          ["result", undefined, undefined],
        ],
      );
      // Not all at once at the end: the first line came while the snippet still slept.
      assert.ok(seen[2].at - seen[0].at >= 1000, `the first line came ${Math.round(seen[2].at - seen[0].at)} ms before the answer`);
      const answer = seen[2].message;
      assert.equal(answer.result, "snow");
      assert.equal(answer.outcome, "ok");
      assert.deepEqual(answer.logs, ["Oslo snow", "[warn] done"], "the answer is the plain form's, logs included");
      assert.ok(typeof seen[0].message.timestamp === "number");
    });
  }

  test("an invalid streamed request is refused as the plain form refuses it (400, JSON)", async () => {
    const response = await fetch(server.url + "/v1/codemode/execute", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify({ code: "async () => 1", limits: {} }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /limits: unknown field/);
  });

  test("closing the request cancels the run: its in-flight slot is freed long before the snippet's 25 s sleep ends", async () => {
    const health = async () => (await fetch(server.url + "/healthz")).json() as Promise<{ inFlight: number }>;
    const controller = new AbortController();
    const response = await fetch(server.url + "/v1/codemode/execute", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify({ code: `async () => { console.log("waiting"); await scheduler.wait(25_000); console.log("never"); return 1; }` }),
      signal: controller.signal,
    });
    const reader = messages(response, "ndjson");
    const first = await reader.next();
    assert.deepEqual([first.value.type, first.value.message], ["log", ["waiting"]]);
    assert.equal((await health()).inFlight, 1);
    const aborted = performance.now();
    controller.abort();
    await until(async () => (await health()).inFlight === 0, 5_000, "the run to end");
    assert.ok(performance.now() - aborted < 5_000);
    // The slot is free for the next run, which answers at once.
    const again = await server.post("/v1/codemode/execute", { code: "async () => 2" });
    assert.equal(again.json.result, 2);
  });
});
