// findings7b/15: a session holds at most 20,000 objects, but one key could open any number of
// sessions (8 held 160,000 objects and 458 MiB). maxRpcSessionsPerKey caps them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, ConnectError, type RemoteLoader } from "islet/client";
import { resolveOptions } from "../../src/server/index.ts";
import { testServer } from "./helpers.ts";

const KEY_A = "rpc-sessions-a-0123456789";
const KEY_B = "rpc-sessions-b-0123456789";

test("maxRpcSessionsPerKey defaults to 4 and is validated", () => {
  assert.equal(resolveOptions({}).maxRpcSessionsPerKey, 4);
  assert.equal(resolveOptions({ maxRpcSessionsPerKey: 3 }).maxRpcSessionsPerKey, 3);
  assert.throws(() => resolveOptions({ maxRpcSessionsPerKey: 0 }), /maxRpcSessionsPerKey/);
});

test("one key holds at most maxRpcSessionsPerKey sessions: one more is refused with 429 and the reason; other keys and closed sessions make room", { timeout: 20_000 }, async () => {
  const server = await testServer({ apiKeys: [{ id: "a", key: KEY_A }, { id: "b", key: KEY_B }], maxRpcSessionsPerKey: 2 });
  const open: RemoteLoader[] = [];
  try {
    open.push(await connect(server.url, { apiKey: KEY_A }), await connect(server.url, { apiKey: KEY_A }));
    await assert.rejects(
      connect(server.url, { apiKey: KEY_A }),
      (error: Error) => error instanceof ConnectError && error.status === 429 && /"a" has 2 \/v1\/rpc sessions open, its limit \(maxRpcSessionsPerKey\)/.test(error.message),
    );
    const other = await connect(server.url, { apiKey: KEY_B });
    open.push(other);
    assert.equal(await other.load({ code: `export default { hi() { return "b"; } }` }).getEntrypoint().hi(), "b");
    // The refused attempts took nothing: the key's two sessions still work.
    assert.equal(await open[0].load({ code: `export default { hi() { return "a"; } }` }).getEntrypoint().hi(), "a");

    const first = open.shift()!;
    first.close();
    await first.closed;
    let again: RemoteLoader | undefined;
    for (let i = 0; i < 100 && again === undefined; i++) {
      again = await connect(server.url, { apiKey: KEY_A }).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      });
    }
    assert.ok(again, "a closed session makes room for a new one");
    open.push(again);
  } finally {
    for (const session of open) session.close();
    await server.close();
  }
});
