import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkNode, checkV8, compareVersions, TESTED_V8 } from "../../src/cli/doctor.ts";

const exec = promisify(execFile);
const root = join(import.meta.dirname, "../..");

test("islet doctor --json reports this machine: Node >= 24, a loadable addon, sqlite, and a sandbox that answers", async () => {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "doctor", "--json"], { cwd: root, timeout: 60_000 });
  const report = JSON.parse(stdout) as { checks: { name: string; status: string; detail: string }[] };
  const byName = new Map(report.checks.map((check) => [check.name, check]));
  assert.deepEqual([...byName.keys()], ["Node.js", "V8", "isolated-vm", "addon", "addon loads", "permission model", "node:sqlite", "sandbox"]);
  assert.equal(byName.get("Node.js")!.detail, process.version);
  assert.ok(byName.get("V8")!.detail.startsWith(process.versions.v8));
  assert.match(byName.get("isolated-vm")!.detail, /^7\./);
  assert.match(byName.get("addon")!.detail, /^(prebuilt|compiled from source|found): .*isolated-vm.*\.node$/);
  for (const name of ["Node.js", "isolated-vm", "addon", "addon loads", "permission model", "node:sqlite", "sandbox"]) {
    assert.equal(byName.get(name)!.status, "ok", `${name}: ${byName.get(name)!.detail}`);
  }
});

test("doctor judges versions: Node < 24 fails, an older V8 patch of a tested line warns", () => {
  assert.equal(checkNode("v20.20.2").status, "fail");
  assert.equal(checkNode("v22.12.0").status, "fail");
  assert.equal(checkNode("v24.0.0").status, "ok");
  assert.equal(checkNode("v26.12.1").status, "ok");
  assert.equal(compareVersions("13.6.233.10-node.20", "13.6.233.17"), -1);
  assert.equal(compareVersions("13.6.233.17-node.63", "13.6.233.17"), 0);
  const [line, tested] = Object.entries(TESTED_V8)[0];
  assert.equal(checkV8(`${tested}-node.1`).status, "ok");
  const older = tested.split(".").map(Number);
  older[3] -= 1;
  const warn = checkV8(older.join("."));
  assert.equal(warn.status, "warn");
  assert.match(warn.detail, new RegExp(`older than ${tested.replaceAll(".", "\\.")}, the newest ${line.replace(".", "\\.")} release`));
  assert.equal(checkV8("12.4.254.21").status, "warn");
});
