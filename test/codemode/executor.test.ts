import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { createExecutor, execute, fromFunctions, fromOpenApi, McpToolError, type PendingApproval } from "islet/codemode";

test("runs an async arrow function with namespaces as globals and returns its value", async () => {
  const calls: unknown[] = [];
  const out = await execute(
    `async () => {
      const sum = await codemode.add({ a: 2, b: 3 });
      const user = await users.get({ id: "u1" });
      return { sum, user, names: Object.keys(users) };
    }`,
    {
      add: ({ a, b }: { a: number; b: number }) => a + b,
      users: {
        get: async (input: { id: string }) => {
          calls.push(input);
          return { id: input.id, name: "Ada" };
        },
        list: () => [],
      },
    },
  );
  assert.equal(out.error, undefined);
  assert.deepEqual(out.result, { sum: 5, user: { id: "u1", name: "Ada" }, names: ["get", "list"] });
  assert.deepEqual(calls, [{ id: "u1" }]);
  assert.equal(out.outcome, "ok");
  assert.ok(out.timing.wallMs > 0 && out.timing.cpuMs >= 0);
  assert.deepEqual(out.limits, { cpuMs: 5000, memoryMb: 128, wallMs: 30000, subRequests: 1000 });
});

test("values keep their types across the boundary both ways (Date, bytes, Map, bigint)", async () => {
  let received: unknown;
  const out = await execute(
    `async () => {
      const echoed = await codemode.echo({ when: new Date(86400000), bytes: new Uint8Array([1, 2, 3]), big: 10n });
      return { echoedIsDate: echoed.when instanceof Date, echoed, map: new Map([["k", new Set([1])]]) };
    }`,
    {
      echo: (input: unknown) => {
        received = input;
        return input;
      },
    },
  );
  assert.equal(out.error, undefined);
  const input = received as { when: Date; bytes: Uint8Array; big: bigint };
  assert.ok(input.when instanceof Date && input.when.getTime() === 86400000);
  assert.ok(input.bytes instanceof Uint8Array);
  assert.deepEqual([...input.bytes], [1, 2, 3]);
  assert.equal(input.big, 10n);
  const result = out.result as { echoedIsDate: boolean; echoed: { when: Date; bytes: Uint8Array }; map: Map<string, Set<number>> };
  assert.equal(result.echoedIsDate, true);
  assert.ok(result.echoed.when instanceof Date);
  assert.ok(result.echoed.bytes instanceof Uint8Array);
  assert.ok(result.map instanceof Map && result.map.get("k") instanceof Set);
});

test("console output comes back as logs", async () => {
  const out = await execute(`async () => { console.log("count", 3, { a: [1] }); console.warn("careful"); console.error(new Error("bad")); console.info("info"); return 1; }`, {});
  assert.equal(out.result, 1);
  assert.equal(out.logs?.[0], "count 3 { a: [ 1 ] }");
  assert.equal(out.logs?.[1], "[warn] careful");
  assert.match(out.logs?.[2] ?? "", /^\[error\] .*bad/);
  assert.equal(out.logs?.[3], "info");
});

test("the code may be a module, statements or an expression", async () => {
  const tools = { double: ({ n }: { n: number }) => n * 2 };
  assert.equal((await execute(`export default async function () { return await codemode.double({ n: 4 }); }`, tools)).result, 8);
  assert.equal((await execute(`const x = await codemode.double({ n: 5 });\nreturn x + 1;`, tools)).result, 11);
  assert.equal((await execute(`await codemode.double({ n: 6 })`, tools)).result, 12);
  assert.equal((await execute(`async function main() { return 7; }`, tools)).result, 7);
  // TypeScript annotations (as the model copies them from the API) are fine.
  assert.equal((await execute(`async (): Promise<number> => { const n: number = await codemode.double({ n: 1 }); return n; }`, tools)).result, 2);
  assert.equal((await execute(`export const helper = 1;\nexport default { value: 9 };`, tools)).result && true, true);
});

