import { request } from 'undici';
import type { Settings } from '../config/settings.js';
import { HealthMonitor, type ServerHealth } from '../health/monitor.js';
import { ConditionType as C, CONDITION_ORDER } from '../health/conditions.js';
import type { LiteLLMGateway } from '../litellm/gateway-client.js';
import type { ConfigStore, ContainerRuntime, GatewayApi } from '../ports/index.js';
import { apiIdPrefix } from '../litellm/api.js';
import { problemsOf, type Reconciler } from '../reconcile/controller.js';
import { isReportOnly } from '../model/types.js';
import { buildStatusDocument, statusSecretFiles, type StatusDocument } from '../status/document.js';
import { SecretMask } from '../status/redact.js';
import { createLogger } from '../log/logger.js';

export interface StatusView {
  source: 'daemon' | 'one-off probe';
  doc: StatusDocument;
  gatewayReady: boolean;
  invalid: { file: string; message: string }[];
  /**
   * What the plan holds back or cannot do (`! conflict`, `! blocked`, `! prune-held`, `! backoff-held`),
   * from a plan made here: work that waits for the user, so `status` is not exit 0 while any is there.
   */
  held: { type: string; resourceId: string; cause: string; server?: string }[];
}

/**
 * The status shown by `status`: the running daemon's `/status` when it answers, else one probe
 * pass done here with the same HealthMonitor (so both read the same conditions). Either way the
 * document goes through `buildStatusDocument` with the env files this desired state names (a
 * daemon's document is masked by the daemon already; masking it again here costs nothing).
 */
export async function collectStatus(
  settings: Settings,
  deps: { reconciler: Reconciler; runtime: ContainerRuntime; gateway: LiteLLMGateway; config: ConfigStore; api: GatewayApi | null },
): Promise<StatusView> {
  const outcome = await deps.reconciler.plan();
  const mask = new SecretMask(statusSecretFiles(settings.gateway.envFile, outcome.input.servers));
  const invalid = mask.deep(outcome.problems.map((p) => ({ file: p.file, message: p.message })));
  const held = mask.deep(
    outcome.plan.operations
      .filter(isReportOnly)
      .map((o) => ({ type: o.type, resourceId: o.resourceId, cause: o.cause, ...(o.server ? { server: o.server } : {}) })),
  );
  const gatewayReady = await deps.gateway.ready();
  if (settings.statusPort > 0) {
    try {
      const r = await request(`http://${settings.statusAddress}:${settings.statusPort}/status`, { signal: AbortSignal.timeout(1_500) });
      if (r.statusCode === 200) {
        const doc = (await r.body.json()) as StatusDocument;
        if (Array.isArray(doc.servers)) {
          return { source: 'daemon', doc: buildStatusDocument(doc, doc.servers, mask), gatewayReady, invalid, held };
        }
      } else await r.body.dump();
    } catch {
      /* no daemon: probe here */
    }
  }
  const monitor = new HealthMonitor({
    runtime: deps.runtime,
    config: deps.config,
    configPath: settings.gateway.configPath,
    gateway: deps.gateway,
    api: deps.api,
    apiIdPrefix: apiIdPrefix(settings.instance),
    observe: { namePrefix: settings.namePrefix, instance: settings.instance, network: settings.network },
    edgePort: settings.edge.port,
    reach: settings.reach,
    log: createLogger({ level: 'silent' }),
  });
  monitor.update(outcome.input.servers, problemsOf(outcome), [], outcome.gatewayMode.mode);
  await monitor.probeAll();
  const now = new Date().toISOString();
  return {
    source: 'one-off probe',
    gatewayReady,
    invalid,
    held,
    doc: buildStatusDocument(
      {
        startedAt: now,
        firstPassAt: null,
        lastPass: null,
        passes: 0,
        summary: '',
        gatewayMode: outcome.gatewayMode,
        paths: {
          settingsFile: settings.settingsFile ?? '(none; defaults and environment)',
          desiredDir: settings.desiredDir,
          projectsRoot: settings.projectsRoot,
          secretsDir: settings.secretsDir,
          gatewayConfig: settings.gateway.configPath,
          gatewayEnvFile: settings.gateway.envFile,
        },
        gateway: { url: deps.gateway.baseUrl, mcpUrl: deps.gateway.mcpUrl },
      },
      monitor.snapshot(),
      mask,
    ),
  };
}

