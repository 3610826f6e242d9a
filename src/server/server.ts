// startServer: the app on a real port, with WebSocket upgrades and a graceful close that lets
// in-flight calls finish before connections and workers go.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp, type IsletApp } from "./app.ts";
import type { ServerOptions } from "./config.ts";
import { ServerConfigError } from "./errors.ts";

export interface RunningServer {
  /** http://host:port, with the real port when 0 was asked for. */
  url: string;
  port: number;
  host: string;
  service: IsletApp;
  /** Stops accepting, finishes in-flight calls (up to shutdownTimeoutMs), then closes everything. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const service = await createApp(options, env);
  const { port, host } = service.options;
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      // overrideGlobalObjects would swap the process's global Request/Response for Hono's
      // lighter ones, which breaks code that reads fetch() responses elsewhere (code mode's tools).
      const created = serve({ fetch: service.app.fetch, port, hostname: host, websocket: { server: service.wss }, overrideGlobalObjects: false }) as Server;
      created.once("listening", () => resolve(created));
      created.once("error", reject);
    });
  } catch (error) {
    await service.shutdown();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new ServerConfigError(`port ${port} on ${host} is already in use (another islet serve?). Pick another with --port ${port + 1}, or --port 0 for any free port.`, "port");
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new ServerConfigError(`cannot listen on ${host}: no such address on this machine`, "host");
    if (code === "EACCES") throw new ServerConfigError(`no permission to listen on port ${port} (ports below 1024 need privileges); try --port 8787`, "port");
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    host: address.address,
    service,
    close() {
      closing ??= (async () => {
        let done = false;
        const closed = new Promise<void>((resolve) => server.close(() => ((done = true), resolve())));
        server.closeIdleConnections();
        await service.shutdown();
        // Answers of the last calls may still be on their way out: close connections as they go
        // idle, and cut what remains after a short grace.
        for (let waited = 0; !done && waited < 2000; waited += 20) {
          server.closeIdleConnections();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
