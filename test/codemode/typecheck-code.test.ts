// execute's `typecheck`: the model's program is checked against the generated API by TypeScript's
// own checker before it runs; errors name the line and column in the model's code.

import { test } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { createExecutor, execute, fromFunctions } from "islet/codemode";
import { parseConfig } from "../../src/codemode/config.ts";
import { IsletMcp } from "../../src/codemode/mcp-server.ts";

const calls: unknown[] = [];
const shop = fromFunctions("shop", {
  get: {
    description: "One product by id",
    inputSchema: { type: "object", properties: { id: { type: "number" } }, required: ["id"] },
    outputSchema: { type: "object", properties: { name: { type: "string" }, price: { type: "number" } }, required: ["name", "price"] },
    execute: (input: { id: number }) => (calls.push(input), { name: `item ${input.id}`, price: 5 }),
  },
  stock: { description: "Stock count (untyped result)", execute: () => (calls.push("stock"), 12) },
});

test("code that does not fit the API's types fails before it runs, with lines in the model's code", async () => {
  calls.length = 0;
  const out = await execute(`const p = await shop.get({ id: "7" });\nconst n = await shop.stock();\nreturn p.nme + n;`, [shop], { typecheck: true });
  assert.equal(out.outcome, "exception");
  assert.match(out.error ?? "", /^TypeCheckError: the code does not fit the API's types; nothing ran\.\n/);
  assert.match(out.error ?? "", /\n- line 1, column 28: Type 'string' is not assignable to type 'number'\./);
  assert.match(out.error ?? "", /\n- line 3, column 10: Property 'nme' does not exist on type .*Did you mean 'name'\?/);
  assert.deepEqual(calls, [], "no tool was called");
  const unknownTool = await execute(`async () => shop.list()`, [shop], { typecheck: true });
  assert.match(unknownTool.error ?? "", /- line 1, column 18: Property 'list' does not exist/);
});

test("code that fits runs; untyped results, caught errors and a markdown block are fine", async () => {
  calls.length = 0;
  const code = "```ts\nasync () => {\n  const p = await shop.get({ id: 7 });\n  const n = await shop.stock();\n  try { await shop.get({ id: 1 }); } catch (e) { console.log(e.message); }\n  return `${p.name}: ${n * p.price}`;\n}\n```";
  const out = await execute(code, [shop], { typecheck: true });
  assert.equal(out.error, undefined);
  assert.equal(out.result, "item 7: 60");
  // Without the option nothing is checked: the same wrong program runs (and its tool refuses the input).
  const unchecked = await createExecutor().execute(`async () => shop.get({ id: "7" })`, [shop]);
  assert.match(unchecked.error ?? "", /^ToolInputError: /);
  const executor = createExecutor({ typecheck: true });
  try {
    assert.match((await executor.execute(`async () => shop.get({ id: "7" })`, [shop])).error ?? "", /^TypeCheckError: /);
    assert.equal((await executor.execute(`async () => shop.get({ id: "7" })`, [shop], { typecheck: false })).error?.startsWith("ToolInputError"), true);
  } finally {
    await executor.close();
  }
});

test("islet mcp's config turns it on: execute answers with the type errors", async () => {
  assert.equal(parseConfig({ servers: { a: { command: "x" } }, typecheck: true }).typecheck, true);
  assert.throws(() => parseConfig({ servers: { a: { command: "x" } }, typecheck: "yes" }), /typecheck: must be true or false/);
  const mcp = await IsletMcp.create({ providers: [shop], typecheck: true });
  try {
    const outcome = await mcp.execute(`async () => (await shop.get({ id: 1 })).cost`);
    assert.match(outcome.error ?? "", /^TypeCheckError: .*\n- line 1, column 41: Property 'cost' does not exist/);
    assert.equal((await mcp.execute(`async () => (await shop.get({ id: 1 })).price`)).result, 5);
  } finally {
    await mcp.close();
  }
});

test("code that names a module is not given to the checker, which would read the file from the host's disk (findings14/03)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-typecheck-secret-"));
  try {
    writeFileSync(join(dir, "config.ts"), 'export const KEY = "sk_live_secret_value";\n');
    writeFileSync(join(dir, "creds.json"), '{ "private_key_id": "abc123" }');
    for (const code of [
      `async () => { type M = typeof import(${JSON.stringify(join(dir, "config"))}); const a: 1 = (0 as any as M).KEY; return 1; }`,
      `async () => { const c: 1 = (0 as any as typeof import(${JSON.stringify(join(dir, "creds.json"))})); return 1; }`,
      `/// <reference path=${JSON.stringify(join(dir, "config.ts"))} />\nconst a: 1 = KEY;\nreturn 1;`,
    ]) {
      const out = await execute(code, [shop], { typecheck: true });
      assert.ok(!/sk_live_secret_value|private_key_id|abc123/.test(JSON.stringify(out)), JSON.stringify(out));
      assert.doesNotMatch(out.error ?? "", /^TypeCheckError/);
    }
    // The word in prose or a name does not count: "important" is checked as usual.
    const checked = await execute(`async () => { const important: number = "x"; return important; }`, [shop], { typecheck: true });
    assert.match(checked.error ?? "", /^TypeCheckError: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Code that makes the checker work hard: mapped types over a 10,000-member union (findings15/04). */
function heavyCode(k: number): string {
  const d = `type D = "0"|"1"|"2"|"3"|"4"|"5"|"6"|"7"|"8"|"9";`;
  const types = Array.from({ length: k }, (_, i) => `type M${i} = { [P in X]: [P, ${i}] }; type N${i} = { [P in X]: [P, ${i}] | ${i} }; const a${i}: N${i} = null as any as M${i};`).join(" ");
  return `async () => { ${d} type X = \`\${D}\${D}\${D}\${D}\`; ${types} return shop.stock(); }`;
}

function checkerChildren(): string[] {
  try {
    return execFileSync("ps", ["-o", "args=", "--ppid", String(process.pid)], { encoding: "utf8" }).split("\n").filter((line) => /tsc|typescript/.test(line));
  } catch {
    return [];
  }
}

test("a check is bounded in time and memory and killed past either; the code then runs unchecked; checks beyond the slots wait (findings15/04)", async () => {
  const { typecheckBudget, typecheckProgram } = await import("../../src/codemode/executor/typecheck.ts");
  const saved = { ...typecheckBudget };
  try {
    // Time: a check that would take tens of seconds ends at its budget.
    Object.assign(typecheckBudget, { timeoutMs: 1_500, memoryBytes: 4 * 1024 ** 3 });
    let started = Date.now();
    const slow = await typecheckProgram(heavyCode(40), 1, "declare const shop: { stock(): Promise<number> };", false);
    assert.deepEqual(slow, { skipped: "the check took longer than 1500 ms" });
    assert.ok(Date.now() - started < 4_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(checkerChildren(), [], "the checker was killed");
    // Memory: the same code past a 64 MiB budget.
    Object.assign(typecheckBudget, { timeoutMs: 30_000, memoryBytes: 64 * 1024 * 1024 });
    started = Date.now();
    const big = await typecheckProgram(heavyCode(40), 1, "declare const shop: { stock(): Promise<number> };", false);
    assert.deepEqual(big, { skipped: "the check used more than 64 MiB" });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    // Through execute: the execution goes on unchecked, within the budget's time.
    Object.assign(typecheckBudget, { timeoutMs: 1_500, memoryBytes: 4 * 1024 ** 3, concurrent: 1 });
    started = Date.now();
    const [first, second] = await Promise.all([execute(heavyCode(40), [shop], { typecheck: true }), execute(heavyCode(40), [shop], { typecheck: true })]);
    assert.equal(first.result, 12);
    assert.equal(second.result, 12);
    // One slot: the second check waited for it and then had what was left of its own 1.5 s.
    assert.ok(Date.now() - started < 6_000, `took ${Date.now() - started} ms`);
  } finally {
    Object.assign(typecheckBudget, saved);
  }
});
