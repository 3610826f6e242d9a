// node --import islet/register examples/cloudflare-style/main.js
// An islet WorkerLoader stands where the library expects env.LOADER.

import { WorkerLoader } from "islet";
import { runAgent } from "./agent-library.js";

const loader = new WorkerLoader();
const agentCode = `export default {
  async run({ notebook, clock }) {
    await notebook.add("started at " + (await clock.now()));
    await notebook.add("2 + 2 = " + (2 + 2));
    return "done";
  },
};`;
try {
  console.log(JSON.stringify(await runAgent({ LOADER: loader }, agentCode)));
} finally {
  await loader.close();
}
