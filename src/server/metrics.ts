import { Registry, Histogram, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { CONDITION_ORDER } from '../health/conditions.js';

/** The daemon's Prometheus metrics (served at /metrics). One registry per daemon. */
export class Metrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: 'mcp_reconciler_reconcile_duration_seconds',
    help: 'Duration of a full reconcile pass',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly dockerApiCalls = new Histogram({
    name: 'mcp_reconciler_docker_api_calls_per_pass',
    help: 'Docker Engine API requests made by one reconcile pass (a pass with nothing to do: one observation)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });
  readonly operations = new Counter({
    name: 'mcp_reconciler_operations_total',
    help: 'Operations carried out, by type and result',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'mcp_reconciler_errors_total',
    help: 'Failed passes and failed operations, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly probeLatency = new Histogram({
    name: 'mcp_reconciler_probe_duration_seconds',
    help: 'MCP probe (initialize + tools/list) latency, direct or through the gateway',
    labelNames: ['server', 'target', 'result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly condition = new Gauge({
    name: 'mcp_reconciler_server_condition',
    help: '1 when the condition is True, 0 otherwise',
    labelNames: ['server', 'condition'] as const,
    registers: [this.registry],
  });
  readonly tools = new Gauge({
    name: 'mcp_reconciler_server_tools',
    help: 'Tools the server lists directly',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });
  readonly restarts = new Counter({
    name: 'mcp_reconciler_hung_restarts_total',
    help: 'Containers restarted because they ran but did not answer MCP',
    labelNames: ['server'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'mcp_reconciler_' });
  }

  /** Drop every series of a server that is gone. */
  forget(server: string): void {
    this.tools.remove({ server });
    for (const condition of CONDITION_ORDER) this.condition.remove({ server, condition });
  }
}