test("code sent as a markdown block, alone or with sentences around it, runs as the block's code", async () => {
  const tools = { double: ({ n }: { n: number }) => n * 2 };
  const fence = "```";
  assert.equal((await execute(`${fence}ts\nasync () => await codemode.double({ n: 4 })\n${fence}`, tools)).result, 8);
  assert.equal((await execute(`Here is the program:\n\n${fence}javascript\nconst x = await codemode.double({ n: 5 });\nreturn x + 1;\n${fence}\n\nIt doubles 5.`, tools)).result, 11);
  assert.equal((await execute(`~~~\nawait codemode.double({ n: 6 })\n~~~`, tools)).result, 12);
  // Fences inside valid code (in strings) are the code's own, not a block to take.
  assert.equal((await execute(`async () => "${fence}js\\nx\\n${fence}".split("\\n").length`, tools)).result, 3);
  assert.equal((await execute(`const md = [\n"${fence}",\n"${fence}"];\nreturn md.length;`, tools)).result, 2);
  // Two blocks are ambiguous: the error is the one of the code as sent.
  const two = await execute(`${fence}\nreturn 1;\n${fence}\n${fence}\nreturn 2;\n${fence}`, tools);
  assert.match(two.error ?? "", /^SyntaxError: /);
  // An error inside the block is reported at its line in the block.
  const bad = await execute(`${fence}ts\nasync () => {\n  const a = ;\n}\n${fence}`, tools);
  assert.match(bad.error ?? "", /^SyntaxError: .*\(line 2, column \d+\)$/);
});

test("a tool's error is thrown inside the code with its name and message", async () => {
  const tools = {
    fail: () => {
      throw new RangeError("out of stock");
    },
  };
  const caught = await execute(`async () => { try { await codemode.fail(); } catch (e) { return [e instanceof RangeError, e.name, e.message]; } }`, tools);
  assert.deepEqual(caught.result, [true, "RangeError", "out of stock"]);
  const uncaught = await execute(`async () => { await codemode.fail(); return "unreached"; }`, tools);
  assert.equal(uncaught.result, undefined);
  assert.equal(uncaught.error, "RangeError: out of stock");
  assert.equal(uncaught.outcome, "exception");
});

test("errors keep their data: a thrown plain object, an error's own code or status, in the code and in the result", async () => {
  const plain = await execute(`async () => { throw { code: 42, detail: "gone" }; }`, {});
  assert.equal(plain.error, 'Error: Uncaught { code: 42, detail: "gone" }');
  const own = await execute(`async () => { const e = new RangeError("too big"); e.status = 413; e.retry = false; throw e; }`, {});
  assert.equal(own.error, "RangeError: too big (status: 413, retry: false)");
  // A tool's error crosses as name and message only, unless its class lists what the code may
  // see (HttpError: status; McpToolError: code): a tool's own properties may hold host secrets.
  const tools = {
    fail: () => {
      throw Object.assign(new Error("refused"), { code: "E_HOST", path: "/srv/secret" });
    },
  };
  const caught = await execute(`async () => { try { await codemode.fail(); } catch (e) { return [e.message, Object.keys(e)]; } }`, tools);
  assert.deepEqual(caught.result, ["refused", []]);
  const upstream = {
    rpc: () => {
      throw Object.assign(new McpToolError("remote", "rpc", "Invalid params", -32602), { secret: "host-only" });
    },
  };
  const coded = await execute(`async () => { try { await codemode.rpc(); } catch (e) { return [e.name, e.code, Object.keys(e)]; } }`, upstream);
  assert.deepEqual(coded.result, ["McpToolError", -32602, ["code"]]);
  const uncaught = await execute(`async () => codemode.rpc()`, upstream);
  assert.equal(uncaught.error, "McpToolError: remote.rpc: Invalid params (code: -32602)");
  // The same across the hop to a sandbox process or thread, where the error is rebuilt.
  for (const isolation of ["process", "thread"] as const) {
    const loader = new WorkerLoader({ isolation, ...(isolation === "process" ? { processes: 1 } : { threads: 1 }) });
    try {
      const executor = createExecutor({ loader });
      const across = await executor.execute(`async () => { try { await codemode.rpc(); } catch (e) { return [e.name, e.code, Object.keys(e)]; } }`, upstream);
      assert.deepEqual(across.result, ["McpToolError", -32602, ["code"]], isolation);
      const hidden = await executor.execute(`async () => { try { await codemode.fail(); } catch (e) { return Object.keys(e); } }`, tools);
      assert.deepEqual(hidden.result, [], isolation);
    } finally {
      await loader.close();
    }
  }
});

