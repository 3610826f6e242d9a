// The `islet mcp` config file: validation errors name the field, ${VAR} comes from the environment,
// and values read into env/headers/auth are secrets that redaction scrubs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, parseConfig, redactText, redactValue } from "../../src/codemode/config.ts";
import { tempDir } from "./mcp-upstreams.ts";

const env = { TOKEN: "ghp_0123456789abcdef", SHORT: "abc", DATA_DIR: "/data" };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${(error as Error).name}: ${(error as Error).message}`);
    return `${error.field} | ${error.message}`;
  }
  assert.fail("expected a ConfigError");
}

test("a full config resolves ${VAR}, paths against the config's folder, and collects secrets", () => {
  const config = parseConfig(
    {
      servers: {
        memory: { command: "npx", args: ["-y", "@modelcontextprotocol/server-memory", "${DATA_DIR}/x"], env: { MEMORY_FILE_PATH: "${DATA_DIR}/memory.jsonl", API_KEY: "${TOKEN}" }, cwd: "work" },
        remote: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer ${TOKEN}" }, timeoutMs: 5000, needsApproval: ["delete"] },
      },
      openapi: { github: { spec: "specs/github.json", baseUrl: "https://api.github.com", auth: { value: "token ${TOKEN}" }, timeoutMs: 20_000 } },
      limits: { cpuMs: 1000 },
    },
    { env, baseDir: "/etc/islet" },
  );
  const memory = config.servers.memory as { args: string[]; env: Record<string, string>; cwd: string };
  assert.deepEqual(memory.args, ["-y", "@modelcontextprotocol/server-memory", "/data/x"]);
  assert.equal(memory.env.API_KEY, env.TOKEN);
  assert.equal(memory.cwd, "/etc/islet/work");
  assert.deepEqual(config.servers.remote, { url: "https://mcp.example.com/mcp", headers: { Authorization: `Bearer ${env.TOKEN}` }, timeoutMs: 5000, needsApproval: ["delete"] });
  assert.deepEqual(config.openapi.github, { spec: "/etc/islet/specs/github.json", baseUrl: "https://api.github.com", headers: {}, auth: { header: "Authorization", value: `token ${env.TOKEN}` }, timeoutMs: 20_000 });
  assert.match(fieldOf(() => parseConfig({ openapi: { gh: { spec: "a.json", timeoutMs: 0 } } }, { env })), /^openapi\.gh\.timeoutMs \| .*positive number/);
  assert.deepEqual(config.limits, { cpuMs: 1000 });
  // "/data" came through env too, but it is short (and a path, not a credential).
  assert.deepEqual(config.secrets, [env.TOKEN]);
});

test("validation errors name the field", () => {
  // Every problem at once, missing environment variables included; `field` names the first.
  assert.equal(
    fieldOf(() =>
      parseConfig(
        { servers: { m: { command: "x", args: [1], env: { K: "${MISSING_VAR}" }, timeoutMs: 0 }, h: { url: "ftp://a" } }, openapi: { gh: { spec: "" } }, limits: { cpuMs: 0 }, extra: 1 },
        { env },
      ),
    ),
    "servers.m.args[0] | servers.m.args[0]: must be a string, got number 1; servers.m.env.K: environment variable MISSING_VAR is not set; " +
      "servers.m.timeoutMs: must be a positive number, got number 0; servers.h.url: must be an http(s) URL, got the string \"ftp://a\"; openapi.gh.spec: must not be empty; " +
      "limits.cpuMs: must be a positive number of milliseconds, got 0; extra: unknown field (expected one of: $schema, servers, openapi, limits, sessions, approvals, typecheck)",
  );
  assert.match(fieldOf(() => parseConfig([], { env })), /^ \| must be an object, got an array$/);
  assert.match(fieldOf(() => parseConfig({}, { env })), /^servers \| .*no sources/);
  assert.match(fieldOf(() => parseConfig({ server: {} }, { env })), /^server \| server: unknown field/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { comand: "x" } } }, { env })), /^servers\.m \| .*needs "command"/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", arg: [] } } }, { env })), /^servers\.m\.arg \| .*unknown field \(expected one of: command, args/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", args: "-y" } } }, { env })), /^servers\.m\.args \| .*must be an array of strings/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", args: [1] } } }, { env })), /^servers\.m\.args\[0\] \| .*must be a string, got number 1/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", env: { K: "${MISSING_VAR}" } } } }, { env })), /^servers\.m\.env\.K \| .*environment variable MISSING_VAR is not set/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", url: "http://a" } } }, { env })), /^servers\.m \| .*not both/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { url: "ftp://a" } } }, { env })), /^servers\.m\.url \| .*http\(s\) URL/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x", timeoutMs: -1 } } }, { env })), /^servers\.m\.timeoutMs \| .*positive number/);
  assert.match(fieldOf(() => parseConfig({ servers: { "my tools": { command: "" } } }, { env })), /^servers\["my tools"\]\.command \| .*must not be empty/);
  assert.match(fieldOf(() => parseConfig({ openapi: { gh: {} } }, { env })), /^openapi\.gh\.spec \| .*is required/);
  assert.match(fieldOf(() => parseConfig({ openapi: { gh: { spec: "a.json", auth: { header: "Authorization" } } } }, { env })), /^openapi\.gh\.auth\.value \| .*is required/);
  assert.match(fieldOf(() => parseConfig({ openapi: { gh: { spec: "a.json", auth: { header: "Bad Header", value: "x" } } } }, { env })), /^openapi\.gh\.auth\.header \| .*not a valid header name/);
  assert.match(fieldOf(() => parseConfig({ openapi: { gh: { spec: "a.json", baseUrl: "api.github.com" } } }, { env })), /^openapi\.gh\.baseUrl \| /);
  assert.match(fieldOf(() => parseConfig({ servers: { gh: { command: "x" } }, openapi: { gh: { spec: "a.json" } } }, { env })), /^openapi\.gh \| .*namespace "gh" is used twice/);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x" } }, limits: { cpu: 1 } }, { env })), /^limits\.cpu \| /);
  assert.match(fieldOf(() => parseConfig({ servers: { m: { command: "x" } }, limits: { wallMs: "1s" } }, { env })), /^limits\.wallMs \| .*positive number/);
});

test("loadConfig reports unreadable and malformed files, and resolves against the file's folder", async () => {
  const dir = tempDir("mcp-config");
  try {
    await assert.rejects(loadConfig(join(dir.path, "missing.json")), (error: ConfigError) => error instanceof ConfigError && /no such file/.test(error.message));
    writeFileSync(join(dir.path, "broken.json"), "{ servers: ");
    await assert.rejects(loadConfig(join(dir.path, "broken.json")), /is not valid JSON/);
    writeFileSync(join(dir.path, "ok.json"), JSON.stringify({ openapi: { api: { spec: "./spec.yaml" } } }));
    const config = await loadConfig(join(dir.path, "ok.json"), {});
    assert.equal(config.openapi.api.spec, join(dir.path, "spec.yaml"));
    assert.equal(config.baseDir, dir.path);
  } finally {
    dir.remove();
  }
});

test("redaction scrubs secrets from strings, keys and nested values, keeping types", () => {
  const secrets = [env.TOKEN];
  assert.equal(redactText(`Authorization: Bearer ${env.TOKEN}; again ${env.TOKEN}`, secrets), "Authorization: Bearer [redacted]; again [redacted]");
  const when = new Date(0);
  const input = { list: [`x${env.TOKEN}`, 1, null, when], [env.TOKEN]: true, nested: { map: new Map([["k", env.TOKEN]]), set: new Set([env.TOKEN]) }, error: new TypeError(`bad ${env.TOKEN}`) };
  const output = redactValue(input, secrets) as any;
  assert.deepEqual(output.list, ["x[redacted]", 1, null, when]);
  assert.equal(output["[redacted]"], true);
  assert.equal(output.nested.map.get("k"), "[redacted]");
  assert.deepEqual([...output.nested.set], ["[redacted]"]);
  assert.equal(output.error.name, "TypeError");
  assert.equal(output.error.message, "bad [redacted]");
  assert.ok(!JSON.stringify([...Object.keys(output), output.list]).includes(env.TOKEN));
  const cyclic: any = { a: env.TOKEN };
  cyclic.self = cyclic;
  const copy = redactValue(cyclic, secrets) as any;
  assert.equal(copy.self, copy);
  assert.equal(copy.a, "[redacted]");
  assert.equal(redactValue("untouched", []), "untouched");
});

test("redaction keeps a sparse array's holes and walks only what it holds (findings8/02: an iterator filled 2^32 − 1 indices)", () => {
  const sparse: unknown[] = [];
  sparse[7] = `x${env.TOKEN}`;
  sparse.length = 2 ** 24;
  const started = performance.now();
  const copy = redactValue(sparse, [env.TOKEN]) as unknown[];
  assert.equal(copy.length, 2 ** 24);
  assert.deepEqual(Object.keys(copy), ["7"]);
  assert.equal(copy[7], "x[redacted]");
  sparse.length = 2 ** 32 - 1;
  sparse[2 ** 31] = 1;
  assert.deepEqual(Object.keys(redactValue(sparse, [env.TOKEN]) as unknown[]), ["7", "2147483648"]);
  assert.ok(performance.now() - started < 1_000);
});

test("sessions: a directory resolved against the config's directory; bad values name the field", async () => {
  const { parseConfig } = await import("../../src/codemode/config.ts");
  const config = parseConfig({ servers: { m: { command: "x" } }, sessions: { dir: "state", storageMb: 8 } }, { baseDir: "/srv/app" });
  assert.deepEqual(config.sessions, { dir: "/srv/app/state", storageMb: 8 });
  assert.throws(() => parseConfig({ servers: { m: { command: "x" } }, sessions: { dir: 1, other: true } }), /sessions\.dir: must be a directory path.*sessions\.other: unknown field/);
});
