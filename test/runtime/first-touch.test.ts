// WebAssembly and Intl are confined when a sandbox first touches them, not when it starts. Code
// that ran before that touch (prototype pollution, replaced intrinsics) must not weaken the
// confinement: the WebAssembly memory budget and the frozen Intl clock hold all the same.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const loader = new WorkerLoader({ limits: { memoryMb: 32 } });
test.after(() => loader.close());

const POLLUTE = `
  Object.defineProperty(Object.prototype, "get", { __proto__: null, value: function () { return "polluted"; }, configurable: true });
  Object.defineProperty(Object.prototype, "writable", { __proto__: null, value: true, configurable: true });
  WeakMap.prototype.get = function () { return () => "leaked"; };
  WeakMap.prototype.set = function () { return this; };
  Reflect.apply = function () { return "leaked"; };
  Reflect.construct = function () { return {}; };
  Object.defineProperty = function (o) { return o; };
`;
const UNPOLLUTE = `delete Object.prototype.get; delete Object.prototype.writable;`;

const run = (body: string) => (loader.load(js(`export default { run() { ${body} } };`)).getEntrypoint() as any).run();

test("WebAssembly polluted around before its first touch still counts memory against memoryMb", async () => {
  const result = await run(`${POLLUTE}
    const out = [typeof Object.getOwnPropertyDescriptor(globalThis, "WebAssembly").get];
    const wasm = WebAssembly;
    ${UNPOLLUTE}
    out.push(wasm === WebAssembly);
    for (const pages of [65536, 600]) {
      try { new WebAssembly.Memory({ initial: pages }); out.push("allowed"); } catch (e) { out.push(e.name); }
    }
    try { new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }); out.push("shared"); } catch (e) { out.push(e.name); }
    out.push(new WebAssembly.Memory({ initial: 1 }).buffer.byteLength);
    return out;`);
  assert.deepEqual(result, ["function", true, "RangeError", "RangeError", "TypeError", 65536]);
});

test("a WebAssembly global replaced before its first touch is simply the replacement", async () => {
  const result = await run(`globalThis.WebAssembly = 1; return [WebAssembly, Object.getOwnPropertyDescriptor(globalThis, "WebAssembly").writable];`);
  assert.deepEqual(result, [1, true]);
});

test("Intl touched first after pollution still formats the frozen clock, and is the same object every time", async () => {
  const result = await run(`${POLLUTE}
    const intl = Intl;
    ${UNPOLLUTE}
    const f = new Intl.DateTimeFormat("en", { minute: "numeric", second: "numeric", fractionalSecondDigits: 3 });
    const first = f.format();
    let spins = 0;
    for (let i = 0; i < 1e7; i++) spins += i;
    return [intl === Intl, first, f.format(), f.format(Date.now()), JSON.stringify(f.formatToParts()) === JSON.stringify(f.formatToParts(Date.now())), f.format === f.format, spins > 0];`);
  assert.equal(result[0], true);
  assert.equal(result[2], result[1], "format() advanced during computation");
  assert.equal(result[3], result[1], "format() without a date is the frozen now");
  assert.deepEqual(result.slice(4), [true, true, true]);
});