test("a tool call's input is checked against the tool's JSON Schema before an approver or the upstream sees it", async () => {
  const sent: unknown[] = [];
  const api = fromOpenApi(
    {
      openapi: "3.0.3",
      info: { title: "Issues", version: "1" },
      paths: {
        "/issues": {
          get: { operationId: "list", parameters: [{ name: "per_page", in: "query", schema: { type: "integer" } }, { name: "since", in: "query", schema: { type: "string", format: "date-time" } }], responses: { "200": { description: "ok" } } },
          patch: {
            operationId: "update",
            requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Change" } } } },
            responses: { "200": { description: "ok" } },
          },
        },
      },
      components: { schemas: { Change: { type: "object", properties: { milestone: { oneOf: [{ type: "string" }, { type: "integer" }], nullable: true }, state: { type: "string", enum: ["open", "closed"] } } } } },
    },
    { namespace: "issues", baseUrl: "https://issues.test", needsApproval: ["update"], request: async (request) => (sent.push(request), new Response("{}", { headers: { "content-type": "application/json" } })) },
  );
  const asked: unknown[] = [];
  const run = (code: string) => execute(code, [api], { onApproval: (request) => (asked.push(request.args), true) });
  const bad = await run(`async () => { try { await issues.list({ per_page: "lots" }); } catch (e) { return [e.name, e.message]; } }`);
  assert.deepEqual(bad.result, ["ToolInputError", "Invalid input for issues.list:\n- per_page: Invalid input: expected number, received string"]);
  const body = await run(`async () => issues.update({ body: "close it" })`);
  assert.match(body.error ?? "", /^ToolInputError: Invalid input for issues\.update:\n- body: Invalid input: expected object, received string/);
  const typo = await run(`async () => issues.list({ perPage: 5 })`);
  assert.equal(typo.error, 'ToolInputError: Invalid input for issues.list:\n- no such property "perPage" (it takes per_page, since)');
  assert.deepEqual([sent.length, asked.length], [0, 0], "nothing invalid was sent or shown to the approver");
  // Valid calls go through: OpenAPI 3.0's nullable is honoured, a format is not enforced.
  const good = await run(`async () => [await issues.update({ body: { milestone: null, state: "closed" } }), await issues.list({ per_page: 5, since: "2024-01-01" })]`);
  assert.equal(good.error, undefined);
  assert.deepEqual([sent.length, asked.length], [2, 1]);
});

test("errors in the code are results, never exceptions of execute", async () => {
  const thrown = await execute(`async () => { throw new TypeError("no such thing"); }`, {});
  assert.deepEqual([thrown.result, thrown.error], [undefined, "TypeError: no such thing"]);
  const reference = await execute(`async () => missingFunction()`, {});
  assert.match(reference.error ?? "", /^ReferenceError: missingFunction is not defined/);
  const unknownTool = await execute(`async () => codemode.nope()`, { yes: () => 1 });
  assert.match(unknownTool.error ?? "", /^TypeError: codemode\.nope is not a function/);
});

test("syntax errors come back as SyntaxError with the line in the model's code", async () => {
  const out = await execute(`async () => {\n  const a = 1;\n  const b = ;\n}`, {});
  assert.equal(out.result, undefined);
  assert.match(out.error ?? "", /^SyntaxError: .*\(line 3, column \d+\)$/);
  const empty = await execute("   ", {});
  assert.match(empty.error ?? "", /^SyntaxError: The code is empty/);
});

