// Reusing a worker id with different code: the server answers 409 instead of silently running the
// code the worker started with. Real HTTP against a real server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { testServer } from "./helpers.ts";

const counter = (label: string) => `let n = 0; export default { run() { return "${label}" + (++n); } }`;

test("an id reused with the same code reaches the warm worker; with different code it is a 409 naming the id", async () => {
  const server = await testServer({ limits: { cpuMs: 100 } });
  try {
    assert.equal((await server.post("/v1/run", { id: "w", code: counter("a") })).json.result, "a1");
    assert.equal((await server.post("/v1/run", { id: "w", code: counter("a") })).json.result, "a2");
    const changed = await server.post("/v1/run", { id: "w", code: counter("b") });
    assert.equal(changed.status, 409);
    assert.equal(changed.json.error.name, "Conflict");
    assert.match(changed.json.error.message, /^id: the worker "w" is running different code .*use a new id for the new code/);
    // Through the header too, and a changed env or allowHosts counts as a change.
    assert.equal((await server.post("/v1/run", { code: counter("a"), env: { X: 1 } }, { "x-islet-worker-id": "w" })).status, 409);
    assert.equal((await server.post("/v1/run", { id: "w", code: counter("a"), allowHosts: ["example.com"] })).status, 409);
    assert.equal((await server.post("/v1/run", { id: "w", code: counter("a") })).json.result, "a3", "the worker kept running its code");
    // The same modules in another key order are the same code.
    const modules = { "main.js": `import { v } from "./v.js"; export default { run: () => v };`, "v.js": "export const v = 7;" };
    assert.equal((await server.post("/v1/run", { id: "m", mainModule: "main.js", modules })).json.result, 7);
    const reordered = { "v.js": modules["v.js"], "main.js": modules["main.js"] };
    assert.equal((await server.post("/v1/run", { id: "m", modules: reordered, mainModule: "main.js" })).json.result, 7);
  } finally {
    await server.close();
  }
});

test("an id whose worker did not start or was terminated by a limit takes new code", async () => {
  const server = await testServer({ limits: { cpuMs: 100 } });
  try {
    const thrown = await server.post("/v1/run", { id: "t", code: `throw new Error("top"); export default {};` });
    assert.equal(thrown.json.error.message, "top");
    assert.equal((await server.post("/v1/run", { id: "t", code: counter("fixed") })).json.result, "fixed1");
    const spun = await server.post("/v1/run", { id: "s", code: `export default { run() { for (;;) {} } }` });
    assert.equal(spun.json.outcome, "exceededCpu");
    assert.equal((await server.post("/v1/run", { id: "s", code: counter("fixed") })).json.result, "fixed1");
  } finally {
    await server.close();
  }
});

test("an id whose worker was evicted for idleness takes new code", async () => {
  const server = await testServer({ loader: { idleTimeoutMs: 50 } });
  try {
    assert.equal((await server.post("/v1/run", { id: "idle", code: counter("old") })).json.result, "old1");
    assert.equal((await server.post("/v1/run", { id: "idle", code: counter("new") })).status, 409);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal((await server.post("/v1/run", { id: "idle", code: counter("new") })).json.result, "new1");
  } finally {
    await server.close();
  }
});
