// Approvals for callers that cannot be asked while the code runs: the execution stops at the call
// that needs approval, and resuming runs the same code with its earlier calls answered from the
// record (never sent again), the decided call run or rejected, and the rest going on.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createExecutor, fromFunctions } from "islet/codemode";
import { IsletMcp } from "../../src/codemode/mcp-server.ts";

function bank() {
  const sent: string[] = [];
  let balance = 100;
  const provider = fromFunctions("bank", {
    balance: { description: "The balance", execute: () => (sent.push("balance"), balance) },
    deposit: { description: "Adds money", inputSchema: { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] }, execute: ({ amount }: { amount: number }) => (sent.push(`deposit ${amount}`), (balance += amount)) },
    transfer: {
      description: "Sends money away",
      needsApproval: true,
      inputSchema: { type: "object", properties: { to: { type: "string" }, amount: { type: "number" } }, required: ["to", "amount"] },
      execute: ({ to, amount }: { to: string; amount: number }) => (sent.push(`transfer ${amount} to ${to}`), (balance -= amount)),
    },
  });
  return { provider, sent, balance: () => balance };
}

const CODE = `async () => {
  await bank.deposit({ amount: 50 });
  const before = await bank.balance();
  const after = await bank.transfer({ to: "alice", amount: 30 });
  await bank.deposit({ amount: 1 });
  return { before, after, final: await bank.balance() };
}`;

test("a call that needs approval stops the run; approving resumes it without sending the earlier calls again", async () => {
  const { provider, sent, balance } = bank();
  const executor = createExecutor({ deferApprovals: true });
  try {
    const first = await executor.execute(CODE, [provider]);
    assert.equal(first.error, undefined);
    assert.equal(first.outcome, "canceled");
    assert.deepEqual({ ...first.pendingApproval, id: undefined }, { id: undefined, namespace: "bank", tool: "transfer", args: { to: "alice", amount: 30 } });
    assert.deepEqual(sent, ["deposit 50", "balance"], "it stopped before the transfer");
    const second = await executor.execute(CODE, [provider], { resume: { id: first.pendingApproval!.id, approve: true } });
    assert.equal(second.error, undefined);
    assert.deepEqual(second.result, { before: 150, after: 120, final: 121 });
    assert.deepEqual(sent, ["deposit 50", "balance", "transfer 30 to alice", "deposit 1", "balance"], "the first deposit ran once");
    assert.equal(balance(), 121);
    // An approval resumes once.
    const again = await executor.execute(CODE, [provider], { resume: { id: first.pendingApproval!.id, approve: true } });
    assert.match(again.error ?? "", /^ApprovalNotFoundError: no execution waits for approval/);
    assert.deepEqual(executor.journal().history().map((entry) => entry.event), ["paused", "approved"]);
  } finally {
    await executor.close();
  }
});

test("rejecting throws ApprovalRejectedError in the code; other code, or code that takes another path, cannot use the approval", async () => {
  const { provider, sent } = bank();
  const executor = createExecutor({ deferApprovals: true });
  try {
    const code = `async () => { try { await bank.transfer({ to: "bob", amount: 5 }); } catch (e) { return e.name + ": " + e.message; } }`;
    const first = await executor.execute(code, [provider]);
    const id = first.pendingApproval!.id;
    const changed = await executor.execute(code + " ", [provider], { resume: { id, approve: true } });
    assert.match(changed.error ?? "", /belongs to other code/);
    const rejected = await executor.execute(code, [provider], { resume: { id, approve: false, reason: "too much" } });
    assert.equal(rejected.result, "ApprovalRejectedError: bank.transfer was rejected: too much");
    assert.deepEqual(sent, []);
    // A run whose calls differ on replay (its arguments come from Math.random) stops before sending anything.
    const random = `async () => { await bank.deposit({ amount: Math.random() }); return bank.transfer({ to: "carol", amount: 2 }); }`;
    const paused = await executor.execute(random, [provider]);
    assert.equal(sent.length, 1);
    const diverged = await executor.execute(random, [provider], { resume: { id: paused.pendingApproval!.id, approve: true } });
    assert.match(diverged.error ?? "", /^ReplayDivergedError: On resuming, the code called bank\.deposit\(.*\) where it had called bank\.deposit; it was stopped and nothing was sent/);
    assert.equal(sent.length, 1, "neither the deposit nor the transfer ran again");
  } finally {
    await executor.close();
  }
});

