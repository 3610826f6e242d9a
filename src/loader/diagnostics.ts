// Diagnostics of the engine under the loader, for `islet doctor` (the CLI does not reach into the engine).
export { checkAddon, type Check, type CheckStatus } from "../engine/addon.ts";
