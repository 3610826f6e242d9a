// fetch() inside the sandbox: the request is copied to the host, which hands it to the worker's
// globalOutbound (or refuses it). Nothing here can open a connection by itself.

import { Op, request } from "../bridge.ts";
import { web } from "../chunks.ts";
import type { ResponseRecord } from "../web/fetch.ts";

export async function fetch(input: unknown, init?: unknown): Promise<unknown> {
  const { Request, requestToRecord, responseFromRecord } = web();
  const outgoing = new Request(input as never, init as never);
  const record = await requestToRecord(outgoing);
  const answer = (await request(Op.Fetch, record)) as ResponseRecord;
  return responseFromRecord(answer);
}