/** Ready = valid, running, answering MCP, and (where a gateway is configured) served by it. */
export function isReady(s: ServerHealth): boolean {
  const get = (t: string) => s.conditions.find((c) => c.type === t)?.status;
  return get(C.Valid) === 'True' && get(C.ContainerRunning) === 'True' && get(C.McpReady) === 'True' &&
    get(C.GatewayReady) !== 'False' && get(C.Registered) !== 'False';
}

/**
 * Exit 0 of `status`: the gateway and every server ready, every desired file usable, and nothing held
 * or blocked: no failed change waiting for its next try (the daemon's `failures`), no `! conflict`,
 * `! blocked` or `! prune-held` in the plan. A held change keeps the old container serving, so its
 * server may look ready; the change the user asked for is still not in place.
 */
export function allReady(v: StatusView): boolean {
  const nothingHeld = (v.doc.failures ?? []).length === 0 && v.held.length === 0;
  return v.gatewayReady && v.doc.servers.every(isReady) && v.invalid.length === 0 && nothingHeld;
}

/** Exit 0 of `status <name>`: that server ready, and no failed change or held/blocked operation of its own. */
export function serverReady(v: StatusView, s: ServerHealth): boolean {
  return isReady(s) && heldFor(v, s).length === 0;
}

/** Failed changes and held or blocked operations of one server (its container, its gateway entry). */
function heldFor(v: StatusView, s: ServerHealth): string[] {
  const object = `container:${s.container.name}`;
  return [
    ...(v.doc.failures ?? []).filter((f) => f.object === object).map((f) => failureLine(f)),
    ...v.held.filter((h) => h.server === s.name || h.resourceId === object).map((h) => heldLine(h)),
  ];
}

const failureLine = (f: NonNullable<StatusDocument['failures']>[number]): string =>
  `${f.object}: ${f.change} failed ${f.failures}x: ${f.reason}; next try ${f.nextTryAt}`;
const heldLine = (h: StatusView['held'][number]): string => `! ${h.type} ${h.resourceId}: ${h.cause}`;
/** `hello building mcp-reconciler-build/default/hello:ab12 (build: .) since 12s: Step 4/9 : RUN npm ci | added 91 packages` */
export const buildLine = (b: NonNullable<StatusDocument['builds']>[number]): string => {
  const last = b.lastLines.at(-1);
  const tail = last && last !== b.step ? ` | ${last}` : '';
  return `${b.server} ${b.state} ${b.tag} (${b.source}) since ${age(b.startedAt)}: ${b.step ?? '-'}${tail}`;
};