test("limits are enforced and reported: CPU, wall time, subrequests", async () => {
  const cpu = await execute(`async () => { for (;;) {} }`, {}, { limits: { cpuMs: 50 } });
  assert.match(cpu.error ?? "", /^CpuLimitError: /);
  assert.equal(cpu.outcome, "exceededCpu");
  assert.equal(cpu.limits.cpuMs, 50);
  const wall = await execute(`async () => { await new Promise((r) => setTimeout(r, 60_000)); }`, {}, { limits: { wallMs: 300 } });
  assert.match(wall.error ?? "", /^WallTimeLimitError: /);
  assert.equal(wall.outcome, "exceededWall");
  const many = await execute(`async () => { for (let i = 0; i < 10; i++) await codemode.ping(); }`, { ping: () => 1 }, { limits: { subRequests: 3 } });
  assert.match(many.error ?? "", /^SubrequestLimitError: /);
});

test("the network is blocked unless globalOutbound is given", async () => {
  const code = `async () => { const r = await fetch("https://api.example.com/data"); return await r.text(); }`;
  const blocked = await execute(code, {});
  assert.match(blocked.error ?? "", /^TypeError: This worker is not permitted to access the internet/);
  const seen: string[] = [];
  const allowed = await execute(code, {}, {
    globalOutbound: (request) => {
      seen.push(request.url);
      return new Response("hello from the host");
    },
  });
  assert.equal(allowed.result, "hello from the host");
  assert.deepEqual(seen, ["https://api.example.com/data"]);
});

test("a globalOutbound's connect reaches the code's cloudflare:sockets connect()", async () => {
  const code = `async () => {
    const { connect } = await import("cloudflare:sockets");
    const socket = connect("db.example.com:5432");
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode("ping"));
    const { value } = await socket.readable.getReader().read();
    await socket.close();
    return new TextDecoder().decode(value);
  }`;
  const seen: string[] = [];
  const out = await execute(code, {}, {
    globalOutbound: {
      connect: (address) => {
        seen.push(`${address.hostname}:${address.port}`);
        // A test double: answers "pong:" and what it was sent.
        const pipe = new TransformStream<Uint8Array, Uint8Array>({ transform: (chunk, controller) => controller.enqueue(new Uint8Array([...new TextEncoder().encode("pong:"), ...chunk])) }, undefined, { highWaterMark: 4 });
        return { readable: pipe.readable, writable: pipe.writable, opened: Promise.resolve({}), close: () => {} };
      },
    },
  });
  assert.equal(out.error, undefined);
  assert.equal(out.result, "pong:ping");
  assert.deepEqual(seen, ["db.example.com:5432"]);
});

test("functions cannot be passed to tools or returned; namespaces cannot be replaced", async () => {
  const passed = await execute(`async () => codemode.take({ callback: () => 1 })`, { take: () => "taken" });
  assert.match(passed.error ?? "", /^DataCloneError: /);
  const returned = await execute(`async () => ({ f: () => 1 })`, {});
  assert.match(returned.error ?? "", /^DataCloneError: /);
  const replaced = await execute(`async () => { "use strict"; try { codemode.take = () => "mine"; } catch (e) { return e.name; } }`, { take: () => 1 });
  assert.equal(replaced.result, "TypeError");
});

test("ToolProviders and plain functions can be mixed; a tool with no input schema gets what the code passed", async () => {
  const math = fromFunctions("math", { square: { description: "n²", inputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] }, execute: ({ n }: { n: number }) => n * n } });
  const received: unknown[] = [];
  const out = await execute(`async () => [await math.square({ n: 3 }), await codemode.raw(), await codemode.raw("text")]`, [math, fromFunctions("codemode", { raw: { execute: (input: unknown) => (received.push(input), "ok") } })]);
  assert.deepEqual(out.result, [9, "ok", "ok"]);
  assert.deepEqual(received, [undefined, "text"]);
});

