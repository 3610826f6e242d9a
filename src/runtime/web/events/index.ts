// Entry of the events chunk (dist/runtime-events.js).

export { bindPlatform } from "../../platform.ts";
