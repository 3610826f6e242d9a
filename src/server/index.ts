// islet serve as a library: startServer() for a listening service, createApp() for the Hono app.

export { startServer, type RunningServer } from "./server.ts";
export { createApp, type IsletApp } from "./app.ts";
export { resolveOptions, type ServerOptions, type ApiKeyConfig, type ResolvedServerOptions } from "./config.ts";
export { ServerConfigError, RequestError } from "./errors.ts";
