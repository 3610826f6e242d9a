// OpenTelemetry spans through @opentelemetry/api: one per invocation ("islet.invocation"), and
// inside it one per capability call ("islet.capability") and per outbound request
// ("islet.fetch"), which egress policies (islet/outbound) annotate with what they decided. The
// API is a no-op until the host registers an SDK, so an application without tracing pays a few
// function calls per invocation. Attributes never carry argument values, bodies, headers or
// credentials: names, hosts, methods, statuses, outcomes and times only.

import { context, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

const tracer = trace.getTracer("islet", "0.1.0");

export function startInvocationSpan(entrypoint: string, method: string): Span {
  return tracer.startSpan("islet.invocation", { attributes: { "islet.entrypoint": entrypoint, "islet.method": method } });
}

export function endInvocationSpan(span: Span, outcome: string, cpuMs: number, wallMs: number): void {
  span.setAttributes({ "islet.outcome": outcome, "islet.cpu_ms": cpuMs, "islet.wall_ms": wallMs });
  if (outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}

/**
 * Runs `work` in a child span of `parent` (or a root span without one), active while it runs, so
 * a policy on the way (islet/outbound) can annotate it with trace.getActiveSpan().
 */
export async function inSpan<T>(name: string, parent: Span | undefined, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  const parentContext = parent === undefined ? context.active() : trace.setSpan(context.active(), parent);
  const span = tracer.startSpan(name, { attributes }, parentContext);
  try {
    return await context.with(trace.setSpan(parentContext, span), () => work(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "Error" });
    throw error;
  } finally {
    span.end();
  }
}
