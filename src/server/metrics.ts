// Prometheus metrics in the text exposition format (version 0.0.4), kept in memory. Small enough
// to write by hand: counters with labels, histograms with fixed buckets, gauges read on scrape.

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [labels, value] of this.values) lines.push(`${this.name}${labels} ${value}`);
    return lines.join("\n");
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let entry = this.series.get(key);
    if (entry === undefined) this.series.set(key, (entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) entry.counts[i]++;
    entry.sum += value;
    entry.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join("\n");
  }
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Gauges {
  liveWorkers(): number;
  warmSandboxes(): number;
  inFlight(): number;
  rpcSessions(): number;
}

export class Metrics {
  readonly requests = new Counter("islet_http_requests_total", "HTTP requests by route and status.");
  readonly invocations = new Counter("islet_invocations_total", "Worker invocations by outcome (ok, exception, exceededCpu, exceededMemory, exceededWall, canceled).");
  readonly invocationSeconds = new Histogram("islet_invocation_duration_seconds", "Wall time of worker invocations.", SECONDS);
  readonly requestSeconds = new Histogram("islet_http_request_duration_seconds", "Time to answer HTTP requests, by route.", SECONDS);
  readonly shed = new Counter("islet_shed_total", "Calls refused by admission control, by reason (global, key, draining).");

  constructor(private readonly gauges: Gauges) {}

  render(): string {
    const gauge = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;
    return (
      [
        this.requests.render(),
        this.requestSeconds.render(),
        this.invocations.render(),
        this.invocationSeconds.render(),
        this.shed.render(),
        gauge("islet_live_workers", "Workers with a live isolate.", this.gauges.liveWorkers()),
        gauge("islet_warm_pool_sandboxes", "Sandboxes waiting in the warm pool.", this.gauges.warmSandboxes()),
        gauge("islet_in_flight_calls", "Calls admitted and not yet finished.", this.gauges.inFlight()),
        gauge("islet_rpc_sessions", "Open Cap'n Web sessions on /v1/rpc.", this.gauges.rpcSessions()),
      ].join("\n") + "\n"
    );
  }
}
