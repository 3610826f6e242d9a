// What `islet doctor` reports about isolated-vm: its version, where its native addon came from
// (a prebuild or a local compile) and whether it loads. Loaded on demand, so a broken addon is
// reported rather than thrown at import time.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type CheckStatus = "ok" | "warn" | "fail";
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

export function checkAddon(): Check[] {
  const require = createRequire(import.meta.url);
  let packageFile: string;
  try {
    packageFile = require.resolve("isolated-vm/package.json");
  } catch (error) {
    return [{ name: "isolated-vm", status: "fail", detail: `not installed: ${(error as Error).message.split("\n")[0]}` }];
  }
  const root = dirname(packageFile);
  const version = (JSON.parse(readFileSync(packageFile, "utf8")) as { version: string }).version;
  const checks: Check[] = [{ name: "isolated-vm", status: version.startsWith("7.") ? "ok" : "warn", detail: version }];
  // node-gyp-build prefers a local build (build/Release) over the package's prebuilds/.
  let addon: string | undefined;
  try {
    const gypBuild = createRequire(packageFile)("node-gyp-build") as { path(dir: string): string };
    addon = gypBuild.path(root);
  } catch (error) {
    checks.push({ name: "addon", status: "fail", detail: `no addon for Node ${process.version} ${process.platform}-${process.arch}: ${(error as Error).message.split("\n")[0]}` });
    return checks;
  }
  const prebuilt = addon.startsWith(join(root, "prebuilds"));
  const built = existsSync(join(root, "build", "Release"));
  checks.push({ name: "addon", status: "ok", detail: `${prebuilt ? "prebuilt" : built ? "compiled from source" : "found"}: ${addon}` });
  try {
    const ivm = require("isolated-vm") as typeof import("isolated-vm");
    const isolate = new ivm.Isolate({ memoryLimit: 8 });
    const answer = isolate.createContextSync().evalSync("6 * 7");
    isolate.dispose();
    if (answer !== 42) throw new Error(`an isolate answered ${String(answer)} to 6 * 7`);
    checks.push({ name: "addon loads", status: "ok", detail: "an isolate evaluates code" });
  } catch (error) {
    checks.push({ name: "addon loads", status: "fail", detail: (error as Error).message.split("\n")[0] });
  }
  return checks;
}

