// AbortSignal (DOM §3.2), with dependent signals for AbortSignal.any().
//
// A source signal holds its dependents weakly, as the DOM Standard asks: a worker that keeps one
// long-lived signal and calls AbortSignal.any([it, ...]) per request must not accumulate every
// request's signal. A dependent that could still be observed (it has "abort" listeners, an
// onabort handler or abort algorithms, and is not aborted) is also held strongly by its sources,
// so it lives as long as something could abort it.

import { brandPlatformObject, setTimer } from "../../platform.ts";
import { requireArguments } from "../webidl.ts";
import { domException } from "./dom-exception.ts";
import { Event } from "./event.ts";
import { bindSignals, defineEventHandler, EventTarget, fireEvent, hasListeners } from "./event-target.ts";
import { defineInterface, toEnforcedUnsignedLongLong, toSequence } from "./idl.ts";
import { reportException } from "./report.ts";
import { primordials } from "../../primordials.ts";

const { MathMax, MathMin, SafeSetIterator, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeGetSize, Symbol, TypeError } = primordials;

const WeakRefConstructor = WeakRef;
const SetConstructor = Set;
const min = MathMin;
const max = MathMax;

// The host clamps every timer to this (see globals/timers.ts); clamping here too keeps a huge
// timeout from overflowing a platform that would not.
const MAX_TIMER_MS = 2_147_483_647;

/** Only this module may construct an AbortSignal: the interface has no constructor. */
const CREATE = Symbol("AbortSignal.create");

interface SignalState {
  signal: AbortSignal;
  /** The abort reason; the signal is aborted exactly when this is not undefined. */
  reason: unknown;
  algorithms: Set<() => void> | null;
  dependent: boolean;
  /** A dependent signal's sources, held strongly. */
  sources: SignalState[] | null;
  /** A source signal's dependents, held weakly. */
  dependents: Set<WeakRef<SignalState>> | null;
  /** Dead references are swept from `dependents` when it reaches this size. */
  sweepAt: number;
  /** The dependents this source keeps alive because they can still be observed. */
  pinned: Set<SignalState> | null;
}

let stateOf: (signal: AbortSignal) => SignalState;
let hasState: (value: object) => boolean;

export class AbortSignal extends EventTarget {
  #state: SignalState;
  /** An event handler attribute, defined on the prototype by defineEventHandler below. */
  declare onabort: ((this: AbortSignal, event: Event) => unknown) | null;

  static {
    stateOf = (signal) => signal.#state;
    hasState = (value) => #state in value;
  }

  constructor(key: unknown = undefined) {
    if (key !== CREATE) throw new TypeError("Illegal constructor");
    super();
    brandPlatformObject(this, "AbortSignal");
    this.#state = { signal: this, reason: undefined, algorithms: null, dependent: false, sources: null, dependents: null, sweepAt: 16, pinned: null };
  }

  static abort(reason: unknown = undefined): AbortSignal {
    const signal = createSignal();
    signal.#state.reason = reason === undefined ? abortError() : reason;
    return signal;
  }

  static timeout(milliseconds: unknown): AbortSignal {
    requireArguments(arguments.length, 1, "'timeout' on 'AbortSignal'");
    const ms = toEnforcedUnsignedLongLong(milliseconds, "AbortSignal.timeout(): milliseconds");
    const signal = createSignal();
    // Runtime timers fire only while an invocation is in flight: a timeout that comes due after
    // the invocation that made it has ended does not abort the signal until (unless) a later
    // invocation is running when the host fires it; timers dropped when the sandbox idles never do.
    setTimer(() => signalAbort(signal, domException("The operation was aborted due to timeout", "TimeoutError")), min(ms, MAX_TIMER_MS));
    return signal;
  }

  static any(signals: unknown): AbortSignal {
    requireArguments(arguments.length, 1, "'any' on 'AbortSignal'");
    const states = toSequence(
      signals,
      (item, index) => {
        if (!isAbortSignal(item)) throw new TypeError(`AbortSignal.any(): signals[${index}] is not an AbortSignal.`);
        return stateOf(item);
      },
      "AbortSignal.any(): signals",
    );
    return createDependentSignal(states).signal;
  }

  get aborted(): boolean {
    return this.#state.reason !== undefined;
  }

  get reason(): unknown {
    return this.#state.reason;
  }

  throwIfAborted(): void {
    const reason = this.#state.reason;
    if (reason !== undefined) throw reason;
  }
}

defineEventHandler(AbortSignal.prototype, "abort", isAbortSignal);
defineInterface(AbortSignal, "AbortSignal", { length: 0 });

export function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === "object" && value !== null && hasState(value);
}

export function createSignal(): AbortSignal {
  return new AbortSignal(CREATE);
}

function abortError(): unknown {
  return domException("This operation was aborted", "AbortError");
}

