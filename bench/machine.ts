// What the results were measured on.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { WORKERD_BIN } from "./peers/workerd.ts";

const version = (pkg: string) => {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version as string;
  } catch {
    return "not installed";
  }
};

export function machineInfo(): Record<string, string | number> {
  let workerd = "unavailable";
  try {
    workerd = `${execFileSync(WORKERD_BIN, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim()} (npm ${version("workerd")})`;
  } catch (e) {
    workerd = `unavailable (${(e as Error).message.split("\n")[0]})`;
  }
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    "isolated-vm": version("isolated-vm"),
    workerd,
    "quickjs-emscripten": version("quickjs-emscripten"),
    capnweb: version("capnweb"),
    "load average at start": os.loadavg().map((l) => l.toFixed(2)).join(", "),
  };
}
