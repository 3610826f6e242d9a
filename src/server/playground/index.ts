// The playground's routes: `GET /` (the page), `/playground/app.js`, `/playground/app.css` and
// `/playground/config.json`. The assets are built by scripts/build-playground.mjs into
// dist/playground; nothing is loaded from anywhere else, so the CSP allows this origin only.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { Hono, type Context } from "hono";

export interface PlaygroundOptions {
  /** Tell the page that /v1 needs an API key, so it asks for one before the first run. */
  apiKeyRequired?: boolean;
  /** Where the built assets are (default: the package's dist/playground). */
  assetsDir?: string | URL;
}

// src/server/playground/index.ts and dist/server/playground/index.js are both three levels
// below the package root.
const defaultAssetsDir = new URL("../../../dist/playground/", import.meta.url);

export const playgroundCsp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const assets = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;
type AssetName = keyof typeof assets;

interface LoadedAsset {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

const securityHeaders = {
  "content-security-policy": playgroundCsp,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export function playgroundRoutes(options: PlaygroundOptions = {}): Hono {
  const dir =
    typeof options.assetsDir === "string" ? pathToFileURL(options.assetsDir.replace(/\/?$/, "/")) : (options.assetsDir ?? defaultAssetsDir);
  let loading: Promise<Map<AssetName, LoadedAsset>> | undefined;

  // Read once; a missing build is reported (and retried on the next request) rather than cached.
  const load = (): Promise<Map<AssetName, LoadedAsset>> => {
    loading ??= (async () => {
      const manifest = JSON.parse(await readFile(new URL("manifest.json", dir), "utf8")) as Record<string, string>;
      const loaded = new Map<AssetName, LoadedAsset>();
      for (const name of Object.keys(assets) as AssetName[]) {
        loaded.set(name, { body: new Uint8Array(await readFile(new URL(name, dir))), etag: `"${manifest[name] ?? "dev"}"` });
      }
      return loaded;
    })().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };

  const app = new Hono();
  const serve = (name: AssetName) => async (c: Context) => {
    let asset: LoadedAsset | undefined;
    try {
      asset = (await load()).get(name);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "its assets are not built" : (error as Error).message;
      return c.text(`The playground is unavailable: ${reason}. Run \`npm run build\` (or \`node scripts/build-playground.mjs\`) and reload.\n`, 503, securityHeaders);
    }
    const headers = { ...securityHeaders, "content-type": assets[name], "cache-control": "no-cache", etag: asset!.etag };
    if (c.req.header("if-none-match") === asset!.etag) return c.body(null, 304, headers);
    return c.body(asset!.body, 200, headers);
  };

  app.get("/", serve("index.html"));
  app.get("/playground", (c) => c.redirect("/", 301));
  app.get("/playground/", serve("index.html"));
  app.get("/playground/app.js", serve("app.js"));
  app.get("/playground/app.css", serve("app.css"));
  app.get("/playground/config.json", (c) =>
    c.json({ apiKeyRequired: options.apiKeyRequired === true }, 200, { ...securityHeaders, "cache-control": "no-store" }),
  );
  // Browsers ask for it unprompted; an empty answer keeps the console free of 404s.
  app.get("/favicon.ico", (c) => c.body(null, 204, securityHeaders));
  return app;
}
