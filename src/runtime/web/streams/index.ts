// Entry of the streams chunk (dist/runtime-streams.js).

export { bindPlatform } from "../../platform.ts";