/** DOM's "signal abort". */
export function signalAbort(signal: AbortSignal, reason: unknown): void {
  const state = stateOf(signal);
  if (state.reason !== undefined) return;
  state.reason = reason === undefined ? abortError() : reason;
  const toAbort: SignalState[] = [];
  if (state.dependents !== null) {
    for (let a20 = SafeSetIterator(state.dependents), i20 = a20.next(); !i20.done; i20 = a20.next()) {
      const reference = i20.value;
      const dependent = reference.deref();
      if (dependent === undefined || dependent.reason !== undefined) continue;
      dependent.reason = state.reason;
      toAbort[toAbort.length] = dependent;
    }
  }
  runAbortSteps(state);
  for (let index = 0; index < toAbort.length; index++) runAbortSteps(toAbort[index]);
}

function runAbortSteps(state: SignalState): void {
  const algorithms = state.algorithms;
  state.algorithms = null;
  if (algorithms !== null) {
    for (let a21 = SafeSetIterator(algorithms), i21 = a21.next(); !i21.done; i21 = a21.next()) {
      const algorithm = i21.value;
      try {
        algorithm();
      } catch (error) {
        reportException(error);
      }
    }
  }
  // An aborted signal never aborts again: its links are of no further use.
  unpin(state);
  state.sources = null;
  state.dependents = null;
  state.pinned = null;
  fireEvent(state.signal, new Event("abort"));
}

/** DOM's "add an algorithm": steps to run when the signal aborts (never, if it already has). */
export function addAbortAlgorithm(signal: AbortSignal, algorithm: () => void): void {
  const state = stateOf(signal);
  if (state.reason !== undefined) return;
  SetPrototypeAdd((state.algorithms ??= new SetConstructor()), algorithm);
  if (state.dependent) updatePin(state);
}

/** DOM's "remove an algorithm". */
export function removeAbortAlgorithm(signal: AbortSignal, algorithm: () => void): void {
  const state = stateOf(signal);
  if (state.algorithms === null || !SetPrototypeDelete(state.algorithms, algorithm)) return;
  if (state.dependent) updatePin(state);
}

export function abortReason(signal: AbortSignal): unknown {
  return stateOf(signal).reason;
}

/** DOM's "create a dependent abort signal". */
function createDependentSignal(signals: SignalState[]): SignalState {
  const result = stateOf(createSignal());
  for (let index = 0; index < signals.length; index++) {
    if (signals[index].reason !== undefined) {
      result.reason = signals[index].reason;
      return result;
    }
  }
  result.dependent = true;
  for (let index = 0; index < signals.length; index++) {
    const signal = signals[index];
    if (!signal.dependent) {
      link(result, signal);
      continue;
    }
    const sources = signal.sources ?? [];
    for (let source = 0; source < sources.length; source++) link(result, sources[source]);
  }
  return result;
}

function link(dependent: SignalState, source: SignalState): void {
  const sources = (dependent.sources ??= []);
  for (let index = 0; index < sources.length; index++) if (sources[index] === source) return;
  sources[sources.length] = source;
  const dependents = (source.dependents ??= new SetConstructor());
  if (SetPrototypeGetSize(dependents) >= source.sweepAt) {
    for (let a22 = SafeSetIterator(dependents), i22 = a22.next(); !i22.done; i22 = a22.next()) {
      const reference = i22.value;
      if (reference.deref() === undefined) SetPrototypeDelete(dependents, reference);
    }
    source.sweepAt = max(16, SetPrototypeGetSize(dependents) * 2);
  }
  SetPrototypeAdd(dependents, new WeakRefConstructor(dependent));
}

function observable(state: SignalState): boolean {
  return state.reason === undefined && ((state.algorithms !== null && SetPrototypeGetSize(state.algorithms) > 0) || hasListeners(state.signal, "abort"));
}

function updatePin(state: SignalState): void {
  if (!observable(state)) {
    unpin(state);
    return;
  }
  const sources = state.sources ?? [];
  for (let index = 0; index < sources.length; index++) SetPrototypeAdd((sources[index].pinned ??= new SetConstructor()), state);
}

function unpin(state: SignalState): void {
  const sources = state.sources ?? [];
  for (let index = 0; index < sources.length; index++) sources[index].pinned?.delete(state);
}

bindSignals({
  isSignal: isAbortSignal,
  aborted: (signal) => stateOf(signal as AbortSignal).reason !== undefined,
  addAlgorithm: (signal, algorithm) => addAbortAlgorithm(signal as AbortSignal, algorithm),
  removeAlgorithm: (signal, algorithm) => removeAbortAlgorithm(signal as AbortSignal, algorithm),
  abortListenersChanged(target) {
    if (!isAbortSignal(target)) return;
    const state = stateOf(target);
    if (state.dependent) updatePin(state);
  },
});