test("a pending approval outlives the executor: kept in a SQLite file, resumed by another executor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-approvals-"));
  try {
    const { provider, sent } = bank();
    const one = createExecutor({ deferApprovals: true, approvalJournal: { dir } });
    const first = await one.execute(CODE, [provider]);
    await one.close();
    const two = createExecutor({ deferApprovals: true, approvalJournal: { dir } });
    try {
      assert.deepEqual(two.journal().pendingApprovals().map((entry) => entry.id), [first.pendingApproval!.id]);
      const resumed = await two.execute(CODE, [provider], { resume: { id: first.pendingApproval!.id, approve: true } });
      assert.deepEqual(resumed.result, { before: 150, after: 120, final: 121 });
      assert.deepEqual(sent.filter((line) => line === "deposit 50"), ["deposit 50"]);
      assert.deepEqual(two.journal().history().map((entry) => [entry.event, entry.tool, entry.args]), [["paused", "transfer", { to: "alice", amount: 30 }], ["approved", "transfer", { to: "alice", amount: 30 }]]);
    } finally {
      await two.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("over MCP, a client without elicitation gets the pause and answers it with execute's approval, across a server restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-mcp-approvals-"));
  const { provider, sent } = bank();
  const connect = async () => {
    const mcp = await IsletMcp.create({ providers: [provider], approvals: { dir } });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.createServer().connect(serverSide);
    const client = new Client({ name: "no-elicitation", version: "1" });
    await client.connect(clientSide);
    const call = async (args: Record<string, unknown>) => {
      const result = (await client.callTool({ name: "execute", arguments: args })) as CallToolResult;
      return { text: (result.content[0] as { text: string }).text, isError: result.isError === true };
    };
    return { mcp, client, call };
  };
  try {
    const first = await connect();
    const paused = await first.call({ code: CODE });
    assert.equal(paused.isError, false);
    const id = /"id": "([\w-]+)"/.exec(paused.text)?.[1];
    assert.match(paused.text, /^Paused before bank\.transfer\(\{"to":"alice","amount":30\}\): it needs the user's approval\./);
    assert.ok(id !== undefined);
    await first.client.close();
    await first.mcp.close();
    // A new server process (here: a new IsletMcp on the same directory) resumes it.
    const second = await connect();
    try {
      const bad = await second.call({ code: CODE, approval: { id, approve: "yes" } });
      assert.equal(bad.isError, true);
      const done = await second.call({ code: CODE, approval: { id, approve: true } });
      assert.deepEqual(JSON.parse(done.text), { before: 150, after: 120, final: 121 });
      assert.deepEqual(sent.filter((line) => line === "deposit 50"), ["deposit 50"]);
    } finally {
      await second.client.close();
      await second.mcp.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pause belongs to the caller that made it: another API key's scope cannot resume it", async () => {
  const { provider, sent } = bank();
  const mcp = await IsletMcp.create({ providers: [provider] });
  try {
    const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;
    const paused = text(await mcp.callTool("execute", { code: CODE }, { sessionScope: "key-1" }));
    const id = /"id": "([\w-]+)"/.exec(paused)![1];
    const stolen = await mcp.callTool("execute", { code: CODE, approval: { id, approve: true } }, { sessionScope: "key-2" });
    assert.match(text(stolen), /ApprovalNotFoundError: no execution waits for approval/);
    assert.ok(!sent.includes("transfer 30 to alice"));
    const own = await mcp.callTool("execute", { code: CODE, approval: { id, approve: true } }, { sessionScope: "key-1" });
    assert.deepEqual(JSON.parse(text(own)), { before: 150, after: 120, final: 121 });
  } finally {
    await mcp.close();
  }
});

test("an execution that fetched or wrote its session before the call cannot pause: a resume would repeat those (findings14/02)", async () => {
  const { provider, sent } = bank();
  const fetched: string[] = [];
  const executor = createExecutor({ deferApprovals: true, globalOutbound: async (request: Request) => (fetched.push(request.method), new Response("ok")) });
  try {
    const viaFetch = await executor.execute(`async () => { await fetch("https://audit.example/", { method: "POST", body: "x" }); try { await bank.transfer({ to: "alice", amount: 1 }); } catch (e) { return e.name + ": " + e.message; } }`, [provider]);
    assert.equal(viaFetch.pendingApproval, undefined);
    assert.match(String(viaFetch.result), /^ApprovalRejectedError: bank\.transfer needs approval, and this execution cannot wait for it: it made a fetch before the call/);
    const viaSession = await executor.execute(`async () => { await session.put("n", 1); return bank.transfer({ to: "alice", amount: 1 }); }`, [provider], { session: "s1" });
    assert.match(viaSession.error ?? "", /it made a session write before the call/);
    // Reading the session or calling tools before is fine: those are not repeated.
    const reads = await executor.execute(`async () => { await session.get("n"); await bank.balance(); return bank.transfer({ to: "alice", amount: 1 }); }`, [provider], { session: "s1" });
    assert.ok(reads.pendingApproval !== undefined);
    assert.deepEqual(fetched, ["POST"]);
    assert.ok(!sent.some((line) => line.startsWith("transfer")));
  } finally {
    await executor.close();
  }
});

test("pauses are counted: one owner keeps at most maxPendingPerOwner, the journal maxPending and maxPendingBytes; past them a pause is refused, and deciding one makes room", async () => {
  const { provider, sent } = bank();
  const executor = createExecutor({ deferApprovals: true, approvalJournal: { maxPendingPerOwner: 3, maxPending: 5, maxPendingBytes: 1024 * 1024 } });
  try {
    const pause = (owner?: string) => executor.execute(CODE, [provider], owner === undefined ? {} : { owner });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await pause("key-1")).pendingApproval!.id);
    const fourth = await pause("key-1");
    assert.equal(fourth.pendingApproval, undefined);
    assert.match(fourth.error ?? "", /^ApprovalRejectedError: bank\.transfer needs approval, and the execution cannot wait for it: 3 approvals of this owner are already pending/);
    // Another owner still pauses, up to the journal's own cap.
    assert.ok((await pause("key-2")).pendingApproval !== undefined);
    assert.ok((await pause()).pendingApproval !== undefined);
    const past = await pause("key-3");
    assert.match(past.error ?? "", /5 approvals are already pending, the most the journal keeps/);
    // Deciding one makes room for its owner again.
    await executor.execute(CODE, [provider], { owner: "key-1", resume: { id: ids[0], approve: false } });
    assert.ok((await pause("key-1")).pendingApproval !== undefined);
    assert.equal(executor.journal().pendingApprovals().length, 5);
    assert.ok(!sent.some((line) => line.startsWith("transfer")));
  } finally {
    await executor.close();
  }
  // Bytes: records of about 200 KiB each, at most 512 KiB in all.
  const big = fromFunctions("big", {
    blob: { description: "A large result", execute: () => "x".repeat(200 * 1024) },
    send: { description: "Needs approval", needsApproval: true, execute: () => "sent" },
  });
  const bytes = createExecutor({ deferApprovals: true, approvalJournal: { maxPendingBytes: 512 * 1024 } });
  try {
    const code = `async () => { await big.blob(); return big.send(); }`;
    assert.ok((await bytes.execute(code, [big])).pendingApproval !== undefined);
    assert.ok((await bytes.execute(code, [big])).pendingApproval !== undefined);
    const third = await bytes.execute(code, [big]);
    assert.match(third.error ?? "", /the pending approvals already hold \d+ bytes, and this one's \d+ would pass the 524288 the journal keeps/);
  } finally {
    await bytes.close();
  }
});

test("the history keeps large arguments as their size, hash and a prefix, so 10,000 entries stay small (findings15/02)", async () => {
  const shop = fromFunctions("shop", { buy: { description: "Buys", needsApproval: true, execute: () => "bought" } });
  const executor = createExecutor({ deferApprovals: true, approvalJournal: { ttlMs: 1 } });
  try {
    for (let i = 0; i < 3; i++) {
      const out = await executor.execute(`async () => shop.buy({ id: "${i}" + "x".repeat(1_000_000) })`, [shop]);
      assert.ok(out.pendingApproval !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const small = await executor.execute(`async () => shop.buy({ id: "small" })`, [shop]);
    assert.ok(small.pendingApproval !== undefined);
    const history = executor.journal().history();
    // Four pauses, the three large ones expired since.
    assert.equal(history.filter((entry) => entry.event === "paused").length, 4);
    for (const entry of history.filter((e) => (e.args as { id?: string }).id !== "small")) {
      const args = entry.args as { truncated: boolean; bytes: number; sha256: string; preview: string };
      assert.equal(args.truncated, true);
      assert.ok(args.bytes > 1_000_000);
      assert.match(args.sha256, /^[0-9a-f]{64}$/);
      assert.ok(args.preview.length <= 1024 && args.preview.startsWith('{"id":"'));
    }
    assert.deepEqual(history.at(-1)!.args, { id: "small" });
    assert.equal(history.filter((entry) => entry.event === "expired").length, 3);
  } finally {
    await executor.close();
  }
});