function age(fromIso: string | number | null, now = Date.now()): string {
  if (fromIso === null) return '-';
  const t = typeof fromIso === 'number' ? fromIso * 1000 : Date.parse(fromIso);
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Like `kubectl get`: one line per server. */
export function renderStatus(v: StatusView): string {
  const rows = [['NAME', 'TRANSPORT', 'CONTAINER', 'MCP', 'TOOLS', 'GATEWAY', 'AGE', 'MESSAGE']];
  for (const s of v.doc.servers) {
    const get = (t: string) => s.conditions.find((c) => c.type === t);
    const firstBad = CONDITION_ORDER.map((t) => get(t)).find((c) => c && c.status === 'False');
    rows.push([
      s.name,
      s.transport,
      s.container.state,
      get(C.McpReady)?.status === 'True' ? 'ready' : (get(C.McpReady)?.reason ?? '-'),
      s.tools ? (s.toolPolicy ? `${s.toolPolicy.exposed} (${s.toolPolicy.hidden.length} hidden)` : String(s.tools.length)) : '-',
      get(C.GatewayReady)?.status === 'True' ? `${s.gatewayTools.length} tools` : (get(C.GatewayReady)?.reason ?? '-'),
      age(s.container.created),
      firstBad ? `${firstBad.type}: ${firstBad.message}` : 'ready',
    ]);
  }
  const g = v.doc.gateway;
  const lines = [
    `gateway ${g?.mcpUrl ?? '-'}  ${v.gatewayReady ? 'ready' : 'NOT READY'}  ` +
      `${v.doc.gatewayMode ? `${v.doc.gatewayMode.mode} mode (${v.doc.gatewayMode.why})` : ''}   ` +
      `(from ${v.source}${v.doc.summary ? `: ${v.doc.summary}` : ''})`,
    '',
    table(rows),
  ];
  // Builds of build:/package: servers (ADR 0023) the daemon runs now or that failed last.
  const builds = (v.doc.builds ?? []).filter((b) => b.state !== 'built');
  if (builds.length) {
    lines.push('', 'builds:');
    for (const b of builds) lines.push(`  ${buildLine(b)}`);
  }
  const failed = v.doc.failures ?? [];
  if (failed.length) {
    lines.push('', 'changes that failed, waiting for their next try (edit the file or `apply --once` to try now):');
    for (const f of failed) lines.push(`  ${failureLine(f)}`);
  }
  // backoff-held repeats a failure above (the daemon's memory); the others wait for the user.
  const held = v.held.filter((h) => h.type !== 'backoff-held');
  if (held.length) {
    lines.push('', 'held or blocked (`plan` says why; deletions held by the guard: `apply --once --allow-empty`):');
    for (const h of held) lines.push(`  ${heldLine(h)}`);
  }
  if (v.invalid.length) {
    lines.push('', 'desired files not usable (their servers keep their last good state):');
    for (const i of v.invalid) lines.push(`  ${i.file}: ${i.message}`);
  }
  lines.push('', 'paths:');
  for (const [k, p] of Object.entries(v.doc.paths)) lines.push(`  ${k.padEnd(15)} ${p}`);
  return lines.join('\n');
}

/** `policy     8 exposed, 5 hidden by tools: get-env, ...` */
function policyLine(p: { exposed: number; hidden: string[] }): string {
  return `policy     ${p.exposed} exposed, ${p.hidden.length} hidden by tools: ${p.hidden.join(', ') || '-'}`;
}

/** `status <name>`: conditions and recent events of one server, and its held or failed changes (given `v`). */
export function renderServer(s: ServerHealth, v?: StatusView): string {
  const rows = [['CONDITION', 'STATUS', 'REASON', 'SINCE', 'MESSAGE']];
  for (const c of s.conditions) rows.push([c.type, c.status, c.reason, age(c.lastTransitionTime), c.message]);
  const lines = [
    `${s.name}  (${s.file})`,
    `container  ${s.container.name} ${s.container.state} id=${s.container.id ?? '-'} port=127.0.0.1:${s.container.hostPort ?? '-'}`,
    `image      ${s.container.image} ${s.container.imageId ?? ''}`,
    `litellm    ${s.gatewayName}  tools through gateway: ${s.gatewayTools.length}`,
    `tools      ${s.tools ? s.tools.join(', ') : '-'}`,
    ...(s.toolPolicy ? [policyLine(s.toolPolicy)] : []),
    '',
    table(rows),
    '',
    'events:',
    ...(s.events.length ? s.events.map((e) => `  ${e.time}  ${e.message}`) : ['  (none)']),
  ];
  const held = v ? heldFor(v, s) : [];
  if (held.length) lines.push('', 'held (not in place yet):', ...held.map((h) => `  ${h}`));
  return lines.join('\n');
}
