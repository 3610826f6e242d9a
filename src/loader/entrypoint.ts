// The host-side entrypoint: `fetch` returns a real Response, any other property is an RPC method.

import { remoteCapability } from "../rpc/rpc-target.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { hostResponse, incomingRequest } from "./fetch-records.ts";
import type { Limits } from "./limits.ts";
import type { Invocable, StartCause } from "./backend.ts";
import { InboundPipe, inboundAddress, type InboundSocket } from "./inbound-socket.ts";
import type { HostSocket } from "./code/types.ts";

export interface EntrypointOptions {
  props?: unknown;
  limits?: Limits;
}

/** The instance type of an entrypoint class, or T itself when it is not a class. */
type InstanceOf<T> = T extends abstract new (...args: any) => infer I ? I : T;

/**
 * The methods of a worker's entrypoint T as the host calls them, as Cloudflare's `Fetcher<T>` types
 * them: every call crosses the boundary, so each returns a Promise of its awaited result.
 * Properties that are not methods (and brands typed `never`), symbols, `fetch`, `connect` and `then`
 * are left out.
 */
export type RpcMethods<T> = {
  [K in keyof T as K extends "fetch" | "connect" | "then" | symbol ? never : [T[K]] extends [never] ? never : T[K] extends (...args: any[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * A worker's entrypoint on the host. `fetch` calls the worker's fetch handler; any other property
 * is an RPC method. `getEntrypoint<MyEntrypoint>()` (the class or its instance type) types the
 * methods; without a type argument every name is an untyped method.
 */
export type Entrypoint<T = undefined> = ([T] extends [undefined] ? { [method: string]: (...args: any[]) => Promise<any> } : RpcMethods<InstanceOf<T>>) & {
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Opens a connection to the entrypoint's connect(socket) handler (Cloudflare's connect handler):
   * a Socket whose bytes reach the handler's socket and back. `address` ("host:port" or
   * `{ hostname, port }`) is what the handler's `socket.opened` shows as `localAddress`.
   */
  connect(address?: string | { hostname: string; port: number }): InboundSocket;
};

/** How an entrypoint stub reaches its worker: what a shard needs to hand it a socket of its own (shard/runner.ts). */
const inboundTargets = new WeakMap<object, (socket: HostSocket, localAddress: string | undefined) => Promise<void>>();

/**
 * @internal Calls the connect(socket) handler of the worker behind entrypoint stub `entrypoint`
 * with `socket` (a shard's end of a socket the host holds). Resolves when the handler's invocation ends.
 */
export function connectInbound(entrypoint: object, socket: HostSocket, localAddress: string | undefined): Promise<void> {
  const target = inboundTargets.get(entrypoint);
  if (target === undefined) throw new TypeError("Not an entrypoint.");
  return target(socket, localAddress);
}

/** @internal */
export function createEntrypoint<T = undefined>(acquire: (cause: StartCause) => Promise<Invocable>, entry: string, options: EntrypointOptions): Entrypoint<T> {
  const { props, limits } = options;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    // The body is not read here: the sandbox pulls it chunk by chunk as its code reads (small or
    // already complete bodies cross whole with the request).
    const request = incomingRequest(new Request(input, init));
    let worker: Invocable;
    try {
      worker = await acquire({ entrypoint: entry, method: "fetch" });
    } catch (error) {
      request.body?.cancel().catch(() => {});
      throw error;
    }
    return hostResponse(await worker.fetch(entry, request, props, limits));
  };
  const inbound = async (socket: HostSocket, localAddress: string | undefined, onOpen?: () => void): Promise<void> => {
    const worker = await acquire({ entrypoint: entry, method: "connect" });
    await worker.connect(entry, socket, localAddress, props, limits, onOpen);
  };
  const connect = (address?: string | { hostname: string; port: number }): InboundSocket => {
    const pipe = new InboundPipe(inboundAddress(address));
    inbound(pipe.worker, pipe.address, () => pipe.open()).then(
      () => pipe.handlerEnded(),
      (error: unknown) => pipe.fail(error),
    );
    return pipe.host;
  };
  const fixed = Object.create(null) as Record<string, unknown>;
  fixed.fetch = fetch;
  fixed.connect = connect;
  const stub = targetStub({
    brand: remoteCapability,
    fixed,
    method: (key) => (...args: unknown[]) => {
      const call = acquire({ entrypoint: entry, method: key }).then((worker) => worker.call(entry, key, args, props, limits));
      // The language may call a method by itself (JSON.stringify calls toJSON) and drop the
      // promise: its rejection must not be an unhandled one that ends the host process.
      call.catch(() => {});
      return call;
    },
  }) as Entrypoint<T>;
  inboundTargets.set(stub, (socket, localAddress) => inbound(socket, localAddress));
  return stub;
}
