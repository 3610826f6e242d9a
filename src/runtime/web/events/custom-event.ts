// CustomEvent (DOM §2.4): an Event carrying a `detail` chosen by whoever made it.

import { brandPlatformObject } from "../../platform.ts";
import { requireArguments, toDictionary, toDomString } from "../webidl.ts";
import { Event, eventState, initialize } from "./event.ts";
import { defineInterface } from "./idl.ts";
import { primordials } from "../../primordials.ts";

const { TypeError } = primordials;

export class CustomEvent extends Event {
  #detail: unknown;

  constructor(type: unknown, eventInitDict: unknown = undefined) {
    // Checked here too: super() always receives two arguments.
    requireArguments(arguments.length, 1, "'CustomEvent' constructor");
    super(type, eventInitDict);
    brandPlatformObject(this, "CustomEvent");
    // CustomEventInit's own member comes after the inherited EventInit members.
    const detail = toDictionary(eventInitDict, "CustomEventInit").detail;
    this.#detail = detail === undefined ? null : detail;
  }

  get detail(): unknown {
    return this.#detail;
  }

  initCustomEvent(type: unknown, bubbles: unknown = false, cancelable: unknown = false, detail: unknown = null): void {
    if (!(#detail in this)) throw new TypeError("'initCustomEvent' called on an object that is not a CustomEvent.");
    requireArguments(arguments.length, 1, "'initCustomEvent' on 'CustomEvent'");
    const typeString = toDomString(type);
    const state = eventState(this);
    if (state.dispatching) return;
    initialize(state, typeString, !!bubbles, !!cancelable);
    this.#detail = detail;
  }
}

defineInterface(CustomEvent, "CustomEvent", { length: 1 });
