// What a Code Mode tool result shows a model: a budget counted in tokens as well as characters,
// JSON that stays valid however it is cut with a note of what was left out, and logs with a
// budget of their own that keeps their first and last lines.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { toolResult } from "../../src/codemode/mcp-server.ts";
import { estimateTokens } from "../../src/codemode/token-estimate.ts";

const shown = (outcome: Parameters<typeof toolResult>[0], budget?: Parameters<typeof toolResult>[1]) => (toolResult(outcome, budget).content[0] as { text: string }).text;

test("the token estimate stays within 0.9–1.35× of o200k_base's count, for prose, JSON, code, base64, hex, ids, numbers and Japanese", () => {
  const samples: Record<string, string> = {
    prose: readFileSync(new URL("../../README.md", import.meta.url), "utf8").slice(0, 50_000),
    json: JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, node_id: `MDU6SXNzdWUx${i}`, title: `Fix the build on ${i % 3 ? "Linux" : "macOS"}`, state: "open", labels: [{ name: "bug", color: "d73a4a" }], created_at: "2026-11-30T12:00:00Z" }))),
    code: readFileSync(new URL("../../src/codemode/search.ts", import.meta.url), "utf8"),
    base64: randomBytes(30_000).toString("base64"),
    hex: randomBytes(20_000).toString("hex"),
    uuids: JSON.stringify(Array.from({ length: 1_000 }, () => crypto.randomUUID())),
    numbers: JSON.stringify(Array.from({ length: 5_000 }, (_, i) => (i * 7919) % 100_003)),
    japanese: "日本語のテキストはトークンが多くなります。これは東京で書かれた文章です。".repeat(300),
  };
  for (const [name, text] of Object.entries(samples)) {
    const ratio = estimateTokens(text) / encode(text).length;
    assert.ok(ratio >= 0.9 && ratio <= 1.35, `${name}: estimate / real = ${ratio.toFixed(2)}`);
  }
});

test("a large result is cut to the token budget, stays valid JSON, and says what was left out", () => {
  const issues = Array.from({ length: 1_000 }, (_, i) => ({ id: i, title: `Issue ${i}`, body: "x".repeat(200) }));
  const text = shown({ result: { total: 1_000, items: issues } }, { tokens: 2_000 });
  const [json, note] = text.split("\n[cut to fit 2,000 tokens: ");
  const value = JSON.parse(json) as { total: number; items: { id: number }[] };
  assert.equal(value.total, 1_000);
  assert.ok(value.items.length > 5 && value.items.length < 1_000, `${value.items.length} items`);
  assert.match(note, new RegExp(`\\$\\.items shows ${value.items.length} of 1,000 items; return less, e\\.g\\. filter or slice in the code\\]$`));
  assert.ok(encode(json).length <= 2_000, `${encode(json).length} real tokens`);
  // Tokens, not characters: 40,000 characters of base64 are some 27,000 tokens; the budget cuts them far earlier.
  const base64 = shown({ result: { blob: randomBytes(30_000).toString("base64") } }, { tokens: 2_000 });
  const [blobJson] = base64.split("\n[cut");
  assert.ok(JSON.parse(blobJson).blob.endsWith("…"));
  assert.ok(blobJson.length < 4_000 && encode(blobJson).length <= 2_000, `${blobJson.length} characters, ${encode(blobJson).length} tokens`);
  assert.match(base64, /\$\.blob: a string cut at [\d,]+ of 40,000 characters/);
  // A result that fits is JSON.stringify's, untouched.
  assert.equal(shown({ result: { a: [1, "two"] } }), '{"a":[1,"two"]}');
});

test("logs have their own budget: shown after a result of any size, their first and last lines kept", () => {
  const logs = Array.from({ length: 5_000 }, (_, i) => `step ${i} done`);
  logs.push("[error] the last step failed: quota exceeded");
  const text = shown({ result: { data: "y".repeat(100_000) }, logs });
  const [, logPart] = text.split("\n\nLogs:\n");
  const lines = logPart.split("\n");
  assert.equal(lines[0], "step 0 done");
  assert.equal(lines.at(-1), "[error] the last step failed: quota exceeded", "the end of the run is there");
  assert.ok(lines.some((line) => /^\[… [\d,]+ log lines left out …\]$/.test(line)));
  assert.ok(estimateTokens(logPart) <= 2_100);
});