test("approvals: approved calls run, rejected ones throw ApprovalRejectedError inside the code", async () => {
  const deleted: string[] = [];
  const files = fromFunctions("files", {
    list: { execute: () => ["a.txt", "b.txt"] },
    remove: { needsApproval: true, inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] }, execute: ({ name }: { name: string }) => (deleted.push(name), true) },
  });
  const code = `async () => {
    const results = [];
    for (const name of await files.list()) {
      try { results.push(await files.remove({ name })); } catch (e) { results.push(e.name + ": " + e.message); }
    }
    return results;
  }`;
  const seen: { tool: string; args: unknown }[] = [];
  const out = await execute(code, [files], {
    onApproval: (approval) => {
      seen.push({ tool: `${approval.namespace}.${approval.tool}`, args: approval.args });
      return (approval.args as { name: string }).name === "a.txt";
    },
  });
  assert.deepEqual(out.result, [true, "ApprovalRejectedError: files.remove was rejected."]);
  assert.deepEqual(deleted, ["a.txt"]);
  assert.deepEqual(seen, [
    { tool: "files.remove", args: { name: "a.txt" } },
    { tool: "files.remove", args: { name: "b.txt" } },
  ]);
  assert.deepEqual(out.approvals?.map((a) => [a.tool, a.approved]), [["remove", true], ["remove", false]]);
  // Without an approver, such calls are rejected at once.
  const none = await execute(`async () => files.remove({ name: "x" })`, [files]);
  assert.match(none.error ?? "", /^ApprovalRejectedError: files\.remove needs the host's approval/);
});

test("approvals can be decided later through the pending object; waiting does not count against wallMs", async () => {
  const pending: PendingApproval[] = [];
  const tools = fromFunctions("bank", { pay: { needsApproval: true, execute: ({ amount }: { amount: number }) => `paid ${amount}` } });
  const running = execute(`async () => [await bank.pay({ amount: 5 }), await bank.pay({ amount: 6 }).catch((e) => e.message)]`, [tools], {
    limits: { wallMs: 1_000 },
    onApproval: (approval) => void pending.push(approval),
  });
  // A human takes longer to decide than the code may run.
  while (pending.length < 1) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(pending[0].settled, false);
  pending[0].approve();
  while (pending.length < 2) await new Promise((r) => setTimeout(r, 10));
  pending[1].reject("over budget");
  const out = await running;
  assert.equal(out.error, undefined);
  assert.deepEqual(out.result, ["paid 5", "bank.pay was rejected: over budget"]);
  assert.ok(out.timing.approvalWaitMs >= 1_500);
  assert.equal(out.approvals?.[1].reason, "over budget");
});

test("an approval nobody decides times out as a rejection", async () => {
  const tools = fromFunctions("bank", { pay: { needsApproval: true, execute: () => "paid" } });
  const out = await execute(`async () => bank.pay({})`, [tools], { approvalTimeoutMs: 100, onApproval: () => undefined });
  assert.equal(out.error, "ApprovalRejectedError: bank.pay was not approved in time.");
});

test("createExecutor reuses one loader, each run in a fresh sandbox; a signal aborts a run", async () => {
  const executor = createExecutor({ limits: { cpuMs: 1_000 } });
  try {
    const code = `async () => { globalThis.counter = (globalThis.counter ?? 0) + 1; return globalThis.counter; }`;
    assert.equal((await executor.execute(code, {})).result, 1);
    assert.equal((await executor.execute(code, {})).result, 1);
    const controller = new AbortController();
    const running = executor.execute(`async () => { await new Promise((r) => setTimeout(r, 60_000)); }`, {}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const aborted = await running;
    assert.equal(aborted.error, "AbortError: The execution was aborted.");
    assert.equal(aborted.outcome, "canceled");
  } finally {
    await executor.close();
  }
});

test("invalid executor options are one CodeModeError that lists every problem", () => {
  assert.throws(
    () => createExecutor({ approvalTimeoutMs: -1, onApproval: "yes", compatibilityFlags: "nodejs_compat", loader: {}, globalOutbound: 5 } as never),
    (error: Error) =>
      error.name === "CodeModeError" &&
      error.message ===
        "createExecutor: globalOutbound: must be null, a function or an object with a fetch or connect method, got 5; onApproval: must be a function, got \"yes\"; " +
          'approvalTimeoutMs: must be a non-negative number, got -1; compatibilityFlags: must be an array of strings, got "nodejs_compat"; loader: must be a WorkerLoader, got an object',
  );
  assert.throws(() => createExecutor(null as never), /^CodeModeError: createExecutor: options must be an object, got null$/);
  assert.throws(() => createExecutor({ limits: { cpuMs: 0 } }), /^InvalidLimitsError: codemode: limits\.cpuMs: must be a positive number of milliseconds, got 0$/);
});
