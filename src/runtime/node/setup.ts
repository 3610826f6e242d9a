// nodejs_compat on the core's side: bundled into every sandbox's runtime, so it stays tiny. With
// the flag it defines the Buffer and process globals as lazy accessors; the node chunk itself
// loads on first use and first receives the worker's string env values (process.env).

import { defineLazy } from "../globals/lazy.ts";
import { node } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { Error, ObjectKeys } = primordials;

/** The string entries of the worker's env; undefined while the flag is off. */
let processEnv: Record<string, string> | undefined;
let configured = false;

function nodeChunk(): ReturnType<typeof node> {
  const chunk = node();
  if (!configured) {
    configured = true;
    chunk.setProcessEnv(processEnv ?? {});
  }
  return chunk;
}

export function enableNodeCompat(global: Record<string, unknown>, env: Record<string, unknown>): void {
  const strings: Record<string, string> = {};
  for (let i40 = 0, a40 = ObjectKeys(env); i40 < a40.length; i40++) {
    const key = a40[i40];
    const value = env[key];
    if (typeof value === "string") strings[key] = value;
  }
  processEnv = strings;
  defineLazy(global, "Buffer", () => nodeChunk().Buffer);
  defineLazy(global, "process", () => nodeChunk().getProcess());
}

/** Backs the synthetic `node:*` modules (see src/loader/node-compat.ts). */
export function nodeModule(name: string): unknown {
  if (processEnv === undefined) throw new Error("Node.js built-in modules need the nodejs_compat compatibility flag.");
  return nodeChunk().nodeModule(name);
}
