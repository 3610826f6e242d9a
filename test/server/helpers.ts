// Starts a real server on 127.0.0.1:0 for a test and talks to it over HTTP.

import { startServer, type RunningServer, type ServerOptions } from "../../src/server/index.ts";

export interface TestServer extends RunningServer {
  logs: Record<string, unknown>[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
}

export async function testServer(options: ServerOptions = {}, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const logs: Record<string, unknown>[] = [];
  const server = await startServer({ port: 0, log: (entry) => logs.push(entry), ...options }, env);
  return Object.assign(server, {
    logs,
    async post(path: string, body: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(server.url + path, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: response.status, headers: response.headers, json };
    },
  });
}
