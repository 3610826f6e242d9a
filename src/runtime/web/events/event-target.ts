// EventTarget (DOM §2.7) and dispatch (DOM §2.9). No target in this runtime has a parent, so an
// event's path is its target alone: capture listeners run first, then the others, both AT_TARGET.

import { brandPlatformObject } from "../../platform.ts";
import { requireArguments, toDomString } from "../webidl.ts";
import { domException } from "./dom-exception.ts";
import { AT_TARGET, BUBBLING_PHASE, CAPTURING_PHASE, type Event, eventState, type EventState, isEvent, NONE, setCanceledFlag } from "./event.ts";
import { defineInterface } from "./idl.ts";
import { reportException } from "./report.ts";
import { primordials } from "../../primordials.ts";

const { ArrayPrototypeIndexOf, ArrayPrototypeSlice, ArrayPrototypeSplice, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, ReflectApply, ReflectDefineProperty, ReflectGetOwnPropertyDescriptor, TypeError } = primordials;

const apply = ReflectApply;
const getOwnPropertyDescriptor = ReflectGetOwnPropertyDescriptor;
const defineProperty = ReflectDefineProperty;
const MapConstructor = Map;

/** What EventTarget needs of AbortSignal, which extends it and so registers itself (see bindSignals). */
export interface SignalSupport {
  isSignal(value: unknown): boolean;
  aborted(signal: object): boolean;
  addAlgorithm(signal: object, algorithm: () => void): void;
  removeAlgorithm(signal: object, algorithm: () => void): void;
  /** Told whenever a target gains or loses an "abort" listener. */
  abortListenersChanged(target: EventTarget): void;
}

let signals: SignalSupport | undefined;

export function bindSignals(support: SignalSupport): void {
  signals = support;
}

interface Listener {
  type: string;
  callback: object | null;
  capture: boolean;
  passive: boolean;
  once: boolean;
  signal: object | null;
  removed: boolean;
  /** The abort steps that remove this listener when its signal aborts. */
  onAbort: (() => void) | null;
}

interface EventHandler {
  value: object;
  listener: Listener;
}

let listenersOf: (target: EventTarget) => Listener[];
let handlersOf: (target: EventTarget) => Map<string, EventHandler>;
let hasListenerList: (value: object) => boolean;

export class EventTarget {
  #listeners: Listener[] = [];
  #handlers: Map<string, EventHandler> | undefined;

  static {
    listenersOf = (target) => target.#listeners;
    handlersOf = (target) => (target.#handlers ??= new MapConstructor());
    hasListenerList = (value) => #listeners in value;
  }

  constructor() {
    brandPlatformObject(this, "EventTarget");
  }

  addEventListener(type: unknown, callback: unknown, options: unknown = undefined): void {
    assertEventTarget(this, "addEventListener");
    requireArguments(arguments.length, 2, "'addEventListener' on 'EventTarget'");
    const typeString = toDomString(type);
    const listenerCallback = toEventListener(callback);
    const { capture, once, passive, signal } = flattenMore(options);
    addListener(this, { type: typeString, callback: listenerCallback, capture, passive, once, signal, removed: false, onAbort: null });
  }

  removeEventListener(type: unknown, callback: unknown, options: unknown = undefined): void {
    assertEventTarget(this, "removeEventListener");
    const listeners = this.#listeners;
    requireArguments(arguments.length, 2, "'removeEventListener' on 'EventTarget'");
    const typeString = toDomString(type);
    const listenerCallback = toEventListener(callback);
    const capture = flatten(options);
    for (let index = 0; index < listeners.length; index++) {
      const listener = listeners[index];
      if (listener.type === typeString && listener.callback === listenerCallback && listener.capture === capture) {
        removeListener(this, listener);
        return;
      }
    }
  }

  dispatchEvent(event: Event): boolean {
    assertEventTarget(this, "dispatchEvent");
    requireArguments(arguments.length, 1, "'dispatchEvent' on 'EventTarget'");
    if (!isEvent(event)) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    const state = eventState(event);
    if (state.dispatching || !state.initialized) {
      throw domException("Failed to execute 'dispatchEvent' on 'EventTarget': The event is already being dispatched.", "InvalidStateError");
    }
    state.isTrusted = false;
    return dispatch(this, event, state);
  }
}

defineInterface(EventTarget, "EventTarget", { length: 0 });

export function isEventTarget(value: unknown): value is EventTarget {
  return typeof value === "object" && value !== null && hasListenerList(value);
}

function assertEventTarget(value: unknown, operation: string): void {
  if (!isEventTarget(value)) throw new TypeError(`'${operation}' called on an object that is not an EventTarget.`);
}

/** DOM's "fire an event" for events the runtime itself raises: they are trusted. */
export function fireEvent(target: EventTarget, event: Event): boolean {
  const state = eventState(event);
  state.isTrusted = true;
  return dispatch(target, event, state);
}

/** Whether the target has a listener for the type (an event handler counts). */
export function hasListeners(target: EventTarget, type: string): boolean {
  const listeners = listenersOf(target);
  for (let index = 0; index < listeners.length; index++) if (listeners[index].type === type) return true;
  return false;
}

// WebIDL callback interface EventListener?: null/undefined mean null; any object is accepted (a
// function, or an object whose handleEvent is looked up at each call).
function toEventListener(value: unknown): object | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" && typeof value !== "function") throw new TypeError("The listener must be an object or a function.");
  return value;
}

