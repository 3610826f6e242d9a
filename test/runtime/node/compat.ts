// Shared by the node chunk's differential tests: the chunk's modules (bound to real host services
// by ../platform.ts) and a way to compare results, errors included, with Node's own modules.

import "../platform.ts";
import { nodeModule } from "../../../src/runtime/node/modules.ts";

export { nodeModule };

export type Outcome = { value: unknown } | { error: string; code?: unknown; message: string };

/** What a call returns (bytes as arrays), or the class, code and message of what it throws. */
export function outcome(run: () => unknown): Outcome {
  try {
    return { value: plain(run()) };
  } catch (error) {
    const { constructor, code, message } = error as Error & { code?: unknown };
    return { error: constructor.name, code, message };
  }
}

function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

