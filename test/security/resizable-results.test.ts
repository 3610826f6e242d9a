// Resizable ArrayBuffers a sandbox sends the host, by every route: each reached the host still
// resizable in isolate mode (and in tail events' logs in thread and process mode), keeping the
// sandbox's maxByteLength, and V8 reserves that much address space, with a memory mapping of its
// own, for each; nothing counted them. A host that kept about 30 results of 990 tiny ones died at
// the kernel's mapping limit (findings7a/10, 11). They now arrive as fixed-length copies.

import { describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { TailEvent } from "islet";
import { ISOLATION, isolationOptions, securitySuite } from "./harness.ts";
import { sleep } from "../helpers.ts";

/** Every ArrayBuffer in `value` (bare, or under a view), with where it was found. */
function buffers(value: unknown, path = "value", out: [string, ArrayBuffer, number[]][] = [], seen = new Set<unknown>()): [string, ArrayBuffer, number[]][] {
  if (value === null || typeof value !== "object" || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof ArrayBuffer) out.push([path, value, [...new Uint8Array(value)]]);
  else if (ArrayBuffer.isView(value)) out.push([path, value.buffer as ArrayBuffer, [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]]);
  else if (value instanceof Map) [...value].forEach(([k, v], i) => (buffers(k, `${path}.key${i}`, out, seen), buffers(v, `${path}.get${i}`, out, seen)));
  else if (value instanceof Set) [...value].forEach((v, i) => buffers(v, `${path}.item${i}`, out, seen));
  else if (value instanceof Error) buffers(value.cause, `${path}.cause`, out, seen);
  else for (const [key, v] of Object.entries(value)) buffers(v, `${path}.${key}`, out, seen);
  return out;
}

/** The buffers of `value`, as [path, resizable, maxByteLength === byteLength, bytes shown]. */
function shapes(value: unknown, path: string): [string, boolean, boolean, number[]][] {
  return buffers(value, path).map(([where, buffer, bytes]) => [where, buffer.resizable, buffer.maxByteLength === buffer.byteLength, bytes]);
}

// Buffers of every kind a value can hold them in: bare, a typed array that tracks its buffer's
// length, a DataView at an offset, Map keys and values, a Set, an error's cause. Each buffer is
// grown after its views are made: what crosses is the bytes it holds when it is sent.
const MAKE = `
  const rab = (...bytes) => { const b = new ArrayBuffer(bytes.length, { maxByteLength: 1 << 20 }); new Uint8Array(b).set(bytes); return b; };
  const value = () => {
    const tracked = rab(1, 2);
    const view = new Uint16Array(tracked);
    tracked.resize(4);
    const shared = rab(5, 6, 7, 8);
    return [rab(9), view, new DataView(shared, 1, 2), new Map([[rab(10), rab(11)]]), new Set([rab(12)]), new Error("e", { cause: rab(13) })];
  };`;

const EXPECTED = (path: string): [string, boolean, boolean, number[]][] => [
  [`${path}.0`, false, true, [9]],
  [`${path}.1`, false, true, [1, 2, 0, 0]],
  [`${path}.2`, false, true, [6, 7]],
  [`${path}.3.key0`, false, true, [10]],
  [`${path}.3.get0`, false, true, [11]],
  [`${path}.4.item0`, false, true, [12]],
  [`${path}.5.cause`, false, true, [13]],
];

/** Memory mappings of this process (Linux). */
function mappings(): number {
  return readFileSync("/proc/self/maps", "utf8").split("\n").length;
}

for (const [isolation, shards] of [[ISOLATION, isolationOptions(ISOLATION)]] as const) {
  describe(`isolation: "${isolation}"`, () => {
    const { attack, call, load } = securitySuite({ isolation, ...shards, limits: { cpuMs: 5_000, wallMs: 30_000, memoryMb: 16 } });

    attack(`resizable ArrayBuffers (and views over one) in a result, a host call's arguments, a log and an error's cause arrive as fixed-length copies of the bytes they hold`, async () => {
      const events: TailEvent[] = [];
      let argument: unknown;
      const result = await call(
        `${MAKE}
        import { env } from "cloudflare:workers";
        export default { async run() { await env.sink(value()); console.log(...value()); return value(); } };`,
        "run",
        [],
        { env: { sink: (value: unknown) => void (argument = value) }, tails: [(e: TailEvent[]) => void events.push(...e)] },
      );
      assert.deepEqual(shapes(result, "result"), EXPECTED("result"));
      assert.deepEqual(shapes(argument, "argument"), EXPECTED("argument"));
      assert.deepEqual(shapes(events[0]?.logs[0]?.message, "log"), EXPECTED("log"));
      // The types are kept: only the buffers under them changed.
      assert.ok(result[1] instanceof Uint16Array && result[2] instanceof DataView && result[5] instanceof Error, "views and the error keep their types");
    });

    attack(`a result that is itself a view over a resizable buffer, and a fetch response's body, arrive fixed-length`, async () => {
      const worker = load(`export default {
        view() { const b = new ArrayBuffer(2, { maxByteLength: 1 << 20 }); new Uint8Array(b).set([3, 4]); return new Uint8Array(b); },
        fetch(request) {
          const chunk = () => { const b = new ArrayBuffer(2, { maxByteLength: 1 << 20 }); new Uint8Array(b).set([5, 6]); return new Uint8Array(b); };
          if (request.url.endsWith("/stream")) return new Response(new ReadableStream({ start(c) { c.enqueue(chunk()); c.close(); } }));
          return new Response(chunk());
        },
      };`);
      const entry = worker.getEntrypoint() as any;
      assert.deepEqual(shapes(await entry.view(), "view"), [["view", false, true, [3, 4]]]);
      for (const url of ["https://w/", "https://w/stream"]) {
        const response = (await entry.fetch(new Request(url))) as Response;
        const { value } = await response.body!.getReader().read();
        assert.deepEqual(shapes(value, url), [[url, false, true, [5, 6]]]);
      }
    });

    // findings7a/11: 12 rounds of 990 tiny resizable buffers of 64 KiB maximum each, kept by the
    // host as results, as a host function's arguments and in tail events' logs, or relayed through
    // the host to another worker's entrypoint and back, once added about 24,000 mappings (the
    // kernel's limit is 65,530): now none stays behind.
    attack(`keeping many results, arguments and logs of resizable buffers, or relaying them between workers, does not grow the host's memory mappings`, async () => {
      if (!existsSync("/proc/self/maps")) return; // Linux only; what is counted is the kernel's mappings.
      const kept: unknown[] = [];
      const make = `const make = () => { const a = []; for (let i = 0; i < 990; i++) a.push(new ArrayBuffer(1, { maxByteLength: 65536 })); return a; };`;
      const source = `import { env } from "cloudflare:workers";
        ${make}
        export default {
          result() { return make(); },
          async argument() { await env.keep(make()); return 0; },
          log() { console.log(make()); return 0; },
          async relay() { const back = await env.other.echo(make()); return back.length; },
        };`;
      const other = `${make} export default { echo(value) { return value.length === 990 ? make() : []; } };`;
      const round = async (route: string) => {
        const relay = load(other);
        const worker = load(source, { env: { keep: (value: unknown) => void kept.push(value), other: relay.getEntrypoint() }, tails: [(e: TailEvent[]) => void kept.push(e)] });
        kept.push(await (worker.getEntrypoint() as any)[route]());
        worker.dispose();
        relay.dispose();
      };
      // One round first: what a worker itself costs the host (its isolate, code caches) is not counted.
      await round("relay");
      const before = mappings();
      const routes = ["result", "argument", "log", "relay"];
      for (let i = 0; i < 12; i++) await round(routes[i % routes.length]);
      // The last workers' own buffers go with their isolates, a moment after dispose().
      for (let i = 0; i < 100 && mappings() - before >= 1_000; i++) await sleep(20);
      const grown = mappings() - before;
      const resizable = buffers(kept, "kept").filter(([, buffer]) => buffer.resizable).length;
      assert.ok(grown < 1_000, `the host's mappings grew by ${grown} (12 rounds of 990 resizable buffers; ${resizable} kept resizable)`);
      assert.equal(resizable, 0, "no buffer the host keeps is resizable");
      assert.equal(kept.filter((value) => value === 990).length, 4, "the relayed buffers came back");
    });
  });
}
