// Bundles the playground (src/server/playground/client) into dist/playground: index.html, app.js,
// app.css and manifest.json. Everything the page loads comes from npm at build time, so the server
// can send a CSP that allows its own origin only. Run on its own with `node scripts/build-playground.mjs`.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "src/server/playground/client");

export async function buildPlayground({ outdir = join(root, "dist/playground") } = {}) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(source, "main.js") },
    bundle: true,
    outdir,
    format: "iife",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    minify: true,
    legalComments: "eof",
    logLevel: "warning",
  });
  copyFileSync(join(source, "index.html"), join(outdir, "index.html"));
  // The server answers conditional requests with these hashes, so a reload after a rebuild never
  // mixes an old app.js with a new page.
  const files = ["index.html", "app.js", "app.css"];
  const manifest = Object.fromEntries(
    files.map((file) => [file, createHash("sha256").update(readFileSync(join(outdir, file))).digest("base64url").slice(0, 16)]),
  );
  writeFileSync(join(outdir, "manifest.json"), JSON.stringify(manifest) + "\n");
  for (const file of files) console.log(`${join("dist/playground", file)} ${(statSync(join(outdir, file)).size / 1024).toFixed(1)} KB`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildPlayground();