// (EventListenerOptions or boolean): objects, undefined and null are the dictionary.
function flatten(options: unknown): boolean {
  if (options === undefined || options === null) return false;
  if (typeof options !== "object" && typeof options !== "function") return !!options;
  return !!(options as { capture?: unknown }).capture;
}

interface FlatOptions {
  capture: boolean;
  once: boolean;
  passive: boolean;
  signal: object | null;
}

function flattenMore(options: unknown): FlatOptions {
  if (options === undefined || options === null || (typeof options !== "object" && typeof options !== "function")) {
    return { capture: !!options, once: false, passive: false, signal: null };
  }
  // Dictionary members in Web IDL order: the inherited capture, then once, passive, signal.
  const dictionary = options as { capture?: unknown; once?: unknown; passive?: unknown; signal?: unknown };
  const capture = !!dictionary.capture;
  const once = !!dictionary.once;
  const passiveValue = dictionary.passive;
  // Without passive, the default passive value is false for every target but a few window ones.
  const passive = passiveValue === undefined ? false : !!passiveValue;
  const signalValue = dictionary.signal;
  if (signalValue !== undefined && !signals!.isSignal(signalValue)) {
    throw new TypeError("Failed to read the 'signal' property from 'AddEventListenerOptions': The value is not of type 'AbortSignal'.");
  }
  return { capture, once, passive, signal: signalValue === undefined ? null : (signalValue as object) };
}

/** DOM's "add an event listener". */
function addListener(target: EventTarget, listener: Listener): void {
  const signal = listener.signal;
  if (signal !== null && signals!.aborted(signal)) return;
  if (listener.callback === null) return;
  const listeners = listenersOf(target);
  for (let index = 0; index < listeners.length; index++) {
    const existing = listeners[index];
    if (existing.type === listener.type && existing.callback === listener.callback && existing.capture === listener.capture) return;
  }
  listeners[listeners.length] = listener;
  if (signal !== null) {
    listener.onAbort = () => removeListener(target, listener);
    signals!.addAlgorithm(signal, listener.onAbort);
  }
  if (listener.type === "abort") signals?.abortListenersChanged(target);
}

/** DOM's "remove an event listener". */
function removeListener(target: EventTarget, listener: Listener): void {
  listener.removed = true;
  const listeners = listenersOf(target);
  const index = ArrayPrototypeIndexOf(listeners, listener);
  if (index >= 0) ArrayPrototypeSplice(listeners, index, 1);
  // Not in the DOM Standard, and unobservable: a removed listener's abort steps would do nothing,
  // so they are dropped rather than kept alive by a long-lived signal.
  if (listener.onAbort !== null && listener.signal !== null) {
    signals!.removeAlgorithm(listener.signal, listener.onAbort);
    listener.onAbort = null;
  }
  if (listener.type === "abort") signals?.abortListenersChanged(target);
}

