// The host's table of stubs for a sandbox's capabilities shrinks with the stubs: a sandbox that
// hands the host fresh functions call after call (10,000 a value, any number of calls) must not
// grow it for as long as the sandbox lives.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Peer } from "../../src/rpc/peer.ts";
import { CapKind } from "../../src/protocol/wire.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function collect(): Promise<void> {
  // WeakRef targets live until the current job ends; finalizers run in a later task.
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}

test("stubs the host dropped leave the peer's import table, and each is released to the sandbox once", async () => {
  const released: number[] = [];
  const peer = new Peer({ invoke: async () => [null], release: (id) => released.push(id) });
  const table = peer.table;
  // In a function of its own: a suspended async function's frame may keep its locals alive.
  const kept = ((): unknown => {
    let held: unknown;
    for (let call = 0; call < 10; call++) {
      // One answer of 2,000 fresh functions, as the sandbox's codec encodes it.
      const caps = Array.from({ length: 2_000 }, (_, i) => [[i], CapKind.Function, call * 2_000 + i + 1]);
      const value = peer.decode([new Array(2_000).fill(null), caps]) as unknown[];
      assert.equal(typeof value[0], "function");
      if (call === 9) held = value[7];
    }
    return held;
  })();
  await collect();
  assert.equal(table.importedCount, 1, "only the stub still held is in the table");
  assert.equal(released.length, 19_999);
  assert.equal(new Set(released).size, 19_999, "each capability is released once");
  assert.ok(!released.includes(9 * 2_000 + 8), "the held one is not released");
  assert.equal(typeof kept, "function");
});
