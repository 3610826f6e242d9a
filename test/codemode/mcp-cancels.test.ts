// The registry that routes MCP's notifications/cancelled, over stateless HTTP, to the call it names
// (the end-to-end tests are test/codemode/mcp-http-cancel.test.ts and test/server/codemode.test.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { McpCallCancels } from "../../src/codemode/mcp-cancels.ts";

test("a cancel reaches only the call of the same caller and id, while it is in flight", () => {
  const cancels = new McpCallCancels();
  const alice = cancels.register("alice", 3);
  const bob = cancels.register("bob", 3);
  const keyless = cancels.register(undefined, "3");
  assert.equal(cancels.cancel("bob", 4), false, "another id");
  assert.equal(cancels.cancel("", "3"), false, "a key named \"\" is not the keyless caller");
  assert.equal(cancels.cancel("alice", "3"), false, "the string \"3\" is not the number 3");
  assert.equal(cancels.cancel("alice", 3, "stop"), true);
  assert.equal(alice.signal.aborted, true);
  assert.equal((alice.signal.reason as DOMException).name, "AbortError");
  assert.match((alice.signal.reason as DOMException).message, /cancelled the call: stop/);
  assert.equal(bob.signal.aborted, false, "bob's call with the same id goes on");
  assert.equal(keyless.signal.aborted, false);
  bob.release();
  assert.equal(cancels.cancel("bob", 3), false, "a call that is over is not reached");
  assert.equal(bob.signal.aborted, false);
  assert.equal(cancels.cancel(undefined, "3"), true);
  assert.equal(keyless.signal.aborted, true);
});

test("when two clients of one caller have a call with the same id in flight, a cancel of that id reaches neither", () => {
  const cancels = new McpCallCancels();
  const first = cancels.register("team", 1);
  const second = cancels.register("team", 1);
  assert.equal(cancels.cancel("team", 1), false);
  assert.equal(first.signal.aborted || second.signal.aborted, false);
  // Once one of them is over, the id names one call again.
  first.release();
  assert.equal(cancels.cancel("team", 1), true);
  assert.equal(second.signal.aborted, true);
});
