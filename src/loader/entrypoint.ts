// The host-side entrypoint: `fetch` returns a real Response, any other property is an RPC method.

import { markFetcher, remoteCapability } from "../rpc/rpc-target.ts";
import { targetStub } from "../protocol/cap-table.ts";
import { hostResponse, incomingRequest, type WorkerResponse } from "./fetch-records.ts";
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
    const request = new Request(input, init);
    const signal = request.signal;
    if (signal.aborted) {
      request.body?.cancel(signal.reason).catch(() => {});
      throw signal.reason;
    }
    // The body is not read here: the sandbox pulls it chunk by chunk as its code reads (small or
    // already complete bodies cross whole with the request).
    return abortableFetch(input, request, signal, async (gaveUp) => {
      let worker: Invocable;
      try {
        worker = await acquire({ entrypoint: entry, method: "fetch" });
        // Given up on while the worker started: its handler is not called.
        gaveUp.throwIfAborted();
      } catch (error) {
        request.body?.cancel().catch(() => {});
        throw error;
      }
      return worker.fetch(entry, incomingRequest(request), props, limits, gaveUp);
    });
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
  // Handed to a sandbox, it is a service binding: the sandbox's `stub.connect()` reaches `connect` above.
  markFetcher(stub);
  return stub;
}

/**
 * A fetch of a worker's handler that its caller can give up on, as Fetch's fetch() can: when the
 * Request's signal aborts before the response (or its body) is complete, the call rejects at once
 * with the signal's reason (a body already handed over errors with it), a response that arrives
 * later has its body cancelled, and `gaveUp`, which the backend is given, aborts: the worker's
 * handler sees its `request.signal` abort while its invocation is in flight, so that what it
 * passed the signal on to (its own fetch(request)) ends too (findings21/01: with a worker's
 * entrypoint as another worker's globalOutbound, that worker's pending fetches outlived it).
 */
function abortableFetch(input: unknown, request: Request, signal: AbortSignal, send: (gaveUp: AbortSignal) => Promise<WorkerResponse>): Promise<Response> {
  const gaveUp = new AbortController();
  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    const onAbort = () => {
      gaveUp.abort(signal.reason);
      if (!answered) reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    // Holds the Requests until the response is complete: undici's Request follows its input's
    // signal through a WeakRef to its own controller, which only the Request holds, so a Request
    // collected meanwhile would never see its caller abort.
    const detach = () => {
      void input;
      void request;
      signal.removeEventListener("abort", onAbort);
    };
    send(gaveUp.signal).then(
      (record) => {
        if (signal.aborted) {
          detach();
          if (record.body instanceof ReadableStream) record.body.cancel(signal.reason).catch(() => {});
          return;
        }
        answered = true;
        if (record.body instanceof ReadableStream) record.body = abortableBody(record.body, signal, detach, gaveUp);
        else detach();
        try {
          resolve(hostResponse(record));
        } catch (error) {
          if (record.body instanceof ReadableStream) record.body.cancel().catch(() => {});
          detach();
          reject(error);
        }
      },
      (error: unknown) => {
        detach();
        reject(error);
      },
    );
  });
}

/**
 * A response body still streaming from the worker, handed to the caller: when the request's
 * signal aborts before the body ends, the caller's reads fail with the signal's reason and the
 * worker's body is cancelled (after `gaveUp` has told the handler). `detach` runs once the body
 * has ended, failed, been cancelled or been aborted.
 */
function abortableBody(body: ReadableStream<Uint8Array>, signal: AbortSignal, detach: () => void, gaveUp: AbortController): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    signal.removeEventListener("abort", onAbort);
    detach();
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onAbort = () => {
    gaveUp.abort(signal.reason);
    finish();
    controller.error(signal.reason);
    reader.cancel(signal.reason).catch(() => {});
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          finish();
          throw error;
        }
        if (finished) return; // aborted meanwhile: the stream is errored already
        if (chunk.done) {
          finish();
          c.close();
        } else c.enqueue(chunk.value);
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
