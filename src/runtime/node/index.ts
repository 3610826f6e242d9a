// Entry of the node chunk (dist/runtime-node.js): the nodejs_compat modules, loaded the first
// time a sandbox with the flag touches Buffer, process or imports a Node module.

export { bindPlatform } from "../platform.ts";
export { nodeModule, nodeModuleNames } from "./modules.ts";
export { Buffer } from "./buffer/buffer.ts";
export { getProcess, setProcessEnv } from "./process.ts";
