// Today's Worker Loader API (issue 18), in every isolation mode: top-level logs in the first
// invocation's trace event, dynamic import() of the worker's own modules, compatibility flags and
// dates checked, env bounded in size, WebAssembly module values.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CpuLimitError, WorkerCodeError, WorkerLoader, type TailEvent, type WorkerCode, type WorkerLoaderOptions } from "islet";
import { addWasm, compatibilityDate, sleep } from "../helpers.ts";

const modes: [string, WorkerLoaderOptions][] = [
  ["isolate", {}],
  ["thread", { isolation: "thread", threads: 1 }],
  ["process", { isolation: "process", processes: 1 }],
];

const ok = (extra: Partial<WorkerCode> = {}): WorkerCode => ({ compatibilityDate, mainModule: "w.js", modules: { "w.js": `export default { ok() { return "ok"; } };` }, ...extra });

/** The date `days` after today where it is latest on Earth (UTC+14). */
function dayFromToday(days: number): string {
  return new Date(Date.now() + 14 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

async function eventsFor(events: TailEvent[], method: string, count = 1): Promise<TailEvent[]> {
  for (let i = 0; i < 200 && events.filter((e) => e.method === method).length < count; i++) await sleep(10);
  return events.filter((e) => e.method === method);
}

for (const [mode, options] of modes) {
  describe(`[${mode}] Worker Loader API`, () => {
    const events: TailEvent[] = [];
    const loader = new WorkerLoader({ ...options, limits: { cpuMs: 2000, wallMs: 10_000 }, tails: [(batch) => void events.push(...batch)] });
    after(() => loader.close());

    test("top-level console output reaches the first invocation's trace event, before its own logs; later ones do not repeat it", async () => {
      const worker = loader.get(`top-logs-${mode}`, () => ({
        compatibilityDate,
        mainModule: "main.js",
        modules: {
          "main.js": `import "./helper.js"; console.log("main top", 1); export default { run(n) { console.info("in run", n); return n; } };`,
          "helper.js": `console.warn("helper top");`,
        },
      }));
      const ep = worker.getEntrypoint() as any;
      assert.equal(await ep.run(1), 1);
      assert.equal(await ep.run(2), 2);
      const runs = await eventsFor(events, "run", 2);
      assert.equal(runs.length, 2);
      const [first, second] = runs.sort((a, b) => a.eventTimestamp - b.eventTimestamp);
      assert.deepEqual(first.logs.map((l) => [l.level, ...l.message]), [["warn", "helper top"], ["log", "main top", 1], ["info", "in run", 1]]);
      assert.equal(first.outcome, "ok");
      assert.equal(first.startup, undefined);
      assert.deepEqual(second.logs.map((l) => [l.level, ...l.message]), [["info", "in run", 2]]);
    });

    test("a fetch() the top level awaits is in the first invocation's audit log with the logs after it", async () => {
      const worker = loader.load({
        compatibilityDate,
        mainModule: "main.js",
        globalOutbound: () => new Response("config!"),
        modules: { "main.js": `const config = await (await fetch("https://config.example/c")).text(); console.log("loaded", config); export default { first() { return config; } };` },
      });
      assert.equal(await (worker.getEntrypoint() as any).first(), "config!");
      const [event] = await eventsFor(events, "first");
      assert.deepEqual(event.fetches.map((f) => [f.method, f.url, f.status]), [["GET", "https://config.example/c", 200]]);
      assert.deepEqual(event.logs.map((l) => l.message), [["loaded", "config!"]]);
    });

    test("compatibilityFlags: an unknown, repeated, contradictory or turned-off flag is a WorkerCodeError; experimental ones need allowExperimental", async () => {
      const refused = async (code: WorkerCode, message: RegExp) => {
        await assert.rejects((loader.load(code).getEntrypoint() as any).ok(), (e: Error) => e instanceof WorkerCodeError && message.test(e.message), String(message));
      };
      await refused(ok({ compatibilityFlags: ["no_such_flag_xyz"] }), /^No such compatibility flag: "no_such_flag_xyz"\. islet knows nodejs_compat, /);
      await refused(ok({ compatibilityFlags: ["nodejs_compat", "nodejs_compat"] }), /^Compatibility flag specified multiple times: nodejs_compat$/);
      await refused(ok({ compatibilityFlags: ["nodejs_compat", "no_nodejs_compat"] }), /^Compatibility flags are mutually contradictory: nodejs_compat vs no_nodejs_compat$/);
      await refused(ok({ compatibilityFlags: ["url_original"] }), /^The compatibility flag url_original is not supported: islet always behaves as "url_standard" says\.$/);
      await refused(ok({ compatibilityFlags: ["experimental"] }), /^The compatibility flag experimental is experimental .* set allowExperimental: true/);
      await refused(ok({ compatibilityFlags: ["experimental"], allowExperimental: "yes" as never }), /^allowExperimental must be a boolean\.$/);
      assert.equal(await (loader.load(ok({ compatibilityFlags: ["experimental"], allowExperimental: true })).getEntrypoint() as any).ok(), "ok");
      assert.equal(await (loader.load(ok({ compatibilityFlags: ["no_nodejs_compat"], allowExperimental: false })).getEntrypoint() as any).ok(), "ok");
    });

    test("compatibilityDate: a date later than today is refused, as is one that is not a calendar date; today is accepted", async () => {
      const refused = async (date: string, message: RegExp) => {
        await assert.rejects((loader.load(ok({ compatibilityDate: date })).getEntrypoint() as any).ok(), (e: Error) => e instanceof WorkerCodeError && message.test(e.message), date);
      };
      await refused("2099-01-01", /^This worker requires compatibility date "2099-01-01", which is later than today \(\d{4}-\d{2}-\d{2}\)/);
      await refused(dayFromToday(1), /later than today/);
      await refused("2026-02-30", /^Invalid compatibility date: 2026-02-30 is not a calendar date\.$/);
      await refused("2026-13-01", /not a calendar date/);
      assert.equal(await (loader.load(ok({ compatibilityDate: dayFromToday(0) })).getEntrypoint() as any).ok(), "ok");
      assert.equal(await (loader.load(ok({ compatibilityDate: "2024-02-29" })).getEntrypoint() as any).ok(), "ok");
    });

    test("every accepted flag's behaviour is islet's: streams, TransformStream, BYOB detach, URL, navigator, getSetCookie, FormData files, CommonJS default", async () => {
      const flags = ["formdata_parser_supports_files", "streams_byob_reader_detaches_buffer", "global_navigator", "url_standard", "export_commonjs_default", "streams_enable_constructors", "transformstream_enable_standard_constructor", "http_headers_getsetcookie", "nodejs_compat", "nodejs_compat_v2"];
      const worker = loader.load({
        compatibilityDate,
        compatibilityFlags: flags,
        mainModule: "w.js",
        modules: {
          "w.js": `import cjs from "./c.cjs"; import { Buffer } from "node:buffer";
            export default { async run() {
              const out = {};
              out.streams = await new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("ab")); c.close(); } })).text();
              const t = new TransformStream({ transform(chunk, c) { c.enqueue(chunk * 2); } });
              const w = t.writable.getWriter(); w.write(21); w.close();
              out.transform = (await t.readable.getReader().read()).value;
              const byob = new ReadableStream({ type: "bytes", pull(c) { c.byobRequest.view[0] = 7; c.byobRequest.respond(1); } }).getReader({ mode: "byob" });
              const view = new Uint8Array(4); const read = await byob.read(view);
              out.byob = [view.buffer.byteLength, read.value[0]];
              out.url = new URL("https://例え.jp/a b/../c?x=1#y").href;
              out.navigator = typeof navigator.userAgent;
              out.cookies = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"]]).getSetCookie();
              const body = "--b\\r\\ncontent-disposition: form-data; name=\\"f\\"; filename=\\"x.txt\\"\\r\\ncontent-type: text/plain\\r\\n\\r\\nhi\\r\\n--b--\\r\\n";
              const file = (await new Response(body, { headers: { "content-type": "multipart/form-data; boundary=b" } }).formData()).get("f");
              out.formData = [file instanceof File, file.name, await file.text()];
              out.cjs = cjs;
              out.node = Buffer.from("hi").toString("base64");
              return out;
            } };`,
          "c.cjs": `module.exports = { answer: 42 };`,
        },
      });
      assert.deepEqual(await (worker.getEntrypoint() as any).run(), {
        streams: "ab",
        transform: 42,
        byob: [0, 7],
        url: "https://xn--r8jz45g.jp/c?x=1#y",
        navigator: "string",
        cookies: ["a=1", "b=2"],
        formData: [true, "x.txt", "hi"],
        cjs: { answer: 42 },
        node: "aGk=",
      });
    });

    test("env is bounded: a copy over 1 MiB (Cloudflare's bound) is a WorkerCodeError; maxEnvBytes moves the bound", async () => {
      const call = (l: WorkerLoader, env: Record<string, unknown>) => (l.load(ok({ env })).getEntrypoint() as any).ok();
      const tooLarge = (size: string, max: number) => (e: Error) => e instanceof WorkerCodeError && new RegExp(`^env is too large: its copy is ${size} bytes, more than the ${max} bytes this loader allows`).test(e.message);
      const capability = () => 1;
      assert.equal(await call(loader, { text: "a".repeat(1024 * 1024 - 100), capability }), "ok");
      await assert.rejects(call(loader, { text: "a".repeat(1024 * 1024 + 100) }), tooLarge("\\d+", 1024 * 1024));
      // A character outside Latin-1 takes two bytes in the copy, as in V8's serialization.
      assert.equal(await call(loader, { text: "a".repeat(600_000) }), "ok");
      await assert.rejects(call(loader, { text: "€".repeat(600_000) }), tooLarge("12000\\d\\d", 1024 * 1024));
      await assert.rejects(call(loader, { many: Array.from({ length: 20 }, () => new Uint8Array(64 * 1024)) }), tooLarge("\\d+", 1024 * 1024));
      // A view carries its whole buffer into the sandbox: a 1-byte view over 8 MiB weighs 8 MiB (findings14/05).
      const big = new Uint8Array(8 * 1024 * 1024);
      await assert.rejects(call(loader, { views: [big.subarray(0, 1), big.subarray(1, 2)] }), tooLarge("83886\\d\\d", 1024 * 1024));
      assert.equal(await call(loader, { view: new Uint8Array(new ArrayBuffer(1000), 10, 10) }), "ok");
      const small = new WorkerLoader({ ...options, maxEnvBytes: 1000 });
      const large = new WorkerLoader({ ...options, maxEnvBytes: 4 * 1024 * 1024 });
      try {
        await assert.rejects(call(small, { text: "a".repeat(2000) }), tooLarge("20\\d\\d", 1000));
        assert.equal(await call(small, { text: "a".repeat(900) }), "ok");
        assert.equal(await call(large, { text: "a".repeat(2 * 1024 * 1024) }), "ok");
      } finally {
        await Promise.all([small.close(), large.close()]);
      }
      assert.throws(() => new WorkerLoader({ ...options, maxEnvBytes: 0 }), /^TypeError: WorkerLoader: maxEnvBytes: must be a positive integer, got 0$/);
    });

    test("a compiled WebAssembly.Module, bare or as { wasm }, is refused with a WorkerCodeError saying to pass its bytes; { wasm: bytes } runs under any name", async () => {
      const compiled = new WebAssembly.Module(addWasm);
      const main = `import m from "./add.wasm"; export default { ok() { return new WebAssembly.Instance(m).exports.add(2, 3); } };`;
      for (const value of [compiled, { wasm: compiled }]) {
        await assert.rejects(
          (loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": main, "add.wasm": value as never } }).getEntrypoint() as any).ok(),
          (e: Error) => e instanceof WorkerCodeError && (e as WorkerCodeError).module === "add.wasm" && /^Module "add\.wasm": a compiled WebAssembly\.Module cannot be copied into a sandbox: .* Pass the bytes it was compiled from: \{ wasm: bytes \}\.$/.test(e.message),
        );
      }
      assert.equal(await (loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": main, "add.wasm": { wasm: addWasm } } }).getEntrypoint() as any).ok(), 5);
      const other = main.replace("./add.wasm", "./add.bin");
      assert.equal(await (loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": other, "add.bin": { wasm: addWasm.buffer } } }).getEntrypoint() as any).ok(), 5);
    });

    test("import() of the worker's own modules: the same instances as static imports, modules outside the static graph linked once, TypeScript, CommonJS, JSON, text, eval", async () => {
      const worker = loader.load({
        compatibilityDate,
        mainModule: "main.js",
        modules: {
          "main.js": `import * as shared from "./shared.js"; import * as cf from "cloudflare:workers";
            export default { async own() {
              const out = {};
              out.same = (await import("./shared.js")) === shared && (await import("./sub/../shared.js")) === shared;
              const [a, b] = await Promise.all([import("./lazy.js"), import("./lazy.js")]);
              out.lazy = [a === b, a.value, a.shared === shared, globalThis.lazyRuns];
              out.again = (await import("./lazy.js")) === a && globalThis.lazyRuns === 1;
              out.fromSub = (await import("./sub/deep.js")).viaParent === shared;
              out.ts = (await import("./typed.js")).double(21);
              const c = await import("./c.cjs");
              out.cjs = [c.default.answer, c.answer];
              out.json = (await import("./d.json")).default;
              out.text = (await import("./t.txt")).default;
              out.evaluated = (await eval('import("./shared.js")')) === shared && (await new Function('return import("./shared.js")')()) === shared;
              out.workers = (await import("cloudflare:workers")) === cf;
              out.wasm = new WebAssembly.Instance((await import("./add.wasm")).default).exports.add(2, 3);
              out.data = (await import("./b.bin")).default.byteLength;
              out.fromCommonJs = await (await import("./lazy.cjs")).default();
              return out;
            } };`,
          "shared.js": `export const tag = "shared";`,
          "lazy.js": `import * as shared from "./shared.js"; globalThis.lazyRuns = (globalThis.lazyRuns ?? 0) + 1; console.log("lazy top level"); export const value = 7; export { shared };`,
          "sub/deep.js": `export const viaParent = await import("../shared.js");`,
          "typed.ts": `export const double = (n: number): number => n * 2;`,
          "c.cjs": `exports.answer = 42;`,
          "d.json": `{ "k": [1, 2] }`,
          "t.txt": `plain text`,
          "add.wasm": { wasm: addWasm },
          "b.bin": { data: new Uint8Array(5) },
          "lazy.cjs": `module.exports = async () => (await import("./shared.js")).tag;`,
        },
      });
      assert.deepEqual(await (worker.getEntrypoint() as any).own(), {
        same: true,
        lazy: [true, 7, true, 1],
        again: true,
        fromSub: true,
        ts: 42,
        cjs: [42, 42],
        json: { k: [1, 2] },
        text: "plain text",
        evaluated: true,
        workers: true,
        wasm: 5,
        data: 5,
        fromCommonJs: "shared",
      });
      const [event] = await eventsFor(events, "own");
      assert.ok(event.logs.some((l) => l.message[0] === "lazy top level"), "a lazily imported module's top-level log is in the invocation's event");
    });

    test("import() of anything else is refused with an Error naming the specifier and no host detail: bare names, URLs, paths out of the module set, Node built-ins without nodejs_compat, islet's internals, another worker's modules", async () => {
      loader.load({ compatibilityDate, mainModule: "secret.js", modules: { "secret.js": `export const secret = "other worker";` } });
      const worker = loader.load({
        compatibilityDate,
        mainModule: "w.js",
        modules: {
          "w.js": `import "./c.cjs"; export default { async run(specifiers) {
            const out = [];
            for (const s of specifiers) {
              try { const m = await import(s); out.push([s, "imported", Object.keys(m)]); } catch (e) { out.push([s, e.name, e.message, String(e.stack)]); }
            }
            return out;
          } };`,
          "sub/x.js": "export const x = 1;",
          "c.cjs": "module.exports = 1;",
        },
      });
      const specifiers = ["nope", "secret.js", "./secret.js", "./missing.js", "../escape.js", "./sub/../../w.js", "/etc/passwd", "file:///etc/passwd", "https://example.com/x.js", "data:text/javascript,export default 1", "node:fs", "fs", "islet:runtime", "islet:require:c.cjs", "islet:import:c.cjs"];
      const results = (await (worker.getEntrypoint() as any).run(specifiers)) as unknown[][];
      assert.equal(results.length, specifiers.length);
      for (const [specifier, name, message, stack] of results as string[][]) {
        assert.equal(name, "Error", `${specifier}: ${name} ${message}`);
        assert.ok(message.startsWith(`No such module "${specifier}" imported from w.js: `), `${specifier}: ${message}`);
        assert.ok(!/\/work\/|node_modules|file:\/\/\/(?!etc)|\.ts:\d/.test(stack), `${specifier}: host detail in the stack: ${stack}`);
      }
      assert.match(results[0][2] as string, /only relative imports of the worker's own modules/);
      assert.match(results[10][2] as string, /need the "nodejs_compat" compatibility flag/);
      assert.match(results[12][2] as string, /internal to islet/);
      const node = loader.load({ compatibilityDate, compatibilityFlags: ["nodejs_compat"], mainModule: "n.js", modules: { "n.js": `import { Buffer } from "node:buffer"; export default { async run() { const m = await import("node:buffer"); const e = await import("events"); return [m.Buffer === Buffer, typeof e.EventEmitter, await import("node:test").catch((e) => e.message)]; } };` } });
      // node:test is a Node module workerd does not serve either (every one it serves imports).
      const [same, emitter, unserved] = await (node.getEntrypoint() as any).run();
      assert.deepEqual([same, emitter], [true, "function"]);
      assert.match(unserved, /^No such module "node:test" imported from n\.js: .*not available in the sandbox/);
    });

    test("import() failures: a syntax error, a missing export and a top-level throw reach the importer; the worker goes on", async () => {
      const worker = loader.load({
        compatibilityDate,
        mainModule: "w.js",
        modules: {
          "w.js": `export default { async run(s) { try { await import(s); return "imported"; } catch (e) { return e.name + ": " + e.message; } } };`,
          "broken.js": "export const = 1;",
          "missing-export.js": `import { nope } from "./w.js"; export { nope };`,
          "throws.js": `throw new RangeError("top-level boom");`,
          "fine.js": `export default 1;`,
        },
      });
      const ep = worker.getEntrypoint() as any;
      assert.match(await ep.run("./broken.js"), /^SyntaxError: .* \[broken\.js\]$/);
      assert.match(await ep.run("./missing-export.js"), /^SyntaxError: .*nope/);
      assert.equal(await ep.run("./throws.js"), "RangeError: top-level boom");
      assert.equal(await ep.run("./throws.js"), "RangeError: top-level boom");
      assert.equal(await ep.run("./fine.js"), "imported");
    });

    test("top-level await import() at start; code an answer resumes after the call returned still runs under the call's limits", async () => {
      const started = loader.load({ compatibilityDate, mainModule: "w.js", modules: { "w.js": `const { config } = await import("./config.js"); export default { run() { return config; } };`, "config.js": `export const config = { ready: true };` } });
      assert.deepEqual(await (started.getEntrypoint() as any).run(), { ready: true });
      const limited = new WorkerLoader({ ...options, limits: { cpuMs: 200, wallMs: 5000 }, tails: [(batch) => void events.push(...batch)] });
      try {
        const worker = limited.get(`spinner-${mode}`, () => ({
          compatibilityDate,
          mainModule: "w.js",
          modules: {
            "w.js": `let count = 0; export default {
              leave() { import("./lazy.js").then(() => { for (;;) {} }); return "returned"; },
              count() { return ++count; },
            };`,
            "lazy.js": "export default 1;",
          },
        }));
        const ep = worker.getEntrypoint() as any;
        assert.equal(await ep.count(), 1);
        assert.equal(await ep.leave(), "returned");
        // The spin was ended under leave()'s watch: the next call meets a fresh worker, not a spinning isolate.
        const [left] = await eventsFor(events, "leave");
        assert.equal(left.outcome, "exceededCpu");
        assert.equal(await ep.count(), 1);
      } finally {
        await limited.close();
      }
    });
  });
}
