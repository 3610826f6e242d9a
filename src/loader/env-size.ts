// The bound on a worker's env (WorkerLoader's maxEnvBytes; Cloudflare's is 1 MiB). What is measured
// is the copy the sandbox gets: env encoded for the boundary, capabilities cut out, serialized by
// V8 as workerd measures it (strings one byte a character when Latin-1, two otherwise).

import { serialize } from "node:v8";
import { WorkerCodeError } from "../errors.ts";
import type { Encoded } from "../protocol/wire.ts";

/** Cloudflare's bound on a Dynamic Worker's env. */
export const DEFAULT_MAX_ENV_BYTES = 1024 * 1024;

/** The serialized size of an encoded env, or undefined when V8 cannot serialize it (its copy then fails on its own). */
export function envBytes(encoded: Encoded): number | undefined {
  try {
    return serialize(encoded[0]).byteLength;
  } catch {
    return undefined;
  }
}

/** Refuses an env whose copy is larger than `maxBytes`, before anything of it reaches a sandbox. */
export function checkEnvSize(encoded: Encoded, maxBytes: number): void {
  const size = envBytes(encoded);
  if (size === undefined || size <= maxBytes) return;
  throw new WorkerCodeError(
    `env is too large: its copy is ${size} bytes, more than the ${maxBytes} bytes this loader allows (its maxEnvBytes option; Cloudflare's bound is 1 MiB). ` +
      "Hand large data to the worker as a module ({ data } or { json }) or through a capability instead.",
  );
}
