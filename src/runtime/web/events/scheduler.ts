// The `scheduler` global of Cloudflare Workers: scheduler.wait(ms, { signal }) is a promise
// version of setTimeout that an AbortSignal can cut short. Its timer is a runtime timer, so it
// fires only while an invocation is in flight, like setTimeout's.

import { brandPlatformObject, clearTimer, setTimer } from "../../platform.ts";
import { toDictionary } from "../webidl.ts";
import { abortReason, addAbortAlgorithm, isAbortSignal, removeAbortAlgorithm } from "./abort-signal.ts";
import { defineInterface } from "./idl.ts";
import { primordials } from "../../primordials.ts";

const { FunctionPrototypeBind, MathMin, Promise, PromiseReject, TypeError } = primordials;

const PromiseConstructor = Promise;
const rejected = FunctionPrototypeBind(PromiseReject, Promise);
const min = MathMin;

const MAX_TIMER_MS = 2_147_483_647;

let hasBrand: (value: object) => boolean;

class Scheduler {
  #brand = true;

  static {
    hasBrand = (value) => #brand in value;
  }

  constructor() {
    brandPlatformObject(this, "Scheduler");
  }

  wait(delay: unknown = undefined, options: unknown = undefined): Promise<void> {
    // Like every promise-returning Web IDL operation, a bad argument rejects instead of throwing.
    try {
      if (!isScheduler(this)) throw new TypeError("Illegal invocation: wait() must be called on the scheduler.");
      let ms = +(delay as number);
      if (!(ms >= 0)) ms = 0;
      const signal = toDictionary(options, "WaitOptions").signal;
      if (signal !== undefined && !isAbortSignal(signal)) throw new TypeError("scheduler.wait(): options.signal is not an AbortSignal.");
      if (signal !== undefined && abortReason(signal) !== undefined) return rejected(abortReason(signal));
      return new PromiseConstructor<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimer(timer);
          reject(abortReason(signal!));
        };
        const timer = setTimer(() => {
          if (signal !== undefined) removeAbortAlgorithm(signal, onAbort);
          resolve();
        }, min(ms, MAX_TIMER_MS));
        if (signal !== undefined) addAbortAlgorithm(signal, onAbort);
      });
    } catch (error) {
      return rejected(error);
    }
  }
}

defineInterface(Scheduler, "Scheduler", { length: 0 });

export const scheduler = new Scheduler();

export function isScheduler(value: unknown): boolean {
  return typeof value === "object" && value !== null && hasBrand(value);
}
