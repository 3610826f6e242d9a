// `node --import islet/register app.js`: makes `import ... from "cloudflare:workers"` resolve to
// islet/workers, through Node's module customization hooks.

import { register } from "node:module";

register(new URL("./register-hooks.js", import.meta.url));
