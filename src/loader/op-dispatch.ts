// The host's dispatch of what one worker's sandbox posts (protocol/ops.ts): capability calls,
// fetches, connects, body reads, socket operations, logs, timers, releases and host services,
// each checked against the boundary's list of types as it arrives, charged to the invocations in
// flight and answered into the sandbox only while one is; and the blocking capability call of a
// facet's synchronous storage. A result waits here (postsArrived) for the posts it says came
// before it, so what an invocation did just before returning is charged to it.

import type { Sandbox } from "../engine/sandbox.ts";
import { DataCloneError, SubrequestLimitError } from "../errors.ts";
import { received } from "../protocol/clonable.ts";
import { Op } from "../protocol/ops.ts";
import type { RequestRecord } from "../protocol/records.ts";
import { errorForSandbox } from "../rpc/errors.ts";
import type { Peer } from "../rpc/peer.ts";
import type { HostTimers } from "./host-timers.ts";
import { receivedLog } from "./invocation-logs.ts";
import type { Invocations } from "./invocations.ts";
import { inSpan } from "./tracing.ts";
import type { WorkerEgress } from "./worker-egress.ts";
import { takeStorageAnswer, takeStorageErrorCpu } from "./storage-rows.ts";

/** How long a result waits for the posts it says came before it (they are normally already queued). */
const POSTS_WAIT_MS = 50;

/** One worker's op dispatch. */
export class OpDispatch {
  private readonly postWaiters: { target: number; resolve: () => void }[] = [];

  constructor(
    private readonly sandbox: Sandbox,
    private readonly peer: Peer,
    private readonly invocations: Invocations,
    private readonly egress: WorkerEgress,
    private readonly timers: HostTimers,
    /** A facet's storage capability (its env's FACET_STORAGE_BINDING), whose answers carry the rows each call read and wrote. */
    private readonly storage: object | undefined,
  ) {}

  /** True for a facet's worker: its invocations count the rows their storage calls read and wrote. */
  get meters(): boolean {
    return this.storage !== undefined;
  }

  /**
   * What the sandbox gets of a capability's answer: for the facet's storage, the answer without
   * the rows it carries (storage-rows.ts), which go to invocation `callId` (or to every one in
   * flight when none has that id); any other capability's answer as it is.
   */
  private answerOf(callId: unknown): (target: object, value: unknown) => unknown {
    return (target, value) => {
      if (this.storage === undefined || target !== this.storage) return value;
      const answer = takeStorageAnswer(value);
      this.invocations.countRows(answer.rowsRead, answer.rowsWritten, callId);
      this.sandbox.chargeHostCpu(answer.cpuNs);
      return answer.value;
    };
  }

  /** A failed call of the facet's storage: what it cost the storage process goes to the sandbox's cpuMs. */
  private readonly storageFailed = (target: object, error: unknown): void => {
    if (this.storage !== undefined && target === this.storage) this.sandbox.chargeHostCpu(takeStorageErrorCpu(error));
  };

