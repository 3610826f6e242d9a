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
    return serialize(encoded[0]).byteLength + hiddenBufferBytes(encoded[0]);
  } catch {
    return undefined;
  }
}

/**
 * Node's serializer writes only the bytes a typed array or DataView shows, but the sandbox's copy
 * (isolated-vm's) carries each view's whole ArrayBuffer: a 1-byte view over 64 MiB crossed as
 * 64 MiB (findings14/05). Each buffer's bytes beyond what its views show count too, once.
 */
function hiddenBufferBytes(root: unknown): number {
  const seen = new Set<object>();
  const shown = new Map<ArrayBufferLike, number>();
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      shown.set(value.buffer, (shown.get(value.buffer) ?? 0) + value.byteLength);
      continue;
    }
    if (value instanceof ArrayBuffer) continue;
    if (value instanceof Map) for (const [key, item] of value) pending.push(key, item);
    else if (value instanceof Set) for (const item of value) pending.push(item);
    else for (const key of Object.keys(value)) pending.push((value as Record<string, unknown>)[key]);
  }
  let hidden = 0;
  for (const [buffer, bytes] of shown) hidden += Math.max(0, buffer.byteLength - bytes);
  return hidden;
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
