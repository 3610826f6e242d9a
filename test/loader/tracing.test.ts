// OpenTelemetry: with an SDK registered, an invocation is a span, and its capability calls and
// fetches are child spans that egress policies annotate with what they decided. A minimal
// in-memory tracer provider and an AsyncLocalStorage context manager stand in for an SDK here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { context, ROOT_CONTEXT, trace, type Attributes, type Context, type ContextManager, type Span, type SpanContext, type SpanOptions, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { WorkerLoader } from "islet";
import { allowHosts, injectCredentials, outbound } from "islet/outbound";

interface Recorded {
  name: string;
  attributes: Attributes;
  spanId: string;
  parentId?: string;
  status?: string;
  ended: boolean;
}

const recorded: Recorded[] = [];
let nextId = 1;

class RecordingSpan implements Span {
  readonly record: Recorded;
  private readonly ids: SpanContext;
  constructor(name: string, options: SpanOptions | undefined, parent: Span | undefined) {
    this.ids = { traceId: "1".repeat(32), spanId: String(nextId++).padStart(16, "0"), traceFlags: 1 };
    this.record = { name, attributes: { ...(options?.attributes ?? {}) }, spanId: this.ids.spanId, parentId: parent?.spanContext().spanId, ended: false };
    recorded.push(this.record);
  }
  spanContext(): SpanContext { return this.ids; }
  setAttribute(key: string, value: never): this { this.record.attributes[key] = value; return this; }
  setAttributes(attributes: Attributes): this { Object.assign(this.record.attributes, attributes); return this; }
  addEvent(): this { return this; }
  addLink(): this { return this; }
  addLinks(): this { return this; }
  setStatus(status: { code: number; message?: string }): this { this.record.status = `${status.code}:${status.message ?? ""}`; return this; }
  updateName(name: string): this { this.record.name = name; return this; }
  end(): void { this.record.ended = true; }
  isRecording(): boolean { return true; }
  recordException(): void {}
}

class RecordingTracer implements Tracer {
  startSpan(name: string, options?: SpanOptions, parentContext?: Context): Span {
    return new RecordingSpan(name, options, trace.getSpan(parentContext ?? context.active()));
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.at(-1) as F;
    const span = this.startSpan(name, typeof args[0] === "object" ? (args[0] as SpanOptions) : undefined);
    return context.with(trace.setSpan(context.active(), span), () => fn(span)) as ReturnType<F>;
  }
}

const provider: TracerProvider = { getTracer: () => new RecordingTracer() };

const storage = new AsyncLocalStorage<Context>();
const manager: ContextManager = {
  active: () => storage.getStore() ?? ROOT_CONTEXT,
  with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
  bind: (_ctx, target) => target,
  enable() { return this; },
  disable() { return this; },
};

test("an invocation is a span; its capability calls and fetches are its children, with what the policies decided", async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(manager);
  const upstream = createServer((req, res) => res.end(`auth=${req.headers.authorization ? "yes" : "no"}`));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const loader = new WorkerLoader();
  try {
    const worker = loader.load({
      compatibilityDate: "2026-11-01",
      mainModule: "w.js",
      modules: {
        "w.js": `export default { async run(lookup) {
          const n = await lookup("x");
          const ok = await (await fetch("http://${host}/data")).text();
          let refused = "";
          try { await fetch("http://blocked.example/"); } catch (e) { refused = e.message; }
          return [n, ok, refused];
        } };`,
      },
      globalOutbound: outbound(allowHosts([host]), injectCredentials({ [host]: { headers: { authorization: "Bearer secret-token" } } }), fetch),
    });
    const result = (await (worker.getEntrypoint() as unknown as { run(f: (s: string) => number): Promise<unknown[]> }).run((s: string) => s.length)) as unknown[];
    assert.deepEqual(result.slice(0, 2), [1, "auth=yes"]);
    const invocation = recorded.find((span) => span.name === "islet.invocation")!;
    assert.deepEqual(invocation.attributes, { "islet.entrypoint": "default", "islet.method": "run", "islet.outcome": "ok", "islet.cpu_ms": invocation.attributes["islet.cpu_ms"], "islet.wall_ms": invocation.attributes["islet.wall_ms"] });
    assert.equal(invocation.ended, true);
    const children = recorded.filter((span) => span.parentId === invocation.spanId);
    assert.deepEqual(children.map((span) => span.name), ["islet.capability", "islet.fetch", "islet.fetch"]);
    const [, allowed, refused] = children;
    assert.deepEqual(allowed.attributes, { "http.request.method": "GET", "server.address": host, "islet.outbound.allowed_by": "allowHosts", "islet.outbound.credentials_injected": true, "http.response.status_code": 200 });
    assert.equal(refused.attributes["islet.outbound.refused_by"], "allowHosts");
    assert.match(refused.status ?? "", /^2:/, "an error status");
    assert.ok(!JSON.stringify(recorded).includes("secret-token"), "no credential in any span");
  } finally {
    await loader.close();
    upstream.close();
    trace.disable();
    context.disable();
  }
});
