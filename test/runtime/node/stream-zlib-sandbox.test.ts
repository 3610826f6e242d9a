// node:stream and node:zlib inside real sandboxes, in the isolation mode ISLET_ISOLATION names:
// the scenarios of stream-scenarios.ts give the same logs as Node's own modules; bytes compressed
// by Node decode in the sandbox and the sandbox's decode in Node; a decompression bomb ends with
// the sandbox's memory or CPU limit (an error of that worker), not a problem of the host.

import assert from "node:assert/strict";
import * as nodeStream from "node:stream";
import * as nodeStreamPromises from "node:stream/promises";
import * as nodeConsumers from "node:stream/consumers";
import * as nodeZlib from "node:zlib";
import { test } from "node:test";
import { WorkerLoader, type WorkerLoaderOptions } from "islet";
import { js } from "../../helpers.ts";
import { NODE_24_LOGS, NODE_MAJOR, STREAM_SCENARIOS } from "./stream-scenarios.ts";

const isolation = (process.env.ISLET_ISOLATION ?? "isolate") as NonNullable<WorkerLoaderOptions["isolation"]>;
const loader = new WorkerLoader({ isolation, ...(isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {}) });
test.after(() => loader.close());

const compat = { compatibilityFlags: ["nodejs_compat"] };
const IMPORTS = `import * as stream from "node:stream"; import * as zlib from "node:zlib"; import * as consumers from "node:stream/consumers";
  import * as streamPromises from "node:stream/promises"; import * as webStreams from "node:stream/web"; import { Buffer } from "node:buffer";`;

test(`${isolation}: every stream and zlib scenario logs what Node's own modules log`, async () => {
  const names = Object.keys(STREAM_SCENARIOS);
  const source = `${IMPORTS}
    const scenarios = { ${names.map((name, i) => `s${i}: async () => { ${STREAM_SCENARIOS[name]} }`).join(",\n")} };
    export default { async run() {
      const out = {};
      for (const [key, f] of Object.entries(scenarios)) { try { out[key] = JSON.parse(JSON.stringify(await f())); } catch (e) { out[key] = "threw " + e.name + ": " + e.message; } }
      return out;
    } };`;
  const sandbox = await (loader.load(js(source, { ...compat, limits: { cpuMs: 5_000, wallMs: 30_000 } })).getEntrypoint() as unknown as { run(): Promise<Record<string, unknown>> }).run();
  for (let i = 0; i < names.length; i++) {
    const f = new Function("stream", "zlib", "Buffer", "consumers", "streamPromises", "webStreams", `return (async () => { ${STREAM_SCENARIOS[names[i]]} })();`);
    const nodes = JSON.parse(JSON.stringify(await f(nodeStream, nodeZlib, Buffer, nodeConsumers, nodeStreamPromises, { ReadableStream, WritableStream })));
    // Node 26 changed a few scenarios' logs; islet follows Node 24 (stream-scenarios.ts).
    const expected = NODE_MAJOR >= 26 && NODE_24_LOGS[names[i]] !== undefined ? NODE_24_LOGS[names[i]] : nodes;
    assert.deepEqual(sandbox[`s${i}`], expected, names[i]);
  }
});

test(`${isolation}: Node inflates what the sandbox compressed, and the sandbox what Node compressed`, async () => {
  const input = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 31) % 97));
  const fromNode = { deflate: nodeZlib.deflateSync(input), raw: nodeZlib.deflateRawSync(input, { level: 9 }), gzip: nodeZlib.gzipSync(input, { level: 1 }) };
  const source = `import zlib from "node:zlib"; export default { run(input, fromNode) {
    const b = (x) => new Uint8Array(x);
    return {
      decoded: [zlib.inflateSync(fromNode.deflate), zlib.inflateRawSync(fromNode.raw), zlib.gunzipSync(fromNode.gzip), zlib.unzipSync(fromNode.gzip)].map((x) => zlib.crc32(x)),
      made: { deflate: b(zlib.deflateSync(input)), raw: b(zlib.deflateRawSync(input, { level: 9 })), gzip: b(zlib.gzipSync(input, { level: 1 })) },
    };
  } };`;
  const result = await (loader.load(js(source, compat)).getEntrypoint() as unknown as { run(a: Uint8Array, b: unknown): Promise<{ decoded: number[]; made: Record<string, Uint8Array> }> }).run(input, fromNode);
  const crc = nodeZlib.crc32(input);
  assert.deepEqual(result.decoded, [crc, crc, crc, crc]);
  assert.ok(nodeZlib.inflateSync(result.made.deflate).equals(input));
  assert.ok(nodeZlib.inflateRawSync(result.made.raw).equals(input));
  assert.ok(nodeZlib.gunzipSync(result.made.gzip).equals(input));
});

test(`${isolation}: a decompression bomb ends with the sandbox's limit, not a host problem; maxOutputLength is a RangeError`, async () => {
  // 512 MiB of zeros in about 500 KiB of gzip.
  const bomb = nodeZlib.gzipSync(Buffer.alloc(512 * 1024 * 1024), { level: 9 });
  const source = `import zlib from "node:zlib"; export default {
    sync(bomb) { try { return zlib.gunzipSync(bomb).length; } catch (e) { return ["caught", e.name, e.message]; } },
    capped(bomb) { try { return zlib.gunzipSync(bomb, { maxOutputLength: 1 << 20 }).length; } catch (e) { return [e.name, e.code]; } },
    streamed(bomb) { return new Promise((resolve) => { let n = 0; const g = zlib.createGunzip(); g.on("data", (c) => { n += c.length; }); g.on("end", () => resolve(n)); g.on("error", (e) => resolve(["error", e.message])); g.end(bomb); }); },
  };`;
  const memory = loader.load(js(source, { ...compat, limits: { memoryMb: 64, cpuMs: 10_000 } })).getEntrypoint() as unknown as Record<string, (bomb: Uint8Array) => Promise<unknown>>;
  const outcome = await memory.sync(bomb).then(
    (value) => ({ value }),
    (error: Error) => ({ error: `${error.name}: ${error.message}` }),
  );
  // Either the sandbox's allocation failed inside it (a RangeError it caught) or the worker was ended for its memory limit.
  if ("value" in outcome) assert.deepEqual((outcome.value as unknown[]).slice(0, 2), ["caught", "RangeError"], JSON.stringify(outcome));
  else assert.match(outcome.error, /memory/i);
  const fresh = loader.load(js(source, { ...compat, limits: { memoryMb: 64, cpuMs: 10_000 } })).getEntrypoint() as unknown as Record<string, (bomb: Uint8Array) => Promise<unknown>>;
  assert.deepEqual(await fresh.capped(bomb), ["RangeError", "ERR_BUFFER_TOO_LARGE"]);
  // Streamed, the output is consumed as it comes: only CPU bounds it, and cpuMs ends it.
  const cpu = loader.load(js(source, { ...compat, limits: { memoryMb: 128, cpuMs: 50 } })).getEntrypoint() as unknown as Record<string, (bomb: Uint8Array) => Promise<unknown>>;
  await assert.rejects(cpu.streamed(bomb), (error: Error) => /cpu|time/i.test(`${error.name} ${error.message}`));
  // The host is fine: the same loader still runs workers.
  const after = loader.load(js(`import zlib from "node:zlib"; export default { run() { return zlib.gunzipSync(zlib.gzipSync("ok")).toString(); } };`, compat)).getEntrypoint() as unknown as { run(): Promise<string> };
  assert.equal(await after.run(), "ok");
});
