// The host's table of each Node module's named exports (src/loader/node-exports.generated.ts, made
// by scripts/node-exports.ts at build time) must be current, match what the node chunk's modules
// really have, and name only things Node's modules export too.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { NODE_MODULE_EXPORTS, nodeModuleSource, resolveNodeModule } from "../../../src/loader/node-compat.ts";
import { nodeModuleNames } from "../../../src/runtime/node/modules.ts";
import { nodeModule } from "./compat.ts";

const require = createRequire(import.meta.url);
// An EventEmitter's own bookkeeping fields are not part of a module's API.
const nodeMajor = Number(process.versions.node.split(".")[0]);
const internal = new Set(["_events", "_eventsCount", "_maxListeners"]);

describe("nodejs_compat export table", () => {
  it("is current: scripts/node-exports.ts --check finds nothing to change", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    execFileSync(process.execPath, ["--import", "tsx", "scripts/node-exports.ts", "--check"], { cwd: root, stdio: "pipe" });
  });

  it("lists exactly the modules the chunk provides", () => {
    assert.deepEqual(Object.keys(NODE_MODULE_EXPORTS).sort(), [...nodeModuleNames].sort());
  });

  for (const name of Object.keys(NODE_MODULE_EXPORTS)) {
    it(`${name}: the table equals the module's enumerable own keys, all of them Node's`, () => {
      const value = nodeModule(name) as Record<string, unknown>;
      const keys = Object.keys(value).filter((key) => !internal.has(key));
      assert.deepEqual([...NODE_MODULE_EXPORTS[name]].sort(), keys.sort());
      const real = require(`node:${name}`) as Record<string, unknown>;
      for (const key of keys) {
        // The sandbox follows Node 24, whose node:buffer still has SlowBuffer; Node 26 removed it.
        if (name === "buffer" && key === "SlowBuffer" && nodeMajor >= 26) continue;
        assert.ok(key in real, `node:${name} has no export ${key}`);
      }
      for (const key of keys) assert.notEqual(value[key], undefined, `${name}.${key} is undefined`);
    });
  }

  it("generates a module source per supported name and resolves specifiers", () => {
    assert.match(nodeModuleSource("node:buffer")!.source, /export const \{ Buffer, SlowBuffer,/);
    assert.equal(nodeModuleSource("node:buffer")!.internal, true);
    assert.equal(nodeModuleSource("node:fs"), undefined);
    assert.equal(nodeModuleSource("buffer"), undefined);
    assert.equal(resolveNodeModule("events", "a.js", true), "node:events");
    assert.equal(resolveNodeModule("node:assert/strict", "a.js", true), "node:assert/strict");
    assert.equal(resolveNodeModule("lodash", "a.js", true), undefined);
    assert.equal(resolveNodeModule("lodash", "a.js", false), undefined);
    assert.throws(() => resolveNodeModule("node:fs", "a.js", true), /the Node\.js module "fs" is not available in the sandbox/);
    assert.throws(() => resolveNodeModule("node:path", "a.js", false), /need the "nodejs_compat" compatibility flag\./);
    assert.throws(() => resolveNodeModule("node:anything", "a.js", false), /need the "nodejs_compat" compatibility flag/);
  });
});
