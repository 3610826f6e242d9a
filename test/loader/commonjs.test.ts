// CommonJS modules with Node's semantics, in every isolation mode: require() calls found by a
// parser (esbuild), not a regular expression, so comments and strings are not calls; named
// exports for ES importers as Node's cjs-module-lexer finds them; require() runs a module on its
// first call, throws where it is called when the module is missing, and meets a cycle with the
// exports so far. Process and thread isolation get the parent's analysis (a child process may not
// start esbuild), so these run in all three modes.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WorkerCodeError, WorkerLoader, type WorkerCode } from "islet";
import { compatibilityDate } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = ["isolate", "thread", "process"];

for (const isolation of modes) {
  describe(`CommonJS, isolation: "${isolation}"`, () => {
    const loader = new WorkerLoader(isolation === "thread" ? { isolation, threads: 1 } : isolation === "process" ? { isolation, processes: 1 } : { isolation });
    after(() => loader.close());
    const run = (modules: WorkerCode["modules"], mainModule = "main.js", extra: Partial<WorkerCode> = {}) =>
      (loader.load({ compatibilityDate, mainModule, modules, ...extra }).getEntrypoint() as any).run();

    test('a require("fs") in a comment is not a require: the worker loads', async () => {
      const modules = {
        "main.js": `import m from "./m.cjs"; export default { run: () => m };`,
        "m.cjs": `// const fs = require("fs");\n/* require("child_process") */\nmodule.exports = "loaded";`,
      };
      assert.equal(await run(modules), "loaded");
    });

    test('a require("./nope.js") inside a string or template is not a require: the worker loads', async () => {
      const modules = {
        "main.js": `import m from "./m.cjs"; export default { run: () => m };`,
        "m.cjs": `module.exports = ['require("./nope.js")', \`require('./nope.js')\`, "x".replace(/require\\("y"\\)/, "")];`,
      };
      assert.deepEqual(await run(modules), [`require("./nope.js")`, `require('./nope.js')`, "x"]);
    });

    test('import { a } from "./m.cjs": named exports as Node finds them, module.exports as the default', async () => {
      const modules = {
        "main.js": `
          import { a, b, c, shout } from "./m.cjs";
          import whole, * as ns from "./m.cjs";
          import { d, e } from "./literal.cjs";
          import { shout as again } from "./reexport.cjs";
          export default { run: () => [a, b, c, shout("x"), whole.a, ns.default === whole, ns["module.exports"] === whole, d, e, again === shout] };`,
        "m.cjs": `exports.a = 1; module.exports.b = 2; const three = 3; Object.defineProperty(exports, "c", { enumerable: true, get: function () { return three; } }); exports.shout = (s) => s.toUpperCase();`,
        "literal.cjs": `const d = "d", f = "e"; module.exports = { d, e: f };`,
        "reexport.cjs": `module.exports = require("./m.cjs");`,
      };
      assert.deepEqual(await run(modules), [1, 2, 3, "X", 1, true, true, "d", "e", true]);
    });

    test("a name the lexer cannot see is a WorkerCodeError at load, as Node's is a SyntaxError", async () => {
      const modules = {
        "main.js": `import { hidden } from "./m.cjs"; export default { run: () => hidden };`,
        "m.cjs": `const key = "hid" + "den"; exports[key] = 1;`,
      };
      await assert.rejects(run(modules), (error: unknown) => error instanceof WorkerCodeError && /does not provide an export named 'hidden'/.test(error.message));
      // The default export still has it.
      assert.equal(await run({ ...modules, "main.js": `import m from "./m.cjs"; export default { run: () => m.hidden };` }), 1);
    });

    test("require() of a missing module throws where it is called, with Node's code, and can be caught", async () => {
      const modules = {
        "main.js": `import m from "./m.cjs"; export default { run: () => [m.optional, m.later()] };`,
        "m.cjs": `
          let optional = "absent";
          try { optional = require("./optional.js"); } catch (e) { if (e.code !== "MODULE_NOT_FOUND") throw e; }
          exports.optional = optional;
          exports.later = () => { try { require("./nope.js"); return "loaded?"; } catch (e) { return [e.code, e.message]; } };`,
      };
      const [optional, [code, message]] = await run(modules);
      assert.equal(optional, "absent");
      assert.equal(code, "MODULE_NOT_FOUND");
      assert.match(message, /^Cannot find module '\.\/nope\.js' required from m\.cjs: cannot resolve import "\.\/nope\.js": no module named "nope\.js"\.$/);
      // At the top level of the main module it is a start-up error with that message.
      await assert.rejects(run({ "m.cjs": `require("./nope.js"); exports.run = () => 1;` }, "m.cjs"), /Cannot find module '\.\/nope\.js' required from m\.cjs/);
    });

    test("require(x) of a specifier that is not a literal in the source fails at the call, saying why", async () => {
      const modules = {
        "main.js": `import m from "./m.cjs"; export default { run: () => [m.load("./x.cjs"), m.load("./y.cjs"), m.load(5), m.load(null)] };`,
        "m.cjs": `const x = require("./x.cjs"); exports.load = (name) => { try { return require(name); } catch (e) { return e.name + ": " + e.message; } };`,
        "x.cjs": `module.exports = "x";`,
        "y.cjs": `module.exports = "y";`,
      };
      const [x, y, five, nil] = await run(modules);
      assert.equal(x, "x", "a specifier that is also written as a literal resolves");
      assert.match(y, /^Error: Cannot find module '\.\/y\.cjs' required from m\.cjs: only the string literals written in require\("\.\.\."\) calls can be required/);
      assert.equal(five, "TypeError: require() takes a string, not number.");
      assert.equal(nil, "TypeError: require() takes a string, not null.");
    });

    test("require() runs a module at its first call, once, in Node's order; a module that threw runs again", async () => {
      const modules = {
        "main.js": `import a from "./a.cjs"; import log from "./log.cjs"; export default { run: () => [log.slice(), a.again(), a.retry(), a.retry(), log] };`,
        "log.cjs": `module.exports = [];`,
        "a.cjs": `
          const log = require("./log.cjs");
          log.push("a start");
          const b = require("./b.cjs");
          log.push("a after b " + b.n);
          if (log.length > 100) require("./never.cjs");
          exports.again = () => require("./b.cjs") === b;
          exports.retry = () => { try { return require("./flaky.cjs"); } catch (e) { return e.message; } };`,
        "b.cjs": `require("./log.cjs").push("b runs"); exports.n = 2;`,
        "never.cjs": `require("./log.cjs").push("never runs"); `,
        "flaky.cjs": `const log = require("./log.cjs"); log.push("flaky runs"); if (log.filter((l) => l === "flaky runs").length === 1) throw new Error("first time"); module.exports = "second time";`,
      };
      const [before, again, first, second, log] = await run(modules);
      assert.deepEqual(before, ["a start", "b runs", "a after b 2"]);
      assert.equal(again, true);
      assert.equal(first, "first time");
      assert.equal(second, "second time");
      assert.deepEqual(log, ["a start", "b runs", "a after b 2", "flaky runs", "flaky runs"]);
    });

    test("circular requires behave like Node's: the second module sees the first one's exports so far", async () => {
      const modules = {
        "main.js": `import one from "./one.cjs"; export default { run: () => one };`,
        "one.cjs": `exports.early = "set before"; const two = require("./two.cjs"); module.exports = { name: "one", two };`,
        "two.cjs": `const one = require("./one.cjs"); module.exports = { name: "two", sawOne: { ...one }, self: require("./two.cjs") };`,
      };
      assert.deepEqual(await run(modules), { name: "one", two: { name: "two", sawOne: { early: "set before" }, self: {} } });
    });

    test("a shadowed require, require.resolve and import() are not require() calls", async () => {
      const modules = {
        "main.js": `import m from "./m.cjs"; export default { run: () => m };`,
        "m.cjs": `function load(require) { return require("./made-up.js"); } module.exports = load((s) => "local " + s);`,
      };
      assert.equal(await run(modules), "local ./made-up.js");
    });

    test("CommonJS gets module, exports, this, __filename, __dirname and arguments; stack lines match the source; a hashbang is a comment", async () => {
      const modules = {
        "src/lib/m.cjs": `#!/usr/bin/env node\n\nexports.run = () => [this === exports, __filename, __dirname, module.id, module.loaded, /m\\.cjs:3:/.test(new Error().stack), top];
          // Node's wrapper function: arguments, new.target and a top-level return.
          const top = [arguments.length, new.target];
          return;
          exports.run = null;`,
      };
      assert.deepEqual(await run(modules, "src/lib/m.cjs"), [true, "src/lib/m.cjs", "src/lib", "src/lib/m.cjs", true, true, [5, undefined]]);
    });

    test("CommonJS requires ES modules (their namespace), text, json and, with nodejs_compat, Node built-ins", async () => {
      const modules = {
        "m.cjs": `
          const esm = require("./esm.js"); const text = require("./t.txt"); const json = require("./d.json");
          const { Buffer } = require("node:buffer"); const buffer = require("buffer");
          exports.run = () => [esm.named, esm.default, text, json, Buffer.from("hi").toString("hex"), buffer.Buffer === Buffer];`,
        "esm.js": `export const named = "named"; export default "default";`,
        "t.txt": "text",
        "d.json": `{ "j": 1 }`,
      };
      assert.deepEqual(await run(modules, "m.cjs", { compatibilityFlags: ["nodejs_compat"] }), ["named", "default", "text", { j: 1 }, "6869", true]);
    });

    test("a CommonJS syntax error is a WorkerCodeError naming the module (found by esbuild or, without a require, by V8)", async () => {
      for (const [source, where] of [
        ["module.exports = {", /SyntaxError/],
        [`const x = require("./x.cjs");\nmodule.exports = { x, };;\n  let = = 1;`, /SyntaxError \(3:8\): Unexpected "="/],
      ] as const) {
        await assert.rejects(run({ "main.js": `import m from "./m.cjs"; export default { run: () => m };`, "m.cjs": source, "x.cjs": "" }), (error: unknown) => {
          assert.ok(error instanceof WorkerCodeError);
          assert.equal(error.module, "m.cjs");
          assert.match(error.message, where);
          return true;
        });
      }
    });

    // Past COMMONJS_IN_PLACE_CHARS of CommonJS source a WorkerCode's modules are hashed and analyzed
    // in the analysis thread (findings18/02): what they read as is the same.
    const pad = `/* ${"x".repeat(70_000)} */\n`;

    test("a large module, analyzed in the analysis thread, reads as a small one: exports, requires, syntax errors", async () => {
      const modules = {
        "main.js": `import m, { a, fromX } from "./m.cjs"; export default { run: () => [a, fromX, m.missing()] };`,
        "m.cjs": `${pad}const x = require("./x.cjs"); exports.a = 1; exports.fromX = x;\nexports.missing = () => { try { require("./nope.cjs"); } catch (e) { return e.code; } };`,
        "x.cjs": `${pad}module.exports = "x";`,
      };
      assert.deepEqual(await run(modules), [1, "x", "MODULE_NOT_FOUND"]);
      await assert.rejects(run({ ...modules, "m.cjs": `${pad}const x = require("./x.cjs");\nmodule.exports = { x, };;\n  let = = 1;` }), (error: unknown) => {
        assert.ok(error instanceof WorkerCodeError, String(error));
        assert.equal(error.module, "m.cjs");
        assert.match(error.message, /SyntaxError \(4:8\): Unexpected "="/);
        return true;
      });
    });

    test("named exports are bounded: the first 10,000 names the lexer finds; the rest through the default export", async () => {
      const lines: string[] = [];
      for (let i = 0; i < 10_005; i++) lines.push(`exports.e${i} = ${i};`);
      const m = lines.join("\n");
      assert.deepEqual(await run({ "main.js": `import m, { e0, e9999 } from "./m.cjs"; export default { run: () => [e0, e9999, m.e10004, Object.keys(m).length] };`, "m.cjs": m }), [0, 9999, 10004, 10005]);
      await assert.rejects(run({ "main.js": `import { e10000 } from "./m.cjs"; export default { run: () => e10000 };`, "m.cjs": m }), (error: unknown) => {
        assert.ok(error instanceof WorkerCodeError, String(error));
        assert.match(error.message, /does not provide an export named 'e10000'/);
        return true;
      });
    });

    test("more than 10,000 distinct require() specifiers in one module is a WorkerCodeError; a specifier too long to name a module fails at its call", async () => {
      const requires: string[] = [];
      for (let i = 0; i <= 10_000; i++) requires.push(`require("./r${i}.cjs");`);
      await assert.rejects(run({ "main.js": `import m from "./m.cjs"; export default { run: () => m };`, "m.cjs": `if (module.id === "never") { ${requires.join(" ")} } module.exports = 1;` }), (error: unknown) => {
        assert.ok(error instanceof WorkerCodeError, String(error));
        assert.equal(error.module, "m.cjs");
        assert.match(error.message, /more than 10,000 distinct require\(\) specifiers \(10,001\)/);
        return true;
      });
      const long = "./" + "a".repeat(2_000);
      const message = await run({ "main.js": `import m from "./m.cjs"; export default { run: () => m };`, "m.cjs": `try { require("${long}"); } catch (e) { module.exports = e.code + ": " + e.message; }` });
      assert.equal(message, `MODULE_NOT_FOUND: Cannot find module '${long}' required from m.cjs: a module name is at most 1024 characters long.`);
    });

    test("the code generated around one worker's CommonJS modules is bounded: past 4 MiB it is refused", async () => {
      // Two modules of 10,000 named exports of 80 characters: their faces would be about 4.3 MiB.
      const module = (tag: string) => {
        const lines: string[] = [];
        for (let i = 0; i < 10_000; i++) lines.push(`exports.${tag}${String(i).padStart(79, "_")} = ${i};`);
        return lines.join("\n");
      };
      await assert.rejects(run({ "main.js": `export default { run: () => 1 };`, "a.cjs": module("a"), "b.cjs": module("b") }), (error: unknown) => {
        assert.ok(error instanceof WorkerCodeError, String(error));
        assert.match(error.message, /more generated code than islet makes for one worker \(4 MiB/);
        return true;
      });
      // One such module is within the bound.
      assert.equal(await run({ "main.js": `import { a${"_".repeat(78)}7 as n } from "./a.cjs"; export default { run: () => n };`, "a.cjs": module("a") }), 7);
    });

    test("islet:require: names are internal: an ES module cannot import them", async () => {
      const modules = { "main.js": `import { __islet_load } from "islet:require:m.cjs"; export default { run: () => 1 };`, "m.cjs": `module.exports = 1;` };
      await assert.rejects(run(modules), (error: unknown) => error instanceof WorkerCodeError && /internal to islet/.test(error.message));
    });
  });
}

test("CommonJS is parsed once per distinct source", async () => {
  const { commonJsCacheStats } = await import("../../src/testing.ts");
  const loader = new WorkerLoader();
  try {
    const source = `exports.run = () => ${Math.random()};`;
    const code: WorkerCode = { compatibilityDate, mainModule: "a.cjs", modules: { "a.cjs": source, "b.cjs": source } };
    const before = { ...commonJsCacheStats };
    const first = await (loader.load(code).getEntrypoint() as any).run();
    assert.equal(await (loader.load(code).getEntrypoint() as any).run(), first);
    assert.equal(commonJsCacheStats.analyzed - before.analyzed, 1);
    assert.ok(commonJsCacheStats.hits - before.hits >= 3);
    assert.equal(commonJsCacheStats.offThread - before.offThread, 0, "a small module is analyzed on the host's thread");
  } finally {
    await loader.close();
  }
});

test("a large CommonJS module is analyzed in the analysis thread, once per distinct source", async () => {
  const { commonJsCacheStats } = await import("../../src/testing.ts");
  const loader = new WorkerLoader();
  try {
    const source = `/* ${"x".repeat(70_000)} */ exports.run = () => ${Math.random()};`;
    const code: WorkerCode = { compatibilityDate, mainModule: "a.cjs", modules: { "a.cjs": source } };
    const before = { ...commonJsCacheStats };
    const first = await (loader.load(code).getEntrypoint() as any).run();
    assert.equal(await (loader.load(code).getEntrypoint() as any).run(), first);
    assert.equal(commonJsCacheStats.analyzed - before.analyzed, 1);
    assert.equal(commonJsCacheStats.offThread - before.offThread, 1);
    assert.ok(commonJsCacheStats.hits - before.hits >= 1);
  } finally {
    await loader.close();
  }
});
