// RPC round trips on a live worker (the canonical WorkerEntrypoint worker): islet vs capnweb over a MessageChannel. Samples in µs.

import { capnwebRpc } from "./peers/capnweb.ts";
import { ivmRpc } from "./peers/ivm.ts";
import { PLAIN_WORKER, isletRpc } from "./islet.ts";
import { now, repeatedCalls, type Subject } from "./stats.ts";

type Rpc = Awaited<ReturnType<typeof isletRpc>>;

export const BIG = "x".repeat(64 * 1024);
export const CALLBACKS_PER_CALL = 100;
export const BIG_CALLBACKS_PER_CALL = 20;

export type RpcKind = "small" | "64KB" | "callback" | "callback-64KB";

function subject(name: string, open: () => Promise<Rpc>, kind: RpcKind, perRound: number): Subject {
  let rpc: Rpc | undefined;
  const cb = (i: number) => i + 1;
  const mirror = (s: string) => s;
  const once = async (): Promise<number> => {
    if (kind === "callback") {
      const t = now();
      const acc = await rpc!.callback(CALLBACKS_PER_CALL, cb);
      const per = ((now() - t) * 1000) / CALLBACKS_PER_CALL;
      if (acc !== (CALLBACKS_PER_CALL * (CALLBACKS_PER_CALL + 1)) / 2) throw new Error(`${name}: wrong callback sum ${acc}`);
      return per;
    }
    if (kind === "callback-64KB") {
      const t = now();
      const length = await rpc!.relay(BIG_CALLBACKS_PER_CALL, mirror, BIG);
      const per = ((now() - t) * 1000) / BIG_CALLBACKS_PER_CALL;
      if (length !== BIG_CALLBACKS_PER_CALL * BIG.length) throw new Error(`${name}: wrong relayed length ${length}`);
      return per;
    }
    const arg = kind === "small" ? { a: 1, b: "two" } : BIG;
    const t = now();
    const res = kind === "small" ? await rpc!.ping(arg) : await rpc!.echo(arg as string);
    const us = (now() - t) * 1000;
    if (kind === "64KB" && (res as string).length !== BIG.length) throw new Error(`${name}: wrong echo`);
    return us;
  };
  return repeatedCalls({
    name,
    perRound,
    note:
      kind === "callback"
        ? `one call awaiting ${CALLBACKS_PER_CALL} host callbacks, divided`
        : kind === "callback-64KB"
          ? `one call awaiting ${BIG_CALLBACKS_PER_CALL} host callbacks, each taking and returning 64 KB, divided`
          : undefined,
    warmups: 20,
    open: async () => void (rpc = await open()),
    once,
    close: async () => void (await rpc?.close()),
  });
}

export function rpcSubjects(kind: RpcKind, perRound: number): Subject[] {
  const n = kind === "callback" || kind === "callback-64KB" ? Math.max(2, Math.round(perRound / 20)) : perRound;
  // "islet" is the canonical WorkerEntrypoint worker (issue 17's fixture); the plain object worker
  // beside it shows whether the class costs anything per call.
  const subjects = [subject("islet", () => isletRpc(true), kind, n), subject("capnweb (MessageChannel)", capnwebRpc, kind, n)];
  if (kind === "small" || kind === "callback") subjects.splice(1, 0, subject(`islet, ${PLAIN_WORKER}`, () => isletRpc(false), kind, n));
  if (kind === "small" || kind === "64KB") subjects.push(subject("isolated-vm bare apply (floor)", ivmRpc as () => Promise<Rpc>, kind, n));
  return subjects;
}