  /**
   * Resolves once every post the sandbox made before a result has reached post(), so that the
   * logs and fetches an invocation made just before returning are charged to it. A count that never
   * arrives (a forged one, a dead sandbox) gives up after a short wait rather than hang the call.
   */
  postsArrived(target: unknown): Promise<void> | void {
    if (typeof target !== "number" || target <= this.sandbox.postsReceived || !this.sandbox.alive) return;
    return new Promise<void>((resolve) => {
      const waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const index = this.postWaiters.indexOf(waiter);
        if (index >= 0) this.postWaiters.splice(index, 1);
        resolve();
      }, POSTS_WAIT_MS);
      this.postWaiters.push(waiter);
    });
  }

  /** The sandbox died: no post a result waits for will come. */
  releaseWaiters(): void {
    for (const waiter of this.postWaiters.splice(0)) waiter.resolve();
  }

  /** One post from the sandbox. */
  post(op: number, a: unknown, b: unknown, c: unknown, d: unknown): void {
    if (this.postWaiters.length > 0) {
      for (let i = this.postWaiters.length - 1; i >= 0; i--) {
        if (this.postWaiters[i].target <= this.sandbox.postsReceived) this.postWaiters.splice(i, 1)[0].resolve();
      }
    }
    // Posts that are not encoded values (logs, fetch records, service arguments) are held to the
    // boundary's list of types too: a compromised runtime must not hand the host a shared buffer.
    // Their resizable buffers are made fixed-length, as an encoded value's are (clonable.ts).
    if (op === Op.Log) b = receivedLog(b);
    else if (op !== Op.Call) {
      try {
        b = received(b);
        c = received(c);
        d = received(d);
      } catch {
        if (op === Op.Fetch || op === Op.Service || op === Op.BodyRead || op === Op.Connect || op === Op.StubConnect || op === Op.StubFetch || op === Op.SocketWrite || op === Op.SocketEnd || op === Op.SocketStartTls) void this.answer(a, () => Promise.reject(new DataCloneError("A value could not be cloned: it cannot cross the sandbox boundary.")));
        return;
      }
    }
    switch (op) {
      case Op.Call: {
        // Checked as the message arrives, before the next one: a burst of calls with large
        // arguments must not all be held while they wait for their turn.
        let run: (before: () => Promise<void>) => Promise<unknown>;
        try {
          // The runtime calls its storage synchronously; a call made otherwise is counted for every invocation in flight.
          run = this.peer.admitCall(b, c, d, this.answerOf(undefined), this.storageFailed);
        } catch (error) {
          return void this.answer(a, () => Promise.reject(error));
        }
        const capability = typeof c === "string" ? c.slice(0, 128) : "(call)";
        return void this.answer(a, () => inSpan("islet.capability", this.invocations.currentSpan(), { "islet.capability.method": capability }, () => run(() => this.invocations.countSubrequest())));
      }
      case Op.Fetch:
        return void this.answer(a, () => this.invocations.countSubrequest().then(() => this.egress.fetch(a, b as RequestRecord, c === true)));
      case Op.StubFetch: {
        // The capability is looked up as the message arrives, as a call's is.
        const target = this.peer.table.lookup(b);
        return void this.answer(a, () => this.invocations.countSubrequest().then(() => this.egress.fetchThrough(a, target, c as RequestRecord, d === true)));
      }
      case Op.BodyRead:
        return void this.answer(a, () => this.egress.bodies.read(b));
      case Op.BodyCancel:
        return this.egress.bodies.cancel(a);
      case Op.Connect:
        return void this.answer(a, () => this.invocations.countSubrequest().then(() => this.egress.connect(b, c)));
      case Op.StubConnect: {
        // The capability is looked up as the message arrives, as a call's is.
        const target = this.peer.table.lookup(b);
        return void this.answer(a, () => this.invocations.countSubrequest().then(() => this.egress.connectTo(target, c, d)));
      }
      case Op.SocketWrite:
        return void this.answer(a, () => this.egress.write(b, c));
      case Op.SocketEnd:
        return void this.answer(a, () => this.egress.end(b));
      case Op.SocketClose:
        return this.egress.sockets.close(a);
      case Op.SocketStartTls:
        return void this.answer(a, () => this.egress.startTls(b, c));
      case Op.FetchAbort:
        return this.egress.abort(a);
      case Op.Log:
        return this.invocations.log(typeof a === "string" ? a : "log", b as unknown[], c === true, d);
      case Op.TimerSet:
        // Only while an invocation is in flight: nothing runs unwatched.
        if (this.invocations.size > 0) this.timers.set(a, b);
        return;
      case Op.TimerClear:
        return this.timers.clear(a);
      case Op.Release:
        return this.peer.release(a);
      case Op.Service:
        return void this.answer(a, () => this.sandbox.service(b, c));
    }
  }

  /**
   * A capability call the sandbox waits for with its thread blocked (a facet's synchronous
   * storage): checked, counted and run as an asynchronous Op.Call is, answered as the reply itself.
   * `callId`: the invocation whose code made it, as the runtime says (its storage rows go there).
   */
  async blockingPost(op: number, capId: unknown, method: unknown, payload: unknown, callId: unknown): Promise<[number, unknown]> {
    try {
      if (op !== Op.Call) throw new TypeError("Only capability calls can block.");
      if (this.invocations.size === 0) throw new SubrequestLimitError("No invocation is in flight.");
      const run = this.peer.admitCall(capId, method, payload, this.answerOf(callId), this.storageFailed);
      return [1, await run(async () => this.invocations.countBlockingCall())];
    } catch (error) {
      return [0, errorForSandbox(error)];
    }
  }

  /** Settles the sandbox's call `callId` with what `work` resolves to, or its error as the sandbox may see it. */
  private async answer(callId: unknown, work: () => Promise<unknown>): Promise<void> {
    if (typeof callId !== "number") return;
    let reply: [number, unknown];
    try {
      reply = [1, await work()];
    } catch (error) {
      reply = [0, errorForSandbox(error)];
    }
    // A reply that arrives after every invocation ended is dropped: the code waiting for it would run unwatched.
    if (this.invocations.size === 0) return;
    const failed = this.sandbox.send("settle", [callId, reply[0], reply[1], Date.now()]);
    // An answer isolated-vm cannot copy (a WeakRef, a Proxy, a getter) must still settle the call,
    // or the sandbox waits for it until wallMs.
    if (failed !== undefined) {
      const record = { name: "DataCloneError", message: "The host's answer could not be copied into the sandbox: it holds a value the boundary cannot copy (a getter, a Proxy, a WeakRef or another uncloneable object)." };
      this.sandbox.send("settle", [callId, 0, record, Date.now()]);
    }
  }
}
