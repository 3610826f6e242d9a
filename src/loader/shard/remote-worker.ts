// A worker as the host sees it in sharded isolation: which shard (slot) it lives in, how to
// (re)make its code, and its calls and fetches sent to that shard. A request body still arriving
// stays here and the shard pulls it; a response body stays in the shard and is pulled from here
// as the caller reads it.

import { WorkerDisposedError } from "../../errors.ts";
import { received } from "../../protocol/clonable.ts";
import type { GetCode, Invocable } from "../backend.ts";
import type { HostSocket, StreamingTail, TailReceiver } from "../code/types.ts";
import type { IncomingRequest, WorkerResponse } from "../fetch-records.ts";
import { HostBody } from "../host-body.ts";
import type { Limits } from "../limits.ts";
import type { Connection, Slot } from "./connection.ts";
import type { ShardKind } from "./kind.ts";
import { EAGER_BODY_BYTES, type ShardRequestRecord, type ShardResponseRecord } from "./protocol.ts";

/** What a remote worker needs of its pool. */
export interface RemoteWorkerPool {
  readonly kind: ShardKind;
  /** The slot's live shard, or the one its restart will bring. */
  connection(slot: Slot): Connection | Promise<Connection>;
}

/** A worker as the host sees it: which shard it lives in, and how to (re)make its code. */
export class RemoteWorker implements Invocable {
  tails: readonly TailReceiver[] = [];
  streamingTails: readonly StreamingTail[] = [];
  /** Its memoryMb, once its code was sent (the budget of its host calls' arguments here, see Link.call). */
  memoryMb: number | undefined;
  /** How many times dispose() was called: a response body streamed before one fails its later reads (see pulledResponse). */
  disposals = 0;
  /** The package bundles its code was last sent with, by id: what its shard may ask for ("packageSources"). */
  packageSources = new Map<string, string>();

  constructor(
    private readonly pool: RemoteWorkerPool,
    readonly key: string,
    readonly named: boolean,
    public getCode: GetCode,
    readonly slot: Slot,
  ) {}

  async call(entry: string, method: string, args: unknown[], props: unknown, limits: Limits | undefined): Promise<unknown> {
    const conn = await this.pool.connection(this.slot);
    const encodedArgs = conn.link.encode(args, this.key);
    const encodedProps = conn.link.encode(props ?? {}, this.key);
    const scope = conn.openCallScope();
    try {
      const result = await conn.request("call", [this.key, this.named, entry, method, encodedArgs, encodedProps, limits, scope]);
      return conn.link.decode(result);
    } finally {
      conn.callScopes.delete(scope);
    }
  }

  /**
   * An inbound connection's worker end stays here, in the shard's table of sockets on the host (as
   * a socket its sandboxes opened): the shard reads and writes it with the socket requests.
   */
  async connect(entry: string, socket: HostSocket, localAddress: string | undefined, props: unknown, limits: Limits | undefined, onOpen?: () => void): Promise<void> {
    const conn = await this.pool.connection(this.slot);
    const encodedProps = conn.link.encode(props ?? {}, this.key);
    const answer = conn.sockets.adopt(socket, { localAddress });
    const scope = conn.openCallScope();
    try {
      onOpen?.();
      await conn.request("connect", [this.key, this.named, entry, answer, encodedProps, limits, scope]);
    } catch (error) {
      // The handler failed (or never ran): the caller's end fails with its error rather than ends.
      socket.abandon?.();
      throw error;
    } finally {
      conn.callScopes.delete(scope);
      conn.sockets.close(answer.socket);
    }
  }

  /**
   * The request body stays here when it is still arriving: the shard pulls it a chunk at a time
   * ("bodyRead"), as the sandbox reads it, and cancels it ("bodyCancel") when its invocation ends.
   * When `signal` aborts before the response's body has ended, the shard is told ("fetchAbort",
   * by the call's scope): the handler's `request.signal` aborts there.
   */
  async fetch(entry: string, request: IncomingRequest, props: unknown, limits: Limits | undefined, signal?: AbortSignal): Promise<WorkerResponse> {
    const { body: stream, ...head } = request;
    const record: ShardRequestRecord = { ...head, body: null };
    let body = stream === null ? undefined : new HostBody(stream.getReader());
    let conn: Connection | undefined;
    let scope: number | undefined;
    let sent = false;
    const onAbort = () => {
      if (sent && scope !== undefined) conn?.channel.notify("fetchAbort", scope);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    /** Whether the response's body still streams (the signal is then let go of when it ends). */
    let streaming = false;
    try {
      conn = await this.pool.connection(this.slot);
      scope = conn.openCallScope();
      const encodedProps = conn.link.encode(props ?? {}, this.key);
      if (body !== undefined) {
        const whole = await body.readAvailable(EAGER_BODY_BYTES);
        if (whole !== undefined) {
          record.body = whole;
          body = undefined;
        } else {
          const open = body;
          body = undefined;
          record.bodyId = conn.bodies.add(open, (max) => new TypeError(`Too many bodies open in this sandbox ${this.pool.kind.noun} (at most ${max}).`));
        }
      }
      // Given up on before the handler was called: it is not called.
      signal?.throwIfAborted();
      sent = true;
      // A shard's messages are checked as a sandbox's are (received: the listed types, no resizable buffers).
      const response = received(await conn.request("fetch", [this.key, this.named, entry, record, encodedProps, limits, scope])) as ShardResponseRecord;
      const { bodyId, ...head } = response;
      if (typeof bodyId !== "number") return head;
      streaming = signal !== undefined;
      return { ...head, body: pulledResponse(conn, bodyId, this, () => signal?.removeEventListener("abort", onAbort)) };
    } catch (error) {
      // The shard lets go of a body it was handed when its invocation ends; one the call never reached is let go here.
      if (record.bodyId !== undefined) conn?.releaseBody(record.bodyId);
      throw error;
    } finally {
      if (!streaming) signal?.removeEventListener("abort", onAbort);
      if (scope !== undefined) conn?.callScopes.delete(scope);
      body?.cancel();
    }
  }
}

/**
 * A worker's response body kept in its shard, pulled a chunk at a time as the caller reads
 * (highWaterMark 0: nothing is asked for ahead of a read). Cancelling it cancels the shard's
 * reader; the shard's death fails the read with the shard's named error, and the worker's
 * dispose() fails it with WorkerDisposedError, as in-process: a body cut off is never an end
 * (findings5/06). A read on its way when the shard handles the dispose is failed there; a later one
 * is failed here, as the shard no longer has the body.
 */
function pulledResponse(conn: Connection, bodyId: number, worker: RemoteWorker, ended: () => void): ReadableStream<Uint8Array> {
  const disposals = worker.disposals;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (worker.disposals !== disposals) throw new WorkerDisposedError("The worker was disposed while its response body was being read.");
          const chunk = received(await conn.request("responseRead", bodyId)) as Uint8Array | null;
          if (chunk === null) {
            ended();
            controller.close();
          } else if (chunk instanceof Uint8Array) controller.enqueue(chunk);
          else throw new TypeError("Received non-Uint8Array chunk");
        } catch (error) {
          ended();
          throw error;
        }
      },
      cancel() {
        ended();
        conn.channel.notify("responseCancel", bodyId);
      },
    },
    { highWaterMark: 0 },
  );
}
