import { connect } from 'node:net';
import { request } from 'undici';
import { z } from 'zod';
import { errorMessage } from '../errors/index.js';
import { FRONT_STATUS_PATH } from '../front/server.js';
import type { Finding } from './findings.js';

const TIMEOUT_MS = 3_000;

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; location: string | null } | null> {
  try {
    const r = await request(url, {
      method: 'GET',
      headers,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      maxRedirections: 0,
    } as Parameters<typeof request>[1]);
    const body = await r.body.text();
    const loc = r.headers['location'];
    return { status: r.statusCode, body, location: typeof loc === 'string' ? loc : null };
  } catch {
    return null;
  }
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: TIMEOUT_MS });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** What the blue/green front answers at FRONT_STATUS_PATH (ADR 0025); anything else is not our front. */
const FrontStatusSchema = z.object({
  active: z.enum(['blue', 'green']).nullable(),
  upstreams: z.object({ blue: z.object({ inflight: z.number() }), green: z.object({ inflight: z.number() }) }),
});

/** The blue/green front, when one holds the port: which colour it forwards to (null: none yet), as findings. */
async function frontFindings(base: string, where: string, namePrefix: string): Promise<{ findings: Finding[]; stop: boolean }> {
  const r = await get(`${base}${FRONT_STATUS_PATH}`);
  const parsed = r?.status === 200 ? FrontStatusSchema.safeParse(safeJson(r.body)) : null;
  if (!parsed?.success) return { findings: [], stop: false };
  const { active, upstreams } = parsed.data;
  if (active === null) {
    return {
      stop: true,
      findings: [{
        severity: 'error',
        rule: 'proxy.front-no-colour',
        where,
        message: 'the blue/green front holds the port but has read no active colour yet: it answers 503 to every request',
        fix: `run \`mcp-reconciler apply --once\` (it writes <projectsRoot>/front/active.json); \`docker logs ${namePrefix}front\``,
      }],
    };
  }
  const inflight = `calls in flight: blue ${upstreams.blue.inflight}, green ${upstreams.green.inflight}`;
  return {
    stop: false,
    findings: [{
      severity: 'info',
      rule: 'proxy.front',
      where,
      message: `the blue/green front (ADR 0025) forwards to ${namePrefix}litellm-${active}; ${inflight}`,
      fix: '',
    }],
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Check a running proxy: is the port LiteLLM's (LiteLLM silently picks another port when its
 * port is busy), is it 1.77.3, does `/mcp` redirect, does it have a database (API mode). Behind the
 * blue/green front (ADR 0025) the checks reach the active colour, and the front's colour is named.
 */
export async function doctorProxy(baseUrl: string, masterKey: string | null, opts: { namePrefix?: string } = {}): Promise<Finding[]> {
  const u = new URL(baseUrl);
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  const where = `${u.protocol}//${u.host}`;
  const base = baseUrl.replace(/\/+$/, '');
  const out: Finding[] = [];
  if (!(await listening(u.hostname, port))) {
    out.push({
      severity: 'warning',
      rule: 'proxy.down',
      where,
      message: `nothing listens on ${u.host}`,
      fix: 'start the gateway (`mcp-reconciler apply --once` runs mcp-litellm); `docker logs mcp-litellm`',
    });
    return out;
  }
  const front = await frontFindings(base, where, opts.namePrefix ?? 'mcp-');
  out.push(...front.findings);
  if (front.stop) return out;
  const live = await get(`${base}/health/liveliness`);
  if (!live || live.status !== 200 || !/alive/i.test(live.body)) {
    out.push({
      severity: 'error',
      rule: 'proxy.port-taken',
      where,
      message: `port ${port} is taken by something that is not LiteLLM (GET /health/liveliness: ${live ? live.status : 'no answer'}); ` +
        'LiteLLM would silently start on another port',
      fix: `find it (ss -ltnp 'sport = :${port}') and stop it, or publish LiteLLM on another port (gateway.hostPort)`,
    });
    return out;
  }
  const ready = await get(`${base}/health/readiness`);
  let version = '?';
  try {
    version = String((JSON.parse(ready?.body ?? '{}') as { litellm_version?: string }).litellm_version ?? '?');
  } catch {
    /* not JSON */
  }
  if (version !== '1.77.3') {
    out.push({
      severity: 'error',
      rule: 'proxy.version',
      where,
      message: `LiteLLM ${version} answers here; this stack is verified against 1.77.3 only`,
      fix: 'run ghcr.io/berriai/litellm:v1.77.3-stable',
    });
  } else {
    out.push({ severity: 'info', rule: 'proxy.ok', where, message: `LiteLLM 1.77.3 ready (${ready?.status ?? '?'})`, fix: '' });
  }
  const noSlash = await get(`${base}/mcp`);
  if (noSlash && noSlash.status >= 300 && noSlash.status < 400) {
    out.push({
      severity: 'info',
      rule: 'proxy.mcp-redirect',
      where: `${base}/mcp`,
      message: `/mcp answers ${noSlash.status} (-> ${noSlash.location ?? '?'}); clients must use /mcp/`,
      fix: 'configure clients with the trailing slash (`mcp-reconciler clients`)',
    });
  }
  if (masterKey) {
    const auth = { authorization: `Bearer ${masterKey}` };
    const list = await get(`${base}/v1/mcp/server`, auth);
    if (!list || list.status !== 200) {
      out.push({
        severity: 'error',
        rule: 'proxy.api',
        where: `${base}/v1/mcp/server`,
        message: `GET answered ${list?.status ?? 'nothing'}: the master key is wrong or the management API is off`,
        fix: 'check LITELLM_MASTER_KEY in mcp-litellm.env',
      });
    } else {
      try {
        const n = (JSON.parse(list.body) as unknown[]).length;
        out.push({
          severity: 'info',
          rule: 'proxy.servers',
          where: `${base}/v1/mcp/server`,
          message: `${n} MCP server(s) registered`,
          fix: '',
        });
      } catch (err) {
        out.push({
          severity: 'warning',
          rule: 'proxy.api',
          where: `${base}/v1/mcp/server`,
          message: `unexpected body: ${errorMessage(err)}`,
          fix: '',
        });
      }
      const db = await get(`${base}/v1/mcp/server/mcp-reconciler-probe`, auth);
      if (db && /Database not connected/i.test(db.body)) {
        out.push({
          severity: 'info',
          rule: 'proxy.no-database',
          where,
          message: 'no database: servers come from config.yaml only (config mode; changes need a restart)',
          fix: 'for API mode and the audit log: `mcp-reconciler db init` (DATABASE_URL) and the litellm-database image',
        });
      }
    }
  }
  return out;
}
