import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader, type TailEvent } from "islet";
import { js, sleep } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

test("console.* is captured with level, parts and time", async () => {
  const events: TailEvent[] = [];
  await loader.load(js(`export default { run() {
    console.log("a", 1, { b: [2] }); console.info("i"); console.warn("w"); console.error("e"); console.debug("d");
    console.log("%s is %d", "x", 5); console.log(Symbol("s"), () => 1);
  } };`, { tails: [(e) => void events.push(...e)] })).getEntrypoint().run();
  const logs = events[0].logs;
  assert.deepEqual(logs.map((l) => l.level), ["log", "info", "warn", "error", "debug", "log", "log"]);
  assert.deepEqual(logs[0].message, ["a", 1, { b: [2] }]);
  assert.deepEqual(logs[5].message, ["%s is %d", "x", 5]);
  assert.deepEqual(logs[6].message, ["Symbol(s)", "[Function: (anonymous)]"]);
  assert.ok(logs.every((l) => typeof l.timestamp === "number"));
});

test("timers run inside the invocation; setInterval and clearTimeout work", async () => {
  const ep = loader.load(js(`export default { async run() {
    const order = [];
    const t = setTimeout(() => order.push("cleared"), 5); clearTimeout(t);
    await new Promise((r) => setTimeout(() => { order.push("timeout"); r(); }, 10));
    await new Promise((r) => { let n = 0; const i = setInterval(() => { order.push("tick" + ++n); if (n === 3) { clearInterval(i); r(); } }, 1); });
    queueMicrotask(() => order.push("micro"));
    await null;
    return order;
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), ["timeout", "tick1", "tick2", "tick3", "micro"]);
});

test("timers left pending when the invocation ends never fire", async () => {
  const fired: string[] = [];
  const stub = loader.get("late-timer", () => js(`export default { run() { setTimeout(() => globalThis.env_fired("late"), 20); return "returned"; } };
    export class Setup { constructor(ctx, env) { globalThis.env_fired = env.fired; } run() {} }`, { env: { fired: (s: string) => void fired.push(s) } }));
  await stub.getEntrypoint("Setup").run();
  assert.equal(await stub.getEntrypoint().run(), "returned");
  await sleep(80);
  assert.deepEqual(fired, []);
});

test("time stands still during computation and moves across I/O", async () => {
  const ep = loader.load(js(`export default { async run() {
    const a = Date.now(); const p0 = performance.now();
    let x = 0; for (let i = 0; i < 3e6; i++) x += i;
    const b = Date.now(); const p1 = performance.now(); const d = new Date().getTime();
    await new Promise((r) => setTimeout(r, 20));
    const c = Date.now();
    return { same: a === b && b === d && p0 === p1, moved: c - a >= 15, isDate: new Date() instanceof Date, str: typeof Date(), x: x > 0 };
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), { same: true, moved: true, isDate: true, str: "string", x: true });
});

test("no SharedArrayBuffer, no shared WebAssembly memory, no Node globals", async () => {
  const ep = loader.load(js(`export default { run() {
    let shared; try { new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }); shared = "created"; } catch (e) { shared = e.name; }
    return [typeof SharedArrayBuffer, shared, typeof process, typeof require, typeof Buffer, typeof globalThis.fetch, typeof self];
  } };`)).getEntrypoint();
  assert.deepEqual(await ep.run(), ["undefined", "TypeError", "undefined", "undefined", "undefined", "function", "object"]);
});

test("fetch honours globalOutbound: blocked by default, or answered by a function / fetcher", async () => {
  const code = js(`export default { async run() { try { const r = await fetch("https://example.com/a", { method: "POST", body: "q" }); return [r.status, await r.text(), r.headers.get("x")]; } catch (e) { return [e.name, e.message]; } } };`);
  const blocked = (await loader.load(code).getEntrypoint().run()) as string[];
  assert.equal(blocked[0], "TypeError");
  assert.match(blocked[1], /not permitted to access the internet.*capabilities/);
  const explicitNull = (await loader.load({ ...code, globalOutbound: null }).getEntrypoint().run()) as string[];
  assert.match(explicitNull[1], /not permitted/);
  const seen: string[] = [];
  const fn = async (req: Request) => (seen.push(`${req.method} ${req.url} ${await req.text()}`), new Response("from host", { status: 202, headers: { x: "y" } }));
  assert.deepEqual(await loader.load({ ...code, globalOutbound: fn }).getEntrypoint().run(), [202, "from host", "y"]);
  assert.deepEqual(await loader.load({ ...code, globalOutbound: { fetch: fn } }).getEntrypoint().run(), [202, "from host", "y"]);
  assert.deepEqual(seen, ["POST https://example.com/a q", "POST https://example.com/a q"]);
  const fromLoader = new WorkerLoader({ globalOutbound: () => new Response("loader default") });
  assert.deepEqual(await fromLoader.load(code).getEntrypoint().run(), [200, "loader default", null]);
  await fromLoader.close();
});
