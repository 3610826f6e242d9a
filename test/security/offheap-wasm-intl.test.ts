// Memory outside the V8 heap that WebAssembly modules, JSPI and Intl string copies once held
// without any charge (findings3 01, 02, 05): a 16 MB sandbox held ~420 MiB in 100 compiled
// modules, ~812 MiB in 100 Segments objects over one string, ~820 MiB in suspended JSPI stacks.
// Each attack checks the sandbox's RangeError (or the API's absence) and the memory of the host
// process and its children (a shard in process mode) around the attack.

import { describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { ISOLATION, isolationOptions, securitySuite } from "./harness.ts";

const modes = [[ISOLATION, isolationOptions(ISOLATION)]] as const;

function rssMiB(pid: number | string): number {
  const match = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : 0;
}
/** RSS of this process and its children (the shards of thread mode are threads of this one). */
function hostMiB(): number {
  let children: string[] = [];
  try {
    children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children file
  }
  return children.reduce((sum, pid) => {
    try {
      return sum + rssMiB(pid);
    } catch {
      return sum;
    }
  }, rssMiB(process.pid));
}
/** What a 16 MB sandbox may add: heap, off-heap budget, Intl state and slack for the runtime. */
const GROWTH_MiB = 150;

for (const [isolation, shards] of modes) {
  describe(`isolation: "${isolation}"`, () => {
    const { attack, call, load } = securitySuite({ isolation, ...shards, limits: { cpuMs: 5_000, wallMs: 30_000 } });

    attack(`WebAssembly modules are charged their bytes: 100 distinct 4 MiB modules in a 16 MB sandbox are a RangeError naming memoryMb, and the host does not grow by hundreds of MiB`, async () => {
      const worker = load(
        `const keep = [];
        function mod(size, tag) {
          const b = new Uint8Array(size);
          b.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]);
          let v = size - 14, p = 9;
          for (let i = 0; i < 5; i++) { b[p++] = (v & 0x7f) | (i < 4 ? 0x80 : 0); v >>>= 7; }
          b[p++] = 1; b[p++] = 0x78;
          for (let i = p; i < size; i += 4096) b[i] = (tag * 7 + i) & 255;
          return b;
        }
        export default {
          async run(n, size, how) {
            let err = null;
            try {
              for (let i = 0; i < n; i++) {
                const bytes = mod(size, keep.length);
                keep.push(how === "compile" ? await WebAssembly.compile(bytes) : how === "instantiate" ? (await WebAssembly.instantiate(bytes)).module : new WebAssembly.Module(bytes));
              }
            } catch (e) { err = e.name + ": " + e.message; }
            return { held: keep.length, err };
          },
        };`,
        { limits: { memoryMb: 16, cpuMs: 20_000, wallMs: 30_000 } },
      );
      const entry = worker.getEntrypoint() as any;
      await entry.run(1, 1024, "module");
      const before = hostMiB();
      const results = [await entry.run(100, 4 * 1024 * 1024, "module"), await entry.run(100, 4 * 1024 * 1024, "compile"), await entry.run(100, 4 * 1024 * 1024, "instantiate")];
      const grew = hostMiB() - before;
      for (const result of results) {
        assert.match(result.err ?? "", /^RangeError: WebAssembly\.Module\(\): a module of 4194304 bytes .* over the sandbox's limit: .*memoryMb/, JSON.stringify(result));
      }
      assert.ok(results[2].held <= 4, `${results[2].held} modules held`);
      assert.ok(grew < GROWTH_MiB, `the host grew by ${grew.toFixed(0)} MiB`);
    });

    attack(`WebAssembly modules are counted: 2,000 tiny distinct modules in a 64 MB sandbox stop at the 1,000-object cap (or the budget) with a RangeError`, async () => {
      const result = await call(
        `const keep = [];
        export default { run() {
          try {
            for (let i = 0; i < 2000; i++) keep.push(new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 3, 1, 0x78, i & 127])));
            return [keep.length, "no error"];
          } catch (e) { return [keep.length, e.name, e.message]; }
        } };`,
        "run",
        [],
        { limits: { memoryMb: 64, cpuMs: 5_000 } },
      );
      const [count, name, message] = result;
      assert.equal(name, "RangeError", JSON.stringify(result));
      assert.ok(count <= 1_000, `${count} modules were allowed`);
      assert.match(message, /WebAssembly/);
    });

    attack(`JSPI is not in the sandbox: WebAssembly.Suspending, promising and SuspendError are absent, so no suspended stack can be made`, async () => {
      const worker = load(
        `// (module (import "m" "s" (func)) (func (export "run") (param i32) (local i64 x100)
        //   (if (local.get 0) (then (call 1 (i32.sub (local.get 0) (i32.const 1)))) (else (call 0)))))
        const bytes = new Uint8Array([0,0x61,0x73,0x6d,1,0,0,0, 1,8,2,0x60,0,0,0x60,1,0x7f,0, 2,7,1,1,0x6d,1,0x73,0,0, 3,2,1,1, 7,7,1,3,0x72,0x75,0x6e,0,1,
          10,0x15,1,0x13, 1,0x64,0x7e, 0x20,0,0x04,0x40,0x20,0,0x41,1,0x6b,0x10,1,0x05,0x10,0,0x0b,0x0b]);
        const resolvers = [], pending = [];
        export default {
          surface() { return ["Suspending", "promising", "SuspendError"].map((k) => k in WebAssembly); },
          async start(n, depth) {
            try {
              const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { s: new WebAssembly.Suspending(() => new Promise((r) => resolvers.push(r))) } });
              const run = WebAssembly.promising(inst.exports.run);
              for (let i = 0; i < n; i++) { const p = run(depth); p.catch(() => {}); pending.push(p); await null; }
              return { suspended: resolvers.length };
            } catch (e) { return { suspended: resolvers.length, err: e.name }; }
          },
          plain() {
            const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { s: () => {} } });
            inst.exports.run(100);
            return "ran";
          },
        };`,
        { limits: { memoryMb: 16, cpuMs: 20_000, wallMs: 30_000 } },
      );
      const entry = worker.getEntrypoint() as any;
      assert.deepEqual(await entry.surface(), [false, false, false]);
      const before = hostMiB();
      assert.deepEqual(await entry.start(1_000, 1_000), { suspended: 0, err: "TypeError" });
      const grew = hostMiB() - before;
      assert.ok(grew < GROWTH_MiB, `the host grew by ${grew.toFixed(0)} MiB`);
      // The same module runs synchronously with an ordinary import.
      assert.equal(await entry.plain(), "ran");
    });

    attack(`Intl.Segmenter's segment() and its iterators are charged the string they copy: 100 over one 4 Mi-char string in a 16 MB sandbox are a RangeError, and the host does not grow by hundreds of MiB`, async () => {
      // Two sandboxes: the first one's charges last until V8 collects its Segments objects.
      const source = `const keep = [];
        export default { run(n, len, kind) {
          const seg = new Intl.Segmenter("en"); const s = "a".repeat(len); let err = null;
          const segments = kind === "iterator" ? seg.segment(s.slice(0, len / 4)) : undefined;
          try { for (let i = 0; i < n; i++) keep.push(kind === "iterator" ? segments[Symbol.iterator]() : seg.segment(s)); } catch (e) { err = e.name + ": " + e.message; }
          return { held: keep.length, err };
        } };`;
      const limits = { memoryMb: 16, cpuMs: 20_000, wallMs: 30_000 };
      const first = load(source, { limits }).getEntrypoint() as any;
      const second = load(source, { limits }).getEntrypoint() as any;
      // One short string each first (its copy is under the free 4 KiB); at most two 8 MiB copies fit.
      await first.run(1, 10, "segment");
      await second.run(1, 10, "segment");
      const before = hostMiB();
      const segments = await first.run(100, 4 * 1024 * 1024, "segment");
      const iterators = await second.run(200, 4 * 1024 * 1024, "iterator");
      const grew = hostMiB() - before;
      assert.match(segments.err ?? "", /^RangeError: Intl\.Segmenter\.prototype\.segment: a copy of 8388608 bytes outside the heap is over the sandbox's limit .*memoryMb/, JSON.stringify(segments));
      assert.ok(segments.held <= 3, `${segments.held} Segments held`);
      assert.match(iterators.err ?? "", /^RangeError: Intl\.Segments\.prototype\[Symbol\.iterator\]: a copy of 2097152 bytes/, JSON.stringify(iterators));
      assert.ok(iterators.held <= 9, `${iterators.held} iterators held`);
      assert.ok(grew < GROWTH_MiB, `the host grew by ${grew.toFixed(0)} MiB`);
    });

    attack(`findings8/05: Date's toLocale*String with locales or options formats through counted, cached formatters: 2,000 rounds of three calls in each of two 16 MB sandboxes do not grow the host (522 MiB before), distinct options meet the Intl cap, and results are Node's`, async () => {
      // V8 makes an ICU DateTimeFormat (~45 KB off the heap with this calendar and zone) per such
      // call and frees it only at a collection: two sandboxes of this loop grew the host by 522 MiB before.
      const source = `export default {
        repeat(n) {
          const d = new Date(0);
          const options = { dateStyle: "full", timeStyle: "full", timeZone: "Asia/Tokyo" };
          let last;
          for (let i = 0; i < n; i++) last = [d.toLocaleString("ja-u-ca-japanese", options), d.toLocaleDateString(["ja-u-ca-japanese"], { timeZone: "Asia/Tokyo" }), d.toLocaleTimeString("zh-u-ca-chinese")];
          return last;
        },
        distinct() {
          const zones = Intl.supportedValuesOf("timeZone");
          let n = 0;
          try { for (const timeZone of zones) { new Date(0).toLocaleString("ja-u-ca-japanese", { timeZone, dateStyle: "full" }); n++; } return [zones.length, n]; }
          catch (e) { return [zones.length, n, e.name + ": " + e.message]; }
        },
      };`;
      const limits = { memoryMb: 16, cpuMs: 20_000, wallMs: 30_000 };
      const first = load(source, { limits }).getEntrypoint() as any;
      const second = load(source, { limits }).getEntrypoint() as any;
      await first.repeat(1);
      await second.repeat(1);
      const before = hostMiB();
      const [a, b] = await Promise.all([first.repeat(2_000), second.repeat(2_000)]);
      const grew = hostMiB() - before;
      const d = new Date(0);
      assert.deepEqual(a, [d.toLocaleString("ja-u-ca-japanese", { dateStyle: "full", timeStyle: "full", timeZone: "Asia/Tokyo" }), d.toLocaleDateString(["ja-u-ca-japanese"], { timeZone: "Asia/Tokyo" }), d.toLocaleTimeString("zh-u-ca-chinese")]);
      assert.deepEqual(b, a);
      assert.ok(grew < 60, `the host grew by ${grew.toFixed(0)} MiB`);
      const [zones, made, error] = await first.distinct();
      assert.ok(zones > 256, `${zones} time zones`);
      assert.ok(made <= 256, `${made} formatters were made in a 16 MB sandbox`);
      assert.match(error ?? "", /^RangeError: Date\.prototype\.toLocaleString: Intl objects over the sandbox's limit/);
    });

    attack(`findings8/05: Date's toLocale*String in the sandbox format as in Node, defaults, errors and receivers included`, async () => {
      const cases: [string, unknown, unknown][] = [
        ["toLocaleString", undefined, undefined],
        ["toLocaleString", "en-US", undefined],
        ["toLocaleString", ["de-DE"], { timeZone: "UTC" }],
        ["toLocaleString", "en", { weekday: "long", timeZone: "UTC" }],
        ["toLocaleString", "en", { hour12: false, timeZone: "UTC" }],
        ["toLocaleString", "en", { fractionalSecondDigits: 3, timeZone: "UTC" }],
        ["toLocaleString", ["zh-u-ca-chinese", "en"], { timeZone: "UTC" }],
        ["toLocaleString", "ja-u-ca-japanese", { dateStyle: "full", timeStyle: "full", timeZone: "Asia/Tokyo" }],
        ["toLocaleString", "en", 5],
        ["toLocaleString", "en", null],
        ["toLocaleString", "en", { timeZone: "Bogus/Zone" }],
        ["toLocaleDateString", "de", { hour: "numeric", timeZone: "UTC" }],
        ["toLocaleDateString", undefined, { timeZone: "UTC" }],
        ["toLocaleDateString", "en", { timeStyle: "short" }],
        ["toLocaleTimeString", "fr", { year: "numeric", timeZone: "UTC" }],
        ["toLocaleTimeString", "en", { dateStyle: "short" }],
        ["toLocaleTimeString", "en", { timeZone: "America/New_York", timeZoneName: "longGeneric" }],
      ];
      const run = (cases: [string, unknown, unknown][]) => {
        const d = new Date(Date.UTC(2024, 1, 29, 13, 5, 7, 123));
        const out: unknown[] = cases.map(([method, locales, options]) => {
          try {
            return (d as any)[method](locales, options);
          } catch (e) {
            return (e as Error).name;
          }
        });
        out.push(new Date(NaN).toLocaleString("en", { timeZone: "UTC" }));
        out.push([1.5, d].toLocaleString("de", { timeZone: "UTC" }));
        try {
          Date.prototype.toLocaleString.call({});
        } catch (e) {
          out.push((e as Error).name);
        }
        out.push([typeof (Date.prototype.toLocaleString as any).prototype, Date.prototype.toLocaleDateString.length, Date.prototype.toLocaleTimeString.name]);
        return out;
      };
      const result = await call(`export default { run(cases) { return (${run.toString()})(cases); } };`, "run", [cases], { limits: { memoryMb: 16 } });
      assert.deepEqual(result, run(cases));
    });

    attack(`Intl: v8BreakIterator is gone, and language tags over 1,024 characters are RangeErrors however they are passed`, async () => {
      const result = await call(
        `export default { run() {
          const out = {};
          out.breakIterator = [typeof Intl.v8BreakIterator, "v8BreakIterator" in Intl];
          const tag = "en-x-" + Array.from({ length: 120000 }, (_, i) => "a" + String(i).padStart(7, "0")).join("-");
          const tries = {
            locale: () => new Intl.Locale(tag),
            localeObject: () => new Intl.Locale({ toString: () => tag }),
            dateTimeFormat: () => new Intl.DateTimeFormat(tag),
            list: () => new Intl.DateTimeFormat(["en", tag]),
            listObject: () => new Intl.NumberFormat([{ toString: () => tag }]),
            arrayLike: () => new Intl.Collator({ length: 1, 0: tag }),
            canonical: () => Intl.getCanonicalLocales([tag]),
            supported: () => Intl.Segmenter.supportedLocalesOf(tag),
            tooMany: () => new Intl.PluralRules(new Array(1000).fill("en")),
          };
          for (const [k, f] of Object.entries(tries)) { try { f(); out[k] = "made"; } catch (e) { out[k] = e.name; } }
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16, cpuMs: 3_000 } },
      );
      assert.deepEqual(result.breakIterator, ["undefined", false]);
      for (const [k, v] of Object.entries(result)) if (k !== "breakIterator") assert.equal(v, "RangeError", `${k}: ${v}`);
    });

    attack(`ordinary WebAssembly and Intl still work within the charges`, async () => {
      const result = await call(
        `export default { async run() {
          const out = {};
          // (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
          const add = new Uint8Array([0,0x61,0x73,0x6d,1,0,0,0, 1,7,1,0x60,2,0x7f,0x7f,1,0x7f, 3,2,1,0, 7,7,1,3,0x61,0x64,0x64,0,0, 10,9,1,7,0,0x20,0,0x20,1,0x6a,0x0b]);
          out.module = new WebAssembly.Instance(new WebAssembly.Module(add)).exports.add(2, 3);
          out.compile = new WebAssembly.Instance(await WebAssembly.compile(add)).exports.add(4, 5);
          out.instantiate = (await WebAssembly.instantiate(add)).instance.exports.add(6, 7);
          out.segments = [...new Intl.Segmenter("en", { granularity: "word" }).segment("hello there world")].map((s) => s.segment).join("|");
          const segments = new Intl.Segmenter("en").segment("abc");
          out.containing = segments.containing(1).segment;
          out.iterateTwice = [[...segments].length, [...segments].length];
          out.locale = [new Intl.Locale("en-US").language, new Intl.Locale(new Intl.Locale("de-AT")).region, new Intl.Locale("en").maximize().toString()];
          out.formats = [new Intl.DateTimeFormat(["en-US", "de"], { timeZone: "UTC" }).format(0), new Intl.NumberFormat(new Intl.Locale("de")).format(1.5), Intl.getCanonicalLocales(["EN-us"]).join(), Intl.Collator.supportedLocalesOf(["en", "fr"]).join()];
          // A memory without a maximum still instantiates after other modules and instances
          // (it is given what is left of the budget as its maximum, so it comes last here).
          // (module (memory (export "m") 1))
          const memory = new Uint8Array([0,0x61,0x73,0x6d,1,0,0,0, 5,3,1,0,1, 7,5,1,1,0x6d,2,0]);
          out.memory = new WebAssembly.Instance(new WebAssembly.Module(memory)).exports.m.buffer.byteLength;
          // Short strings still segment with the whole budget taken.
          out.afterMemory = [...new Intl.Segmenter("en").segment("a b")].length;
          return out;
        } };`,
        "run",
        [],
        { limits: { memoryMb: 16 } },
      );
      assert.deepEqual(result, {
        module: 5,
        compile: 9,
        instantiate: 13,
        segments: "hello| |there| |world",
        containing: "b",
        iterateTwice: [3, 3],
        locale: ["en", "AT", "en-Latn-US"],
        formats: ["1/1/1970", "1,5", "en-US", "en,fr"],
        memory: 65536,
        afterMemory: 3,
      });
    });
  });
}
