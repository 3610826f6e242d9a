// The analysis thread: hashes and analyzes the CommonJS sources the host hands it
// (commonjs-analysis.ts), so that neither their content key nor cjs-module-lexer nor the parse of
// esbuild's answer runs on the host's event loop (findings18/02). A source is handed over once
// ("key": its content key is answered and the source held), then analyzed ("analyze") unless the
// host found the analysis in its cache ("drop"). One request at a time runs here; esbuild's parts
// overlap.

import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { analyzeSource } from "./commonjs-analysis.ts";

type Request = { op: "key"; id: number; source: string } | { op: "analyze"; id: number; name: string } | { op: "drop"; id: number };

const port = parentPort;
if (port === null) throw new Error("islet: commonjs-thread.ts runs only as a worker thread.");
/** Sources handed over and not yet analyzed or dropped, by request id. */
const held = new Map<number, string>();

port.on("message", (request: Request) => {
  if (request.op === "key") {
    held.set(request.id, request.source);
    // The same key as commonjs.ts's commonJsCacheKey.
    port.postMessage({ id: request.id, key: createHash("sha256").update(request.source).digest("base64") });
  } else if (request.op === "drop") {
    held.delete(request.id);
  } else {
    const source = held.get(request.id);
    held.delete(request.id);
    if (source === undefined) {
      port.postMessage({ id: request.id, error: "no such source" });
      return;
    }
    analyzeSource(source, request.name).then(
      (answer) => port.postMessage({ id: request.id, answer }),
      (error: unknown) => port.postMessage({ id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
    );
  }
});
