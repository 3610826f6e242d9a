// OTLP export of islet's spans (src/loader/tracing.ts) for the long-running commands (`islet serve`,
// `islet mcp`), switched on by OpenTelemetry's own environment variables so that a collector is
// configured the way every other OpenTelemetry service is: OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME,
// OTEL_SDK_DISABLED. The SDK is an optional peer dependency, as `typescript` is: a host that never
// exports pays nothing for it in its install. A library user registers an SDK of their own instead;
// islet's spans go through @opentelemetry/api either way.

import { CliError } from "./common.ts";

const SDK_PACKAGES = ["@opentelemetry/sdk-trace", "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/context-async-hooks", "@opentelemetry/resources"] as const;

export interface OtlpExport {
  /** Where spans go. */
  endpoint: string;
  /** Sends the spans still queued, then stops exporting. */
  shutdown(): Promise<void>;
}

/** The traces endpoint the environment names, or undefined when export is off. */
export function otlpEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return `${base.replace(/\/+$/, "")}/v1/traces`;
  return undefined;
}

/**
 * Starts exporting when the environment asks for it; undefined otherwise. The exporter reads the
 * endpoint and OTEL_EXPORTER_OTLP_HEADERS (e.g. a collector's API key) from the environment itself.
 */
export async function startOtlpExport(env: NodeJS.ProcessEnv, version: string): Promise<OtlpExport | undefined> {
  const endpoint = otlpEndpoint(env);
  if (endpoint === undefined) return undefined;
  let modules;
  try {
    modules = await Promise.all([import("@opentelemetry/sdk-trace"), import("@opentelemetry/exporter-trace-otlp-http"), import("@opentelemetry/context-async-hooks"), import("@opentelemetry/resources"), import("@opentelemetry/api")]);
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new CliError(`OTEL_EXPORTER_OTLP_ENDPOINT is set, but the OpenTelemetry SDK is not installed: npm install ${SDK_PACKAGES.join(" ")}`);
  }
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { AsyncLocalStorageContextManager }, { resourceFromAttributes }, { context, trace }] = modules;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME?.trim() || "islet", "service.version": version }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: endpoint }) })],
  });
  // A context manager, so that a policy on the way (islet/outbound) finds the request's span with
  // trace.getActiveSpan() across awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    endpoint,
    shutdown: async () => {
      await provider.shutdown();
    },
  };
}
