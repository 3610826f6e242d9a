// Evaluated first in the compression chunk (see ../hide-globals.ts): fflate makes a TextDecoder
// and a TextEncoder when it loads, for text helpers this chunk does not use. With both hidden it
// makes neither, so user code's replacements are not called and the web chunk is not loaded.

import { hideGlobals } from "../hide-globals.ts";

export const restoreGlobals = hideGlobals({ TextDecoder: undefined, TextEncoder: undefined });
