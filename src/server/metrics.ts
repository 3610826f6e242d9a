// Prometheus metrics on a prom-client Registry of this server's own (several servers in one process,
// as in the tests, do not share counters): islet's counters, histograms and gauges, and Node's
// default process metrics — CPU, memory, handles, GC and above all `nodejs_eventloop_lag_seconds`,
// the health signal of a host running isolates (a sandbox must never stall the host's event loop;
// if the lag climbs, something does).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Gauges {
  liveWorkers(): number;
  warmSandboxes(): number;
  inFlight(): number;
  rpcSessions(): number;
}

/** Counters and histograms with the calls app.ts makes (`inc(labels)`, `observe(value, labels)`). */
interface LabeledCounter {
  inc(labels?: Record<string, string>): void;
}
interface LabeledHistogram {
  observe(value: number, labels?: Record<string, string>): void;
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests: LabeledCounter;
  readonly invocations: LabeledCounter;
  readonly invocationSeconds: LabeledHistogram;
  readonly requestSeconds: LabeledHistogram;
  readonly shed: LabeledCounter;

  constructor(gauges: Gauges) {
    const registers = [this.registry];
    const requests = new Counter({ name: "islet_http_requests_total", help: "HTTP requests by route and status.", labelNames: ["route", "status"], registers });
    const requestSeconds = new Histogram({ name: "islet_http_request_duration_seconds", help: "Time to answer HTTP requests, by route.", labelNames: ["route"], buckets: SECONDS, registers });
    const invocations = new Counter({
      name: "islet_invocations_total",
      help: "Worker invocations by outcome (ok, exception, exceededCpu, exceededMemory, exceededWall, canceled).",
      labelNames: ["outcome"],
      registers,
    });
    const invocationSeconds = new Histogram({ name: "islet_invocation_duration_seconds", help: "Wall time of worker invocations.", buckets: SECONDS, registers });
    const shed = new Counter({ name: "islet_shed_total", help: "Calls refused by admission control, by reason (global, key, draining; request bodies: body-bodies, body-bytes, body-timeout).", labelNames: ["reason"], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge("islet_live_workers", "Workers with a live isolate.", gauges.liveWorkers);
    gauge("islet_warm_pool_sandboxes", "Sandboxes waiting in the warm pool.", gauges.warmSandboxes);
    gauge("islet_in_flight_calls", "Calls admitted and not yet finished.", gauges.inFlight);
    gauge("islet_rpc_sessions", "Open Cap'n Web sessions on /v1/rpc.", gauges.rpcSessions);
    collectDefaultMetrics({ register: this.registry });

    this.requests = { inc: (labels = {}) => requests.inc(labels) };
    this.invocations = { inc: (labels = {}) => invocations.inc(labels) };
    this.shed = { inc: (labels = {}) => shed.inc(labels) };
    this.requestSeconds = { observe: (value, labels = {}) => requestSeconds.observe(labels, value) };
    this.invocationSeconds = { observe: (value) => invocationSeconds.observe(value) };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry in Prometheus's text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
