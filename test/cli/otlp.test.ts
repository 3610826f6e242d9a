// OTLP export from `islet serve`: with OpenTelemetry's environment variables set, a real `islet
// serve` process sends its spans to a real OTLP/HTTP collector on loopback (a plain HTTP server
// here, reading the JSON the exporter posts), the last ones when it stops.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { otlpEndpoint } from "../../src/cli/otlp.ts";
import { freePort, stopChild, waitFor } from "../server/processes.ts";

const main = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function attribute(span: OtlpSpan, key: string): unknown {
  const found = span.attributes.find((entry) => entry.key === key);
  return found === undefined ? undefined : Object.values(found.value)[0];
}

async function body(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
}

function withoutIsletSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("ISLET_") && !name.startsWith("OTEL_")));
}

test("otlpEndpoint: the traces endpoint wins, the base endpoint gets /v1/traces, OTEL_SDK_DISABLED turns it off", () => {
  assert.equal(otlpEndpoint({}), undefined);
  assert.equal(otlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }), "http://c:4318/v1/traces");
  assert.equal(otlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x" }), "http://t/x");
  assert.equal(otlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" }), undefined);
});

test("islet serve exports an invocation's spans to the OTLP collector the environment names, with the service name and the collector's headers", async () => {
  const received: { url: string; headers: IncomingMessage["headers"]; payload: any }[] = [];
  const collector = createServer(async (request, response) => {
    received.push({ url: request.url ?? "", headers: request.headers, payload: JSON.parse(await body(request)) });
    response.setHeader("content-type", "application/json");
    response.end("{}");
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const port = await freePort();
  let output = "";
  const child = spawn(process.execPath, [main, "serve", "--port", String(port), "--quiet"], {
    env: {
      ...withoutIsletSettings(process.env),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=secret-1",
      OTEL_SERVICE_NAME: "islet-otlp-test",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor("islet serve", async () => (await fetch(`${base}/healthz`)).ok, child, () => output);
    assert.match(output, /exporting traces to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
    const run = await fetch(`${base}/v1/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: `import { WorkerEntrypoint } from "cloudflare:workers"; export default class extends WorkerEntrypoint { greet(name) { return "Hello, " + name; } }`, method: "greet", args: ["otlp"] }),
    });
    assert.deepEqual(((await run.json()) as { result: unknown }).result, "Hello, otlp");
    await stopChild(child);
    assert.equal(child.exitCode, 0, output);
  } finally {
    await stopChild(child, "SIGKILL");
    collector.close();
  }
  assert.ok(received.length >= 1, `the collector got nothing:\n${output}`);
  assert.ok(received.every((entry) => entry.url === "/v1/traces" && entry.headers["x-collector-key"] === "secret-1"));
  const resourceSpans = received.flatMap((entry) => entry.payload.resourceSpans as any[]);
  const serviceNames = resourceSpans.map((entry) => entry.resource.attributes.find((a: any) => a.key === "service.name")?.value.stringValue);
  assert.ok(serviceNames.every((name) => name === "islet-otlp-test"), String(serviceNames));
  const spans: OtlpSpan[] = resourceSpans.flatMap((entry) => entry.scopeSpans.flatMap((scope: any) => scope.spans));
  const invocation = spans.find((span) => span.name === "islet.invocation" && attribute(span, "islet.method") === "greet");
  assert.ok(invocation, `no invocation span in ${JSON.stringify(spans.map((span) => span.name))}`);
  assert.equal(attribute(invocation, "islet.outcome"), "ok");
  assert.equal(typeof attribute(invocation, "islet.cpu_ms"), "number");
  // Never an argument's value.
  assert.ok(!JSON.stringify(resourceSpans).includes("otlp\""), "the argument is not in the spans");
});
