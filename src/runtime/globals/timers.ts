// Timers are kept by the host's event loop; the isolate only remembers the callbacks. The host
// fires them only while an invocation is in flight, so no code runs outside a watched call.

import { bindAsyncContext } from "../async-context.ts";
import { currentInvocation, enterInvocation, Op, send } from "../bridge.ts";
import { primordials } from "../primordials.ts";

const { Map, MapPrototypeClear, MapPrototypeDelete, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeSet, MathMax, MathMin, Number, NumberIsFinite, PromisePrototypeThen, PromiseResolve, RangeError, ReflectApply, TypeError } = primordials;

interface Timer {
  callback: (...args: unknown[]) => void;
  args: unknown[];
  repeatMs: number; // -1 for setTimeout
  /** The invocation that set it (bridge.ts): its callback runs for that invocation. */
  invocation: number;
}

export const MAX_TIMERS = 10_000;
const timers = new Map<number, Timer>();
let nextTimerId = 1;

function schedule(callback: unknown, delay: unknown, args: unknown[], repeat: boolean): number {
  if (typeof callback !== "function") throw new TypeError("The callback must be a function.");
  if (MapPrototypeGetSize(timers) >= MAX_TIMERS) throw new RangeError(`Too many pending timers (at most ${MAX_TIMERS}).`);
  let ms = Number(delay);
  if (!(ms >= 0) || !NumberIsFinite(ms)) ms = 0;
  ms = MathMin(ms, 2_147_483_647);
  const id = nextTimerId++;
  // With async context on (node:async_hooks), the callback runs in the frame current now.
  MapPrototypeSet(timers, id, { callback: bindAsyncContext(callback as Timer["callback"]), args, repeatMs: repeat ? MathMax(ms, 1) : -1, invocation: currentInvocation() });
  send(Op.TimerSet, id, ms);
  return id;
}

/** For the runtime's own timers (AbortSignal.timeout, scheduler.wait): same rules as the globals. */
export function setTimer(callback: () => void, ms: number): number {
  return schedule(callback, ms, [], false);
}

export function clearTimer(id: number): void {
  clear(id);
}

function clear(id: unknown): void {
  const key = Number(id);
  if (MapPrototypeDelete(timers, key)) send(Op.TimerClear, key);
}

export function fireTimer(id: number): void {
  const timer = MapPrototypeGet(timers, id);
  if (timer === undefined) return;
  if (timer.repeatMs < 0) MapPrototypeDelete(timers, id);
  else send(Op.TimerSet, id, timer.repeatMs);
  enterInvocation(timer.invocation);
  ReflectApply(timer.callback, undefined, timer.args);
}

/** The host dropped all pending timers (the sandbox went idle). */
export function forgetTimers(): void {
  MapPrototypeClear(timers);
}

export function timerGlobals(): [string, unknown][] {
  return [
    ["setTimeout", (callback: unknown, delay?: unknown, ...args: unknown[]) => schedule(callback, delay, args, false)],
    ["setInterval", (callback: unknown, delay?: unknown, ...args: unknown[]) => schedule(callback, delay, args, true)],
    ["clearTimeout", clear],
    ["clearInterval", clear],
    [
      "queueMicrotask",
      (callback: unknown) => {
        if (typeof callback !== "function") throw new TypeError("The callback must be a function.");
        const bound = bindAsyncContext(callback as () => void);
        PromisePrototypeThen(PromiseResolve(), () => bound());
      },
    ],
  ];
}
