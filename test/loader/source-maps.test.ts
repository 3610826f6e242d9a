import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { compatibilityDate } from "../helpers.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

// Types, blank lines and an interface shift every line of the JavaScript esbuild emits.
const source = `interface Thing {
  a: number;
  b: string;
}

type Alias = Thing | null;

function explode(value: Alias): never {
  throw new Error("boom " + (value as Thing).a);
}

export default {
  stack(): string {
    try { explode({ a: 1, b: "x" }); } catch (e) { return (e as Error).stack!; }
    return "";
  },
  fail(): void { explode(null as unknown as Thing); },
};`;

test("stack traces of TypeScript modules point at the .ts lines, inside and outside the sandbox", async () => {
  const ep = loader.load({ compatibilityDate, mainModule: "worker.ts", modules: { "worker.ts": source } }).getEntrypoint();
  const inside = await ep.stack();
  assert.match(inside, /^Error: boom 1\n    at explode \(worker\.ts:9:9\)\n    at Object\.stack \(worker\.ts:14:11\)/);
  await assert.rejects(ep.fail(), (error: Error) => {
    assert.equal(error.name, "TypeError");
    assert.match(error.stack ?? "", /at explode \(worker\.ts:9:46\)\n    at Object\.fail \(worker\.ts:17:18\)/);
    return true;
  });
});

test("a worker's own Error.prepareStackTrace wins, and JavaScript modules are left alone", async () => {
  const ep = loader.load({
    compatibilityDate,
    mainModule: "worker.js",
    modules: {
      "worker.js": `import { helper } from "./helper.ts";\nexport default { run() { Error.prepareStackTrace = () => "custom"; return [new Error("x").stack, helper()]; } };`,
      "helper.ts": `\n\nexport function helper(): string {\n  return new Error("y").stack as string;\n}`,
    },
  }).getEntrypoint();
  assert.deepEqual(await ep.run(), ["custom", "custom"]);
  const plain = loader.load({ compatibilityDate, mainModule: "worker.js", modules: { "worker.js": `\nexport default { run() { return new Error("z").stack; } };` } }).getEntrypoint();
  assert.match(await plain.run(), /at Object\.run \(worker\.js:2:33\)/);
});
