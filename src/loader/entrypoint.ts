// The host-side entrypoint: `fetch` returns a real Response, any other property is an RPC method.

import { remoteCapability } from "../rpc/rpc-target.ts";
import type { ResponseRecord } from "../runtime/web/fetch.ts";
import { hostResponse, requestRecord } from "./fetch-records.ts";
import type { Limits } from "./limits.ts";
import type { Worker } from "./worker.ts";

export interface EntrypointOptions {
  props?: unknown;
  limits?: Limits;
}

export type Entrypoint = {
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
} & { [method: string]: (...args: any[]) => Promise<any> };

export function createEntrypoint(acquire: () => Promise<Worker>, entry: string, options: EntrypointOptions): Entrypoint {
  const { props, limits } = options;
  const methods = new Map<string, unknown>();
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const record = await requestRecord(new Request(input, init));
    const worker = await acquire();
    return hostResponse((await worker.fetch(entry, record, props, limits)) as ResponseRecord);
  };
  return new Proxy(Object.create(null) as Entrypoint, {
    get(_target, key) {
      if (key === remoteCapability) return true;
      if (typeof key !== "string" || key === "then") return undefined;
      if (key === "fetch") return fetch;
      let method = methods.get(key);
      if (method === undefined) {
        method = (...args: unknown[]) => {
          const call = acquire().then((worker) => worker.call(entry, key, args, props, limits));
          // The language may call a method by itself (JSON.stringify calls toJSON) and drop the
          // promise: its rejection must not be an unhandled one that ends the host process.
          call.catch(() => {});
          return call;
        };
        methods.set(key, method);
      }
      return method;
    },
    set() {
      return false;
    },
  });
}
