// Approvals that hold. A call that needs the host's approval must not be reachable another way
// (the OpenAPI source's raw request()), the approver must see exactly what then runs (tool inputs
// are copied once, as plain data, and live capabilities are refused), and code waiting for an
// approval must not keep acting past its wallMs. Real sandboxes, a real HTTP upstream on loopback.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorkerLoader } from "islet";
import { createExecutor, execute, fromFunctions, fromOpenApi, type PendingApproval } from "../../src/codemode/index.ts";
import { openApiProvider } from "../../src/codemode/mcp-backend.ts";
import { tempDir } from "./mcp-upstreams.ts";

const dir = tempDir("approvals-hold");
test.after(() => dir.remove());

const petstore = {
  openapi: "3.1.0",
  info: { title: "Pets", version: "1" },
  paths: {
    "/pets": { get: { operationId: "listPets", responses: { "200": { description: "ok" } } } },
    "/pets/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: { operationId: "getPet", responses: { "200": { description: "ok" } } },
      delete: { operationId: "deletePet", responses: { "204": { description: "gone" } } },
    },
  },
};

/** A real upstream on loopback that records every request it receives. */
async function upstream(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const rawCalls = `async () => {
  const out = [];
  for (const [method, path] of [["GET", "/pets/7"], ["DELETE", "/pets/7"], ["GET", "/admin"], ["GET", "/pets/7/../../admin"], ["GET", "/pets/..%2Fadmin"], ["HEAD", "/pets"], ["GET", "/pets?limit=1"]]) {
    try { out.push(method + " " + path + " " + (await api.request({ method, path })).status); }
    catch (error) { out.push(method + " " + path + " " + error.name); }
  }
  return out;
}`;

test("fromOpenApi with a needsApproval predicate: request() is judged as the operation it addresses; one that addresses none needs approval", async () => {
  const api = await upstream();
  try {
    const asked: string[] = [];
    const source = fromOpenApi(petstore, { namespace: "api", baseUrl: api.url, needsApproval: (op) => op.method !== "GET" });
    const out = await execute(rawCalls, [source], {
      onApproval: (approval) => {
        const args = approval.args as { method: string; path: string };
        asked.push(`${approval.tool} ${args.method} ${args.path}`);
        return false;
      },
    });
    assert.equal(out.error, undefined);
    assert.deepEqual(out.result, [
      "GET /pets/7 200",
      "DELETE /pets/7 ApprovalRejectedError",
      "GET /admin ApprovalRejectedError",
      "GET /pets/7/../../admin ApprovalRejectedError",
      "GET /pets/..%2Fadmin ApprovalRejectedError",
      "HEAD /pets ApprovalRejectedError",
      "GET /pets?limit=1 200",
    ]);
    assert.deepEqual(asked, ["request DELETE /pets/7", "request GET /admin", "request GET /pets/7/../../admin", "request GET /pets/..%2Fadmin", "request HEAD /pets"]);
    assert.deepEqual(api.seen, ["GET /pets/7", "GET /pets?limit=1"], "nothing unapproved reached the API");
    // Without an approver the DELETE is refused too, and no policy at all leaves request() free.
    const none = await execute(`async () => (await api.request({ method: "DELETE", path: "/pets/8" })).status`, [source]);
    assert.match(none.error ?? "", /^ApprovalRejectedError: api\.request needs the host's approval/);
    const free = await execute(`async () => (await api.request({ method: "DELETE", path: "/pets/9" })).status`, [fromOpenApi(petstore, { namespace: "api", baseUrl: api.url })]);
    assert.equal(free.result, 200);
    assert.deepEqual(api.seen, ["GET /pets/7", "GET /pets?limit=1", "DELETE /pets/9"]);
  } finally {
    await api.close();
  }
});

test("islet mcp's needsApproval list (operationIds) covers request() to the same operations", async () => {
  const api = await upstream();
  try {
    const spec = join(dir.path, "petstore.json");
    writeFileSync(spec, JSON.stringify(petstore));
    const source = await openApiProvider("api", { spec, baseUrl: api.url, headers: { authorization: "Bearer host-secret" }, needsApproval: ["deletePet"] });
    const asked: string[] = [];
    const out = await execute(
      `async () => [await api.request({ method: "GET", path: "/pets/7" }).then(r => r.status), await api.request({ method: "DELETE", path: "/pets/7" }).then(r => r.status, e => e.name), await api.deletePet({ id: "7" }).then(() => "deleted", e => e.name)]`,
      [source],
      { onApproval: (approval) => (asked.push(approval.tool), false) },
    );
    assert.deepEqual(out.result, [200, "ApprovalRejectedError", "ApprovalRejectedError"]);
    assert.deepEqual(asked, ["request", "deletePet"]);
    assert.deepEqual(api.seen, ["GET /pets/7"]);
    // A name in the list that is no operation (a typo) stops islet mcp at startup.
    await assert.rejects(openApiProvider("api", { spec, baseUrl: api.url, headers: {}, needsApproval: ["deletePets"] }), { name: "OpenApiError", message: /^openapi\.api: options\.needsApproval names "deletePets", which is no operation/ });
  } finally {
    await api.close();
  }
});

test("fromOpenApi with a needsApproval list: the listed operations' typed methods and request() to them ask the approver, however the path is spelled", async () => {
  const api = await upstream();
  try {
    for (const list of [["deletePet"], ["delete /pets/{id}"]]) {
      api.seen.length = 0;
      const asked: string[] = [];
      const source = fromOpenApi(petstore, { namespace: "api", baseUrl: api.url, needsApproval: list });
      const out = await execute(
        `async () => {
          const out = [await api.deletePet({ id: "7" }).then(() => "deleted", (e) => e.name)];
          for (const [method, path] of [["GET", "/pets/7"], ["DELETE", "/pets/7"], ["delete", "/pets/7"], ["DELETE", "/pets/8/"], ["DELETE", "/admin/../pets/7"], ["DELETE", "/pets/x%2F..%2F7"], ["DELETE", "/PETS/7"], ["GET", "/nowhere"]]) {
            try { out.push(method + " " + path + " " + (await api.request({ method, path })).status); }
            catch (error) { out.push(method + " " + path + " " + error.name); }
          }
          return out;
        }`,
        [source],
        {
          onApproval: (approval) => {
            const args = approval.args as { method?: string; path?: string };
            asked.push(approval.tool === "request" ? `request ${args.method} ${args.path}` : approval.tool);
            return false;
          },
        },
      );
      assert.equal(out.error, undefined, out.error);
      assert.deepEqual(out.result, [
        "ApprovalRejectedError",
        "GET /pets/7 200",
        "DELETE /pets/7 ApprovalRejectedError",
        // A method spelled otherwise than its declared type ("GET" | "DELETE" …) is refused by the
        // input check before anyone is asked: it does not slip past the approver either.
        "delete /pets/7 ToolInputError",
        "DELETE /pets/8/ ApprovalRejectedError",
        "DELETE /admin/../pets/7 ApprovalRejectedError",
        "DELETE /pets/x%2F..%2F7 ApprovalRejectedError",
        "DELETE /PETS/7 ApprovalRejectedError",
        "GET /nowhere ApprovalRejectedError",
      ], JSON.stringify(list));
      assert.equal(asked.length, 7);
      assert.equal(asked[0], "deletePet");
      assert.deepEqual(api.seen, ["GET /pets/7"], "nothing unapproved reached the API");
      // Only the listed operation asks: getPet is free.
      const typed = fromOpenApi(petstore, { namespace: "api", baseUrl: api.url, needsApproval: list }).tools;
      assert.deepEqual(typed.filter((t) => t.needsApproval === true).map((t) => t.name), ["deletePet"]);
    }
  } finally {
    await api.close();
  }
});

test("fromOpenApi refuses a needsApproval it cannot honour instead of ignoring it", () => {
  const make = (needsApproval: unknown) => () => fromOpenApi(petstore, { namespace: "api", baseUrl: "http://127.0.0.1:9", needsApproval: needsApproval as never });
  assert.throws(make(["deletePets"]), { name: "OpenApiError", message: /needsApproval names "deletePets", which is no operation/ });
  assert.throws(make(["DELETE /pets/7"]), { name: "OpenApiError", message: /which is no operation/ });
  assert.throws(make([42]), { name: "OpenApiError", message: /operationIds or "METHOD \/path"/ });
  assert.throws(make("deletePet"), { name: "OpenApiError", message: /must be true, false, a predicate, or a list/ });
  assert.throws(make({ deletePet: true }), { name: "OpenApiError", message: /must be true, false, a predicate, or a list/ });
  assert.doesNotThrow(make([]));
});

for (const isolation of ["isolate", "thread", "process"] as const) test(`tool inputs must be data: an RpcTarget or a function inside an input is refused with DataCloneError and the tool never runs (isolation: "${isolation}")`, async () => {
  const received: unknown[] = [];
  const tools = fromFunctions("shop", { buy: { execute: (input: unknown) => (received.push(input), "bought") } });
  const code = `import { RpcTarget } from "cloudflare:workers";
class Live extends RpcTarget { amount() { return 1000; } }
export default async () => {
  const out = [];
  for (const input of [{ item: "x", live: new Live() }, [new Live()], { deep: { fn: () => 1 } }, new Live()]) {
    try { out.push(await shop.buy(input)); } catch (error) { out.push(error.name + ": " + error.message); }
  }
  return out;
};`;
  const loader = new WorkerLoader(isolation === "isolate" ? {} : isolation === "thread" ? { isolation, threads: 1 } : { isolation, processes: 1 });
  const executor = createExecutor({ loader });
  let out;
  try {
    out = await executor.execute(code, [tools]);
  } finally {
    await executor.close();
    await loader.close();
  }
  assert.equal(out.error, undefined, out.error);
  const answers = out.result as string[];
  assert.equal(answers.length, 4);
  for (const answer of answers) assert.match(answer, /^DataCloneError: shop\.buy: tool inputs must be data/);
  assert.match(answers[0], /input\.live/);
  assert.deepEqual(received, [], "the tool never saw a capability");
});

test("the approver sees exactly the arguments the tool runs with: one copy, even when the code changes its object while waiting", async () => {
  let approverSaw: unknown;
  let toolGot: unknown;
  const pending: PendingApproval[] = [];
  const tools = fromFunctions("bank", {
    pay: { needsApproval: true, execute: (input: unknown) => ((toolGot = input), "paid") },
    peek: { execute: () => "ok" },
  });
  const code = `async () => {
    const order = { to: "alice", amount: 1, items: [{ sku: "a" }], when: new Date(0) };
    const paying = bank.pay(order);
    // Change the object after asking, while the approver looks at it.
    order.amount = 1000000; order.to = "mallory"; order.items[0].sku = "b"; order.items.push({ sku: "c" });
    await bank.peek({});
    return await paying;
  }`;
  const running = execute(code, [tools], { onApproval: (approval) => void pending.push(approval) });
  for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(pending.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 100));
  approverSaw = structuredClone(pending[0].args);
  pending[0].approve();
  const out = await running;
  assert.equal(out.result, "paid", out.error);
  assert.deepEqual(approverSaw, { to: "alice", amount: 1, items: [{ sku: "a" }], when: new Date(0) });
  assert.deepEqual(toolGot, approverSaw, "the tool ran with what the approver saw");
  assert.equal(toolGot, pending[0].args, "the very same copy");
});

test("code waiting for an approval cannot keep calling tools past its wallMs: the clock runs again once it acts", { timeout: 15_000 }, async () => {
  const ticks: number[] = [];
  const started = performance.now();
  const tools = fromFunctions("ops", {
    approve: { needsApproval: true, execute: () => "approved" },
    tick: { execute: () => void ticks.push(performance.now() - started) },
  });
  const code = `async () => {
    const asked = ops.approve({});
    const timer = setInterval(() => { ops.tick({}); }, 20);
    const answer = await asked;
    clearInterval(timer);
    return answer;
  }`;
  const out = await execute(code, [tools], {
    limits: { wallMs: 500 },
    onApproval: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2_000)),
  });
  assert.match(out.error ?? "", /^WallTimeLimitError: /, `outcome ${out.outcome}, result ${String(out.result)}`);
  assert.equal(out.outcome, "exceededWall");
  const last = ticks.at(-1) ?? 0;
  assert.ok(last < 1_000, `the last tool call came ${Math.round(last)} ms in (wallMs 500; the approver answered at 2,000 ms)`);
  // An idle wait still does not count (README: the wait does not count against wall time).
  const idle = await execute(`async () => ops.approve({})`, [tools], {
    limits: { wallMs: 300 },
    onApproval: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 800)),
  });
  assert.equal(idle.result, "approved", idle.error);
});

