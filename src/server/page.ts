import { createHash } from 'node:crypto';
import { CONDITION_ORDER, type Condition } from '../health/conditions.js';
import type { ServerHealth } from '../health/monitor.js';
import type { StatusDocument } from '../status/document.js';

/** How often the page reloads itself (`<meta http-equiv="refresh">`; no script). */
export const PAGE_REFRESH_S = 10;
/** Newest events shown, across the daemon and every server. */
export const PAGE_EVENTS = 30;

/** HTML that is already safe: only the template below makes one. */
class Html {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/**
 * The only way markup is built: every interpolated value is escaped unless it is itself `Html`
 * made by this function (arrays are joined). A value can never open a tag or leave an attribute.
 */
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const part = (v: unknown): string => {
    if (v instanceof Html) return v.text;
    if (Array.isArray(v)) return v.map(part).join('');
    if (v === null || v === undefined || v === false) return '';
    return escapeHtml(String(v));
  };
  let out = strings[0] ?? '';
  values.forEach((v, i) => (out += part(v) + (strings[i + 1] ?? '')));
  return new Html(out);
}

/** `12s`, `5m`, `3h`, `2d` since the time given (ISO string, or Unix seconds as Docker gives them). */
export function ageOf(from: string | number | null, now: number): string {
  if (from === null) return '-';
  const t = typeof from === 'number' ? from * 1000 : Date.parse(from);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:.5rem 1rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:.4rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.2rem 0}