function dispatch(target: EventTarget, event: Event, state: EventState): boolean {
  state.dispatching = true;
  state.path = [target];
  state.eventPhase = AT_TARGET;
  invoke(target, event, state, CAPTURING_PHASE);
  state.eventPhase = AT_TARGET;
  invoke(target, event, state, BUBBLING_PHASE);
  state.eventPhase = NONE;
  state.currentTarget = null;
  state.path = [];
  state.dispatching = false;
  state.stopPropagation = false;
  state.stopImmediatePropagation = false;
  return !state.canceled;
}

function invoke(target: EventTarget, event: Event, state: EventState, phase: number): void {
  state.target = target;
  if (state.stopPropagation) return;
  state.currentTarget = target;
  // A copy: listeners added during dispatch wait for the next event; removed ones are flagged.
  const listeners = ArrayPrototypeSlice(listenersOf(target));
  for (let index = 0; index < listeners.length; index++) {
    const listener = listeners[index];
    if (listener.removed || listener.type !== state.type) continue;
    if (phase === CAPTURING_PHASE ? !listener.capture : listener.capture) continue;
    if (listener.once) removeListener(target, listener);
    if (listener.passive) state.inPassiveListener = true;
    try {
      callListener(listener.callback!, event, target);
    } catch (error) {
      reportException(error);
    }
    state.inPassiveListener = false;
    if (state.stopImmediatePropagation) break;
  }
}

// Web IDL "call a user object's operation" for handleEvent.
function callListener(callback: object, event: Event, thisArg: EventTarget): void {
  if (typeof callback === "function") {
    apply(callback, thisArg, [event]);
    return;
  }
  const handleEvent = (callback as { handleEvent?: unknown }).handleEvent;
  if (typeof handleEvent !== "function") throw new TypeError("The listener's handleEvent is not a function.");
  apply(handleEvent, callback, [event]);
}

/**
 * Defines an event handler IDL attribute such as `onabort` (HTML §8.1.8.1): setting a value adds
 * one internal listener, which keeps its place in the list while the value changes and leaves it
 * when the value becomes null.
 */
export function defineEventHandler(prototype: object, type: string, isBrand: (value: unknown) => boolean): void {
  const name = `on${type}`;
  const accessors = {
    get [name](): unknown {
      if (!isBrand(this)) throw new TypeError(`'${name}' called on an object of the wrong type.`);
      return MapPrototypeGet(handlersOf(this as unknown as EventTarget), type)?.value ?? null;
    },
    set [name](value: unknown) {
      if (!isBrand(this)) throw new TypeError(`'${name}' called on an object of the wrong type.`);
      // [LegacyTreatNonObjectAsNull]: anything but an object or function means null.
      setEventHandler(this as unknown as EventTarget, type, (typeof value === "object" && value !== null) || typeof value === "function" ? value : null);
    },
  };
  const descriptor = getOwnPropertyDescriptor(accessors, name)!;
  defineProperty(prototype, name, { get: descriptor.get, set: descriptor.set, enumerable: true, configurable: true });
}

function setEventHandler(target: EventTarget, type: string, value: object | null): void {
  const handlers = handlersOf(target);
  const current = MapPrototypeGet(handlers, type);
  if (value === null) {
    if (current === undefined) return;
    MapPrototypeDelete(handlers, type);
    removeListener(target, current.listener);
    return;
  }
  if (current !== undefined) {
    current.value = value;
    return;
  }
  const handler: EventHandler = { value, listener: undefined! };
  // The event handler processing algorithm: a non-callable object does nothing, a false return
  // value cancels the event.
  const processEvent = function (this: unknown, event: Event): void {
    const callback = handler.value;
    if (typeof callback !== "function") return;
    if (apply(callback, this, [event]) === false) setCanceledFlag(eventState(event));
  };
  handler.listener = { type, callback: processEvent, capture: false, passive: false, once: false, signal: null, removed: false, onAbort: null };
  MapPrototypeSet(handlers, type, handler);
  addListener(target, handler.listener);
}
