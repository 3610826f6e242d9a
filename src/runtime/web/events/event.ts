// Event (DOM §2.2). The flags and fields the DOM Standard keeps on an event live in one internal
// record per event; event-target.ts drives them during dispatch through eventState().

import { brandPlatformObject } from "../../platform.ts";
import { requireArguments, toDictionary, toDomString } from "../webidl.ts";
import { accessorOf, defineInterface } from "./idl.ts";
import type { EventTarget } from "./event-target.ts";
import { primordials } from "../../primordials.ts";

const { ReflectApply, ReflectDefineProperty } = primordials;

export const NONE = 0;
export const CAPTURING_PHASE = 1;
export const AT_TARGET = 2;
export const BUBBLING_PHASE = 3;

export interface EventState {
  type: string;
  bubbles: boolean;
  cancelable: boolean;
  composed: boolean;
  target: EventTarget | null;
  currentTarget: EventTarget | null;
  eventPhase: number;
  /** The event path: empty, or the one target while it is dispatched (no target here has a parent). */
  path: EventTarget[];
  stopPropagation: boolean;
  stopImmediatePropagation: boolean;
  canceled: boolean;
  inPassiveListener: boolean;
  initialized: boolean;
  dispatching: boolean;
  isTrusted: boolean;
  timeStamp: number;
}

const defineProperty = ReflectDefineProperty;
const apply = ReflectApply;

// timeStamp is the sandbox's performance.now(): the frozen clock, which moves only when the host
// enters the isolate, so events cannot time code. Captured when the chunk loads (the core installs
// the frozen clock on that first read); if user code had replaced it by then, timeStamp is 0.
const performance = (globalThis as { performance?: { now?: unknown } }).performance;
const performanceNow = performance?.now;

function currentTime(): number {
  if (typeof performanceNow !== "function") return 0;
  try {
    const time = apply(performanceNow, performance, []);
    return typeof time === "number" && time === time ? time : 0;
  } catch {
    return 0;
  }
}

let stateOf: (event: Event) => EventState;
let hasState: (value: object) => boolean;

export class Event {
  #state: EventState;

  static {
    stateOf = (event) => event.#state;
    hasState = (value) => #state in value;
  }

  constructor(type: unknown, eventInitDict: unknown = undefined) {
    brandPlatformObject(this, "Event");
    requireArguments(arguments.length, 1, "'Event' constructor");
    const typeString = toDomString(type);
    const init = toDictionary(eventInitDict, "EventInit");
    // EventInit members in Web IDL order (lexicographic): bubbles, cancelable, composed.
    const bubbles = !!init.bubbles;
    const cancelable = !!init.cancelable;
    const composed = !!init.composed;
    this.#state = {
      type: typeString,
      bubbles,
      cancelable,
      composed,
      target: null,
      currentTarget: null,
      eventPhase: NONE,
      path: [],
      stopPropagation: false,
      stopImmediatePropagation: false,
      canceled: false,
      inPassiveListener: false,
      initialized: true,
      dispatching: false,
      isTrusted: false,
      timeStamp: currentTime(),
    };
    // [LegacyUnforgeable]: an own, non-configurable accessor on every instance.
    defineProperty(this, "isTrusted", isTrustedDescriptor);
  }

  get type(): string {
    return this.#state.type;
  }

  get target(): EventTarget | null {
    return this.#state.target;
  }

  get srcElement(): EventTarget | null {
    return this.#state.target;
  }

  get currentTarget(): EventTarget | null {
    return this.#state.currentTarget;
  }

  composedPath(): EventTarget[] {
    // With a path of one target, DOM's composedPath() algorithm yields [currentTarget].
    const state = this.#state;
    return state.path.length === 0 || state.currentTarget === null ? [] : [state.currentTarget];
  }

  get eventPhase(): number {
    return this.#state.eventPhase;
  }

  stopPropagation(): void {
    this.#state.stopPropagation = true;
  }

  get cancelBubble(): boolean {
    return this.#state.stopPropagation;
  }

  set cancelBubble(value: boolean) {
    if (value) this.#state.stopPropagation = true;
  }

  stopImmediatePropagation(): void {
    this.#state.stopPropagation = true;
    this.#state.stopImmediatePropagation = true;
  }

  get bubbles(): boolean {
    return this.#state.bubbles;
  }

  get cancelable(): boolean {
    return this.#state.cancelable;
  }

  get returnValue(): boolean {
    return !this.#state.canceled;
  }

  set returnValue(value: boolean) {
    if (!value) setCanceledFlag(this.#state);
  }

  preventDefault(): void {
    setCanceledFlag(this.#state);
  }

  get defaultPrevented(): boolean {
    return this.#state.canceled;
  }

  get composed(): boolean {
    return this.#state.composed;
  }

  get timeStamp(): number {
    return this.#state.timeStamp;
  }

  initEvent(type: unknown, bubbles: unknown = false, cancelable: unknown = false): void {
    requireArguments(arguments.length, 1, "'initEvent' on 'Event'");
    const typeString = toDomString(type);
    const state = this.#state;
    if (state.dispatching) return;
    initialize(state, typeString, !!bubbles, !!cancelable);
  }
}

/** DOM's "initialize": what initEvent() and initCustomEvent() share. */
export function initialize(state: EventState, type: string, bubbles: boolean, cancelable: boolean): void {
  state.initialized = true;
  state.stopPropagation = false;
  state.stopImmediatePropagation = false;
  state.canceled = false;
  state.isTrusted = false;
  state.target = null;
  state.type = type;
  state.bubbles = bubbles;
  state.cancelable = cancelable;
}

/** "Set the canceled flag": only cancelable events, and never from a passive listener. */
export function setCanceledFlag(state: EventState): void {
  if (state.cancelable && !state.inPassiveListener) state.canceled = true;
}

const isTrustedDescriptor: PropertyDescriptor = {
  get: accessorOf(
    {
      get isTrusted(): boolean {
        return stateOf(this as unknown as Event).isTrusted;
      },
    },
    "isTrusted",
  ).get,
  set: undefined,
  enumerable: true,
  configurable: false,
};

defineInterface(Event, "Event", { length: 1, constants: { NONE, CAPTURING_PHASE, AT_TARGET, BUBBLING_PHASE } });

export function isEvent(value: unknown): value is Event {
  return typeof value === "object" && value !== null && hasState(value);
}

/** The internal record of an event; throws a TypeError for anything that is not an Event. */
export function eventState(event: Event): EventState {
  return stateOf(event);
}