test("a fetch while an approval is pending ends the pause too", { timeout: 15_000 }, async () => {
  const fetched: number[] = [];
  const started = performance.now();
  const tools = fromFunctions("ops", { approve: { needsApproval: true, execute: () => "approved" } });
  const code = `async () => {
    const asked = ops.approve({});
    const timer = setInterval(() => { fetch("https://api.example/ping").catch(() => {}); }, 20);
    const answer = await asked;
    clearInterval(timer);
    return answer;
  }`;
  const out = await execute(code, [tools], {
    limits: { wallMs: 500 },
    globalOutbound: () => (fetched.push(performance.now() - started), new Response("pong")),
    onApproval: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2_000)),
  });
  assert.match(out.error ?? "", /^WallTimeLimitError: /, `outcome ${out.outcome}`);
  assert.ok(fetched.length > 0 && (fetched.at(-1) ?? 0) < 1_000, `fetches until ${Math.round(fetched.at(-1) ?? 0)} ms`);
});

test("a typed method's path parameter cannot be a dot segment: it would address another operation, unjudged (findings15/03)", async () => {
  const api = await upstream();
  const members = {
    openapi: "3.1.0",
    info: { title: "Members", version: "1" },
    paths: {
      "/members/{uid}": { parameters: [{ name: "uid", in: "path", required: true, schema: { type: "string" } }], delete: { operationId: "deleteMember", responses: { "204": { description: "gone" } } } },
      "/projects/{pid}/members/{uid}": {
        parameters: [
          { name: "pid", in: "path", required: true, schema: { type: "string" } },
          { name: "uid", in: "path", required: true, schema: { type: "string" } },
        ],
        delete: { operationId: "removeProjectMember", responses: { "204": { description: "gone" } } },
      },
    },
  };
  try {
    const asked: string[] = [];
    const source = fromOpenApi(members, { namespace: "api", baseUrl: `${api.url}/api`, needsApproval: ["deleteMember"] });
    const out = await execute(
      `async () => {
        const out = [];
        for (const pid of ["..", ".", "%2e%2e", "a..b", "p1"]) {
          try { out.push(pid + " " + (await api.removeProjectMember({ pid, uid: "alice" })).ok); }
          catch (error) { out.push(pid + " " + error.name + ": " + error.message); }
        }
        return out;
      }`,
      [source],
      { onApproval: (approval) => (asked.push(approval.tool), false) },
    );
    assert.equal(out.error, undefined, out.error);
    assert.deepEqual(out.result, [
      '.. ToolInputError: The path parameter "pid" cannot be "..": a dot segment would address another path.',
      '. ToolInputError: The path parameter "pid" cannot be ".": a dot segment would address another path.',
      "%2e%2e true",
      "a..b true",
      "p1 true",
    ]);
    assert.deepEqual(asked, []);
    assert.deepEqual(api.seen, ["DELETE /api/projects/%252e%252e/members/alice", "DELETE /api/projects/a..b/members/alice", "DELETE /api/projects/p1/members/alice"], "deleteMember was never reached");
  } finally {
    await api.close();
  }
});
