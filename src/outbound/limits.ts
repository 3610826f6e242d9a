// Size and time limits on outbound traffic, enforced on the host before anything reaches the
// sandbox: a large upstream body cannot fill the sandbox's memory, a slow one cannot hold it.

import { OutboundError } from "../errors.ts";
import type { OutboundPolicy } from "./index.ts";

export interface BodyLimits {
  /** Largest request body the sandbox may send. */
  maxRequestBytes?: number;
  /** Largest response body handed back to the sandbox. */
  maxResponseBytes?: number;
  /** Time for the whole exchange, headers and body. */
  timeoutMs?: number;
}

export function limitBodies(limits: BodyLimits): OutboundPolicy {
  const { maxRequestBytes = Infinity, maxResponseBytes = Infinity, timeoutMs } = limits;
  return async (request, next) => {
    let outgoing = request;
    if (request.body !== null && Number.isFinite(maxRequestBytes)) {
      const bytes = await readLimited(request.body, maxRequestBytes, "request");
      outgoing = new Request(request, { body: bytes });
    }
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signal = timeout === undefined ? request.signal : AbortSignal.any([request.signal, timeout]);
    const exchange = async () => {
      const response = await next(new Request(outgoing, { signal }));
      if (response.body === null || !Number.isFinite(maxResponseBytes)) return response;
      const length = Number(response.headers.get("content-length"));
      if (Number.isFinite(length) && length > maxResponseBytes) throw tooLarge("response", maxResponseBytes);
      const bytes = await readLimited(response.body, maxResponseBytes, "response");
      return new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
    if (timeout === undefined) return exchange();
    return Promise.race([
      exchange(),
      new Promise<never>((_, reject) => timeout.addEventListener("abort", () => reject(new OutboundError(`The outbound request took longer than ${timeoutMs} ms.`)), { once: true })),
    ]);
  };
}

function tooLarge(which: string, max: number): OutboundError {
  return new OutboundError(`The outbound ${which} body is larger than the limit of ${max} bytes.`);
}

async function readLimited(body: ReadableStream<Uint8Array>, max: number, which: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(which, max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
