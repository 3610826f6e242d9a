// Errors crossing the boundary. From a sandbox: rebuilt with the same name and message, and the
// sandbox's own stack (which names only its modules). To a sandbox: name and message only, so no
// host path or stack frame leaks in.

import { errorFromRecord, type ErrorRecord } from "../runtime/wire.ts";

export function errorFromSandbox(record: unknown): Error {
  return errorFromRecord(record, true);
}

export function errorForSandbox(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    let name = "Error";
    let message = "";
    try {
      name = String(error.name);
      message = String(error.message);
    } catch {
      // A hostile getter on a host error: fall back to the defaults.
    }
    return { name, message };
  }
  return { name: "Error", message: typeof error === "string" ? error : "The host rejected the call." };
}