th,td{text-align:left;padding:.2rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#eee}dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.3rem 0}dt{font-weight:600}dd{margin:0}
code{font:13px ui-monospace,monospace;background:#eee;padding:0 .2rem;overflow-wrap:anywhere}
.True{color:#17653a;font-weight:600}.False{color:#b3261e;font-weight:600}.Unknown{color:#8a6d00;font-weight:600}
.ok{background:#e6f4ea}.bad{background:#fce8e6}.msg{overflow-wrap:anywhere}.muted{color:#666;font-size:.9rem}
section.server{border:1px solid #ddd;border-radius:6px;background:#fff;padding:.3rem .8rem;margin:.6rem 0}
@media (max-width:40rem){body{font-size:14px}thead{display:none}table,tbody{display:block}
tr{display:block;border-bottom:1px solid #ddd;padding:.25rem 0}td{display:inline;border:0;padding:0 .4rem 0 0}td.msg{display:block}}
`;

/** The page's only style, allowed by hash in its Content-Security-Policy (no script at all). */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function firstNotTrue(s: ServerHealth): Condition | undefined {
  return CONDITION_ORDER.map((t) => s.conditions.find((c) => c.type === t)).find((c) => c && c.status !== 'True');
}

const isReady = (s: ServerHealth): boolean => s.conditions.length > 0 && !s.conditions.some((c) => c.status === 'False');

/** A table with a header row; `empty` fills it when there are no rows. */
function table(attrs: Html, headers: string[], rows: Html[], empty: string): Html {
  const body = rows.length ? rows : html`<tr><td colspan="${headers.length}">${empty}</td></tr>`;
  return html`<table${attrs}><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead>\n<tbody>${body}</tbody></table>`;
}

function serverRow(s: ServerHealth, now: number): Html {
  const bad = firstNotTrue(s);
  const why = bad ? html`<span class="${bad.status}">${bad.type}</span> ${bad.reason}: ${bad.message}` : 'ready';
  return html`<tr class="${isReady(s) ? 'ok' : 'bad'}" data-server="${s.name}">
<td><a href="#server-${s.name}">${s.name}</a></td><td>${s.transport}</td><td>${s.container.state}</td>
<td>${s.tools ? s.tools.length : '-'}</td><td>${ageOf(s.container.created, now)}</td><td class="msg">${why}</td></tr>`;
}

function serverSection(s: ServerHealth, now: number): Html {
  const conditions = s.conditions.map(
    (c) => html`<tr data-condition="${c.type}"><td>${c.type}</td><td class="${c.status}">${c.status}</td><td>${c.reason}</td>
<td>${ageOf(c.lastTransitionTime, now)}</td><td class="msg">${c.message}</td></tr>`,
  );
  const port = s.container.hostPort ? html`, 127.0.0.1:${s.container.hostPort}` : '';
  const through = s.gatewayTools.length ? html`, ${s.gatewayTools.length} through LiteLLM` : '';
  const open = s.tools && s.tools.length <= 12 ? html` open` : '';
  const exposed = s.tools ? (s.toolPolicy ? s.toolPolicy.exposed : s.tools.length) : 'not listed yet';
  const hidden = s.toolPolicy ? html`, ${s.toolPolicy.hidden.length} hidden by tools: (${s.toolPolicy.hidden.join(', ') || '-'})` : '';
  return html`<section class="server" id="server-${s.name}">
<h3>${s.name} <span class="muted">${s.transport}, LiteLLM name <code>${s.gatewayName}</code>, ${s.file}</span></h3>
<dl><dt>Container</dt><dd><code>${s.container.name}</code> ${s.container.state}${port}</dd>
<dt>Image</dt><dd><code>${s.container.image}</code></dd>
<dt>Last probe</dt><dd>${s.lastProbeAt ? `${ageOf(s.lastProbeAt, now)} ago` : 'not yet'}</dd>
<dt>Listed through LiteLLM</dt><dd>${s.gatewayCheckedAt ? `${ageOf(s.gatewayCheckedAt, now)} ago` : 'not yet'}</dd></dl>
${table(html``, ['Condition', 'Status', 'Reason', 'Age', 'Message'], conditions, 'not probed yet')}
<details${open}><summary>Tools exposed: ${exposed}${hidden}${through}</summary>
<p class="tools">${(s.tools ?? []).map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`)}</p></details>
</section>`;
}

/** Daemon and server events together, newest first. */
export function recentEvents(doc: StatusDocument, max = PAGE_EVENTS): { time: string; source: string; message: string }[] {
  const all = [
    ...(doc.events ?? []).map((e) => ({ ...e, source: 'daemon' })),
    ...doc.servers.flatMap((s) => s.events.map((e) => ({ ...e, source: s.name }))),
  ];
  return all.sort((a, b) => b.time.localeCompare(a.time)).slice(0, max);
}

/**
 * The status page: server-rendered HTML that reads without JavaScript and reloads itself. It shows
 * only what `/status` carries (already redacted by the caller) plus the client URL; every value
 * goes through the escaping template.
 */
export function renderStatusPage(doc: StatusDocument, opts: { now: number; clientUrl: string | null; refreshS?: number }): string {
  const { now } = opts;
  const refresh = opts.refreshS ?? PAGE_REFRESH_S;
  const ready = doc.servers.filter(isReady).length;
  const p = doc.lastPass;
  const mode = doc.gatewayMode;
  const muted = (t: string): Html => html` <span class="muted">(${t})</span>`;
  const failures = (doc.failures ?? []).map(
    (f) => html`<tr><td>${f.object}</td><td>${f.change}</td><td>${f.failures}</td><td>${f.nextTryAt}</td>
<td class="msg">${f.reason}</td></tr>`,
  );
  // Builds of build:/package: servers (ADR 0023): the newest per server, a running one with its step and last line.
  const builds = (doc.builds ?? []).map(
    (b) => html`<tr><td>${b.server}</td><td class="${b.state === 'failed' ? 'False' : ''}">${b.state}</td><td><code>${b.tag}</code></td>
<td title="${b.startedAt}">${ageOf(b.startedAt, now)}</td><td class="msg">${b.error ?? b.lastLines.at(-1) ?? b.step ?? ''}</td></tr>`,
  );
  const events = recentEvents(doc).map(
    (e) => html`<tr><td title="${e.time}">${ageOf(e.time, now)}</td><td>${e.source}</td><td class="msg">${e.message}</td></tr>`,
  );
  const header = html`<code>x-litellm-api-key: Bearer $LITELLM_API_KEY</code>`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${ready}/${doc.servers.length} ready - mcp-reconciler</title><style>${new Html(STYLE)}</style></head>
<body>
<h1>mcp-reconciler <span class="muted" id="summary">${doc.summary}</span></h1>
<p class="muted">Rendered ${new Date(now).toISOString()}; reloads every ${refresh} s.
JSON: <a href="/status">/status</a>, metrics: <a href="/metrics">/metrics</a>.</p>
<h2>Gateway</h2>
<dl id="gateway">
<dt>Mode</dt><dd id="gateway-mode">${mode ? html`${mode.mode} mode${muted(mode.why)}` : 'not known yet'}</dd>
<dt>Address</dt><dd id="gateway-address">${
    doc.gateway ? html`<code>${doc.gateway.url}</code>${muted('as the daemon reaches it')}` : 'none'
  }</dd>
<dt>Client URL</dt><dd id="client-url">${
    opts.clientUrl ? html`<code>${opts.clientUrl}</code> <span class="muted">with header ${header} (a LiteLLM virtual key)</span>` : '-'
  }</dd>
<dt>Last pass</dt><dd id="last-pass">${
    p
      ? html`${ageOf(p.at, now)} ago, ${p.ms} ms, ${p.operations} changes, ${p.failed} failed${
          p.error ? html` <span class="False">${p.error}</span>` : ''
        }`
      : 'not yet'
  }</dd>
<dt>Passes</dt><dd>${doc.passes} since ${doc.startedAt}</dd>
</dl>
<h2>Servers: ${ready} of ${doc.servers.length} ready</h2>
${table(
  html` id="servers"`,
  ['Name', 'Transport', 'Container', 'Tools', 'Age', 'First condition not True'],
  doc.servers.map((s) => serverRow(s, now)),
  'no servers desired',
)}
${
  failures.length
    ? html`<h2>Changes waiting for their next try</h2>
${table(html` id="failures"`, ['Object', 'Change', 'Failures', 'Next try', 'Reason'], failures, '')}`
    : ''
}
${
  builds.length
    ? html`<h2>Builds</h2>
${table(html` id="builds"`, ['Server', 'State', 'Image', 'Started', 'Last line'], builds, '')}`
    : ''
}
${doc.servers.map((s) => serverSection(s, now))}
<h2>Recent events</h2>
${table(html` id="events"`, ['Age', 'Source', 'Event'], events, 'none yet')}
<h2>Paths</h2>
<dl id="paths">${Object.entries(doc.paths).map(([k, v]) => html`<dt>${k}</dt><dd><code>${v}</code></dd>`)}</dl>
</body></html>
`;
  return page.text;
}
