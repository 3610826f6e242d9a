// Entry of the node chunk (dist/runtime-node.js): the nodejs_compat modules.

export { bindPlatform } from "../platform.ts";
