// Memory and address space outside the V8 heap, in every isolation mode: resizable ArrayBuffers
// (V8 reserves their whole maxByteLength up front and commits their pages outside isolated-vm's
// allocator) and Intl objects (ICU state off the heap). Each attack here once held far more than
// memoryMb or exhausted the process's address space (findings 09, 10, 11).

import { describe } from "node:test";
import assert from "node:assert/strict";
import { RpcTarget } from "islet";
import { ISOLATION, isolationOptions, securitySuite } from "./harness.ts";

const modes = [[ISOLATION, isolationOptions(ISOLATION)]] as const;
const MiB = 1024 * 1024;

for (const [isolation, shards] of modes) {
  describe(`isolation: "${isolation}"`, () => {
    const { attack, call } = securitySuite({ isolation, ...shards, limits: { cpuMs: 5_000 } });

    // findings5/08: a resizable buffer keeps its maxByteLength through a clone, and one handed back
    // by the host was never charged in the sandbox: 64 buffers of 16 MiB from a 16 MB sandbox.
    attack(`a resizable ArrayBuffer (or a view over one) handed back by the host (a KV RpcTarget, an echo function, in env) arrives as a fixed-length copy of its bytes`, async () => {
      class Kv extends RpcTarget {
        #values = new Map<string, unknown>();
        put(key: string, value: unknown) {
          this.#values.set(key, value);
        }
        get(key: string) {
          return this.#values.get(key);
        }
      }
      const hostBuffer = new ArrayBuffer(4, { maxByteLength: 16 * MiB });
      const result = await call(
        `import { env } from "cloudflare:workers";
        export default { async run() {
          const out = [];
          await env.kv.put("k", new ArrayBuffer(3, { maxByteLength: 16 << 20 }));
          await env.kv.put("v", new Uint8Array(new ArrayBuffer(2, { maxByteLength: 16 << 20 })));
          for (const value of [await env.kv.get("k"), (await env.kv.get("v")).buffer, await env.echo(new ArrayBuffer(1, { maxByteLength: 16 << 20 })), env.given, env.view.buffer]) {
            try { value.resize(16 << 20); out.push("resized " + value.byteLength); } catch (e) { out.push([value.resizable, value.byteLength, e.name]); }
          }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 }, env: { kv: new Kv(), echo: (value: unknown) => value, given: hostBuffer, view: new Uint16Array(hostBuffer) } },
      );
      assert.deepEqual(result, [[false, 3, "TypeError"], [false, 2, "TypeError"], [false, 1, "TypeError"], [false, 4, "TypeError"], [false, 4, "TypeError"]]);
    });

    attack(`address space: resizable ArrayBuffers are charged their maxByteLength and counted; past memoryMb or the count a named RangeError, and neighbours still get buffers`, async () => {
      const result = await call(
        `const keep = [];
        export default { run() {
          const out = {};
          for (const sh of [40, 32, 26]) { try { keep.push(new ArrayBuffer(0, { maxByteLength: 2 ** sh })); out[sh] = "made"; } catch (e) { out[sh] = e.name + ": " + e.message; } }
          let n = 0;
          try { for (let i = 0; i < 5000; i++) { keep.push(new ArrayBuffer(0, { maxByteLength: 2 ** 24 })); n++; } out.count = [n, "no error"]; }
          catch (e) { out.count = [n, e.name, e.message]; }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 32, cpuMs: 3_000 } },
      );
      for (const sh of [40, 32, 26]) assert.match(result[sh], /^RangeError: ArrayBuffer maxByteLength of \d+ bytes is over the sandbox's memory limit/, `2^${sh}`);
      const [count, name, message] = result.count;
      assert.equal(name, "RangeError", JSON.stringify(result.count));
      assert.ok(count <= 1_000, `${count} resizable buffers of 16 MiB were allowed`);
      assert.match(message, /address space/);
      // A neighbour still gets a resizable buffer, and a WebAssembly memory.
      assert.deepEqual(
        await call(`export default { run() { const b = new ArrayBuffer(0, { maxByteLength: 1 << 20 }); b.resize(1024); return [b.byteLength, new WebAssembly.Memory({ initial: 1, maximum: 1 }).buffer.byteLength]; } };`, "run"),
        [1024, 65536],
      );
    });

    attack(`no route to the original ArrayBuffer: prototype.constructor, a subclass, Reflect.construct with another new.target, a typed array's buffer all reach the charged constructor`, async () => {
      const result = await call(
        `export default { run() {
          const big = { maxByteLength: 2 ** 40 };
          const tries = {
            protoConstructor: () => new (Object.getPrototypeOf(new ArrayBuffer(1)).constructor)(0, big),
            viewBufferConstructor: () => new (new Uint8Array(4).buffer.constructor)(0, big),
            subclass: () => { class S extends ArrayBuffer {} return new S(0, big); },
            reflectConstruct: () => Reflect.construct(ArrayBuffer, [0, big], class extends Uint8Array {}),
            proxyNewTarget: () => Reflect.construct(ArrayBuffer, [0, big], new Proxy(function () {}, {})),
            getterOption: () => new ArrayBuffer(0, { get maxByteLength() { return 2 ** 40; } }),
            valueOfOption: () => new ArrayBuffer(0, { maxByteLength: { valueOf() { return 2 ** 40; } } }),
            species: () => { const b = new ArrayBuffer(8); b.constructor = { [Symbol.species]: function (n) { return new ArrayBuffer(n, big); } }; return b.slice(0); },
            wasmBufferConstructor: () => new (new WebAssembly.Memory({ initial: 0, maximum: 0 }).buffer.constructor)(0, big),
          };
          const out = {};
          for (const [k, f] of Object.entries(tries)) { try { const b = f(); out[k] = "made " + b.maxByteLength; } catch (e) { out[k] = e.name; } }
          out.same = Object.getPrototypeOf(new ArrayBuffer(1)).constructor === ArrayBuffer && ArrayBuffer.prototype.resize.name === "resize";
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 } },
      );
      for (const [k, v] of Object.entries(result)) if (k !== "same") assert.equal(v, "RangeError", `${k}: ${v}`);
      assert.equal(result.same, true);
    });

    attack(`resize() growth is charged against memoryMb: 5 x 100 MiB in a 16 MB sandbox is a RangeError at the first, and growth past the budget too`, async () => {
      const result = await call(
        `const keep = [];
        export default { run() {
          const out = [];
          for (let j = 0; j < 5; j++) {
            const b = new ArrayBuffer(0, { maxByteLength: 2 ** 24 });
            try { b.resize(100 * 1024 * 1024); keep.push(b); out.push(b.byteLength); }
            catch (e) { out.push(e.name); }
            try { b.resize(8 * 1024 * 1024); new Uint8Array(b).fill(7); keep.push(b); out.push(b.byteLength); }
            catch (e) { out.push(e.name + ": " + e.message); break; }
          }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 } },
      );
      // 100 MiB is past the buffer's own maximum (V8's RangeError); two buffers of 8 MiB fill the
      // 16 MiB budget and the third one's growth is refused by name.
      assert.deepEqual(result.slice(0, 4), ["RangeError", 8 * MiB, "RangeError", 8 * MiB]);
      assert.equal(result[4], "RangeError");
      assert.match(result[5], /^RangeError: ArrayBuffer.prototype.resize: resizable ArrayBuffer memory over the sandbox's limit/);
      assert.equal(result.length, 6);
    });

    attack(`transfer(), transferToFixedLength() and structuredClone of resizable buffers are charged (the charge moves with transfer), and ordinary use still works`, async () => {
      const result = await call(
        `export default { run() {
          const out = {};
          const MiB = 1024 * 1024;
          const a = new ArrayBuffer(4, { maxByteLength: 16 * MiB });
          new Uint8Array(a).set([1, 2, 3, 4]);
          a.resize(2); a.resize(6);
          out.ordinary = [a.byteLength, a.maxByteLength, a.resizable, [...new Uint8Array(a)].join()];
          const t = a.transfer();
          out.transfer = [a.detached, t.resizable, t.maxByteLength, t.byteLength, [...new Uint8Array(t)].join()];
          const grown = t.transfer(12 * MiB);
          out.grown = grown.byteLength;
          try { new ArrayBuffer(5 * MiB, { maxByteLength: 5 * MiB }); out.afterGrowth = "made"; } catch (e) { out.afterGrowth = e.name; }
          const fixed = grown.transferToFixedLength(3);
          out.fixed = [fixed.resizable, fixed.byteLength, [...new Uint8Array(fixed)].join()];
          const c = new ArrayBuffer(6 * MiB, { maxByteLength: 8 * MiB });
          const clone = structuredClone(c);
          out.clone = [clone.resizable, clone.maxByteLength, clone.byteLength];
          try { structuredClone(c); out.secondClone = "made"; } catch (e) { out.secondClone = e.name + ": " + e.message; }
          const moved = structuredClone(c, { transfer: [c] });
          out.moved = [c.detached, moved.resizable, moved.byteLength];
          try { structuredClone(moved); out.afterMove = "made"; } catch (e) { out.afterMove = e.name; }
          const view = new Uint8Array(new ArrayBuffer(0, { maxByteLength: 1024 }));
          view.buffer.resize(10);
          out.tracking = view.length;
          out.fixedLength = [new ArrayBuffer(16).byteLength, new ArrayBuffer(16).slice(4).byteLength, new ArrayBuffer(8, { maxByteLength: 16 }).slice(2).resizable];
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 } },
      );
      assert.deepEqual(result.ordinary, [6, 16 * MiB, true, "1,2,0,0,0,0"]);
      assert.deepEqual(result.transfer, [true, true, 16 * MiB, 6, "1,2,0,0,0,0"]);
      assert.equal(result.grown, 12 * MiB);
      assert.equal(result.afterGrowth, "RangeError", "transfer(12 MiB) was charged: 5 MiB more does not fit in 16");
      assert.deepEqual(result.fixed, [false, 3, "1,2,0"]);
      assert.deepEqual(result.clone, [true, 8 * MiB, 6 * MiB]);
      assert.match(result.secondClone, /^RangeError: new ArrayBuffer: resizable ArrayBuffer memory over the sandbox's limit/);
      assert.deepEqual(result.moved, [true, true, 6 * MiB]);
      assert.equal(result.afterMove, "RangeError", "the transferred buffer kept its charge");
      assert.equal(result.tracking, 10);
      assert.deepEqual(result.fixedLength, [16, 12, false]);
    });

    attack(`Intl objects are counted: 12,000 DateTimeFormats in a 16 MB sandbox are a RangeError at 256; ordinary Intl use still works`, async () => {
      const result = await call(
        `const keep = [];
        export default { run() {
          const out = {};
          const D = Intl.DateTimeFormat;
          const locale = new Intl.Locale("en");
          out.maximized = locale.maximize().toString();
          out.ordinary = [new D("en", { timeZone: "UTC" }).format(0), D("en", { timeZone: "UTC" }).format(0), new Intl.NumberFormat("de").format(1.5), typeof D.supportedLocalesOf,
            Object.getPrototypeOf(new D("en")).constructor === D, (() => { class L extends Intl.Locale {} return new L("en-US").language; })(),
            [...new Intl.Segmenter("en", { granularity: "word" }).segment("hi there")].length, new Date(0).toLocaleString("en", { timeZone: "UTC" })];
          try { for (let i = 0; i < 12000; i++) keep.push(new Intl.DateTimeFormat("en", { timeZone: i % 2 ? "America/New_York" : "Asia/Tokyo", dateStyle: "full" })); out.dtf = [keep.length, "no error"]; }
          catch (e) { out.dtf = [keep.length, e.name, e.message]; }
          try { new Intl.Segmenter("en").segment("a b"); out.segment = "made"; } catch (e) { out.segment = e.name; }
          try { out.maximize = locale.maximize().toString(); } catch (e) { out.maximize = e.name; }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 } },
      );
      assert.deepEqual(result.ordinary, ["1/1/1970", "1/1/1970", "1,5", "function", true, "en", 3, "1/1/1970, 12:00:00 AM"]);
      const [count, name, message] = result.dtf;
      assert.equal(name, "RangeError", JSON.stringify(result.dtf));
      assert.ok(count <= 256, `${count} DateTimeFormats were allowed in a 16 MB sandbox`);
      assert.match(message, /Intl objects over the sandbox's limit/);
      assert.equal(result.segment, "RangeError");
      assert.equal(result.maximized, "en-Latn-US");
      assert.equal(result.maximize, "RangeError");
      assert.equal(await call(`export default { run() { return new Intl.DateTimeFormat("en", { timeZone: "UTC" }).format(0); } };`, "run"), "1/1/1970");
    });

    // Last: the sandboxes it makes keep their buffers for the rest of the file.
    attack(`address space is counted per process: nine sandboxes of 1,000 resizable buffers get 8,192 in all (one shard), the last a RangeError`, async () => {
      const source = `const keep = []; export default { run() { let n = 0; try { for (let i = 0; i < 1000; i++) { keep.push(new ArrayBuffer(0, { maxByteLength: 65536 })); n++; } return [n]; } catch (e) { return [n, e.name]; } } };`;
      const counts: [number, string?][] = [];
      for (let i = 0; i < 9; i++) counts.push(await call(source, "run", [], { limits: { memoryMb: 16 } }));
      const total = counts.reduce((sum, [n]) => sum + n, 0);
      assert.ok(total <= 8_192, `${total} resizable buffers in one process`);
      assert.equal(counts[8][1], "RangeError", JSON.stringify(counts));
    });
  });
}
