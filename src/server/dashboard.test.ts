import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Metrics } from './metrics.js';

/** deploy/grafana/mcp-reconciler.json, seen from dist/src/server/. */
const DASHBOARD = fileURLToPath(new URL('../../../deploy/grafana/mcp-reconciler.json', import.meta.url));

/** PromQL words that are not series: aggregations, set operators, modifiers. */
const KEYWORDS = new Set(
  [
    'sum count min max avg stddev stdvar topk bottomk quantile count_values group',
    'or and unless bool offset by without on ignoring group_left group_right',
  ]
    .join(' ')
    .split(' '),
);

interface Selector {
  metric: string;
  labels: string[];
}

/** Every series selector in a PromQL expression: its metric name and the label names it matches on. */
export function selectorsIn(expr: string): Selector[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1');
  const out: Selector[] = [];
  for (const m of s.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const word = m[1] as string;
    const rest = s.slice((m.index ?? 0) + m[0].length).trimStart();
    if (KEYWORDS.has(word) || (rest.startsWith('(') && !m[2])) continue; // a function call or aggregation
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1] as string);
    out.push({ metric: word, labels });
  }
  return out;
}

/** Series the registry exposes, with the labels each carries (histograms: _bucket with le, _sum, _count). */
async function knownSeries(): Promise<Map<string, Set<string>>> {
  const m = new Metrics();
  const known = new Map<string, Set<string>>();
  for (const { name, type } of await m.registry.getMetricsAsJSON()) {
    const labels = (m.registry.getSingleMetric(name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    const base = new Set([...labels, 'job', 'instance']); // job and instance: added by Prometheus when it scrapes
    if (String(type) === 'histogram') {
      known.set(`${name}_bucket`, new Set([...base, 'le']));
      known.set(`${name}_sum`, base);
      known.set(`${name}_count`, base);
    } else known.set(name, base);
  }
  return known;
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

test('selectorsIn finds series and their matchers, not functions, keywords, ranges or grouping labels', () => {
  assert.deepEqual(selectorsIn('histogram_quantile(0.95, sum by (le, server) (rate(a_bucket{job=~"$job", x="y{z}"}[5m])))'), [
    { metric: 'a_bucket', labels: ['job', 'x'] },
  ]);
  assert.deepEqual(selectorsIn('count(b{c="1"} == 1) or vector(0)'), [{ metric: 'b', labels: ['c'] }]);
  assert.deepEqual(selectorsIn('60 * sum(rate(c_total[1h])) / d'), [{ metric: 'c_total', labels: [] }, { metric: 'd', labels: [] }]);
});

test('every series and label the Grafana dashboard queries exists in the daemon\'s registry', async () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { query: { query: string } }[] } };
  const known = await knownSeries();
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 15, `only ${exprs.length} queries`);
  const used = new Set<string>();
  for (const { panel, expr } of exprs) {
    const sel = selectorsIn(expr);
    assert.ok(sel.length > 0, `${panel}: no series in ${expr}`);
    for (const { metric, labels } of sel) {
      const have = known.get(metric);
      assert.ok(have, `${panel}: ${metric} is not a series of /metrics`);
      for (const l of labels) assert.ok(have.has(l), `${panel}: ${metric} has no label ${l}`);
      used.add(metric.replace(/_(bucket|sum|count)$/, ''));
    }
  }
  for (const v of dash.templating.list) {
    const metric = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(v.query.query)?.[1];
    assert.ok(metric && known.has(metric), `variable query ${v.query.query}`);
  }
  // Every metric of our own (not the process defaults) has a panel.
  const ours = [...known.keys()].filter((n) => !/_(process|nodejs)_/.test(n)).map((n) => n.replace(/_(bucket|sum|count)$/, ''));
  for (const n of new Set(ours)) assert.ok(used.has(n), `${n} is on no panel`);
});

test('a misspelt metric or label is caught', async () => {
  const known = await knownSeries();
  const [bad] = selectorsIn('rate(mcp_reconciler_hung_restart_total[5m])');
  assert.equal(known.has(bad!.metric), false);
  const [label] = selectorsIn('mcp_reconciler_server_condition{condtion="McpReady"}');
  assert.equal(known.get(label!.metric)?.has('condtion'), false);
});
