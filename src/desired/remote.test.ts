import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDesiredFile } from './load.js';
import { remoteUrlProblem } from './schema.js';
import { edgeSpec, edgeRemoteArgs, toolPolicyPath } from './resolve.js';
import { parsePolicyFile } from '../policy/tool-policy.js';
import { formatIssue } from '../errors/index.js';
import { plan } from '../reconcile/planner.js';
import { renderPlan } from '../reconcile/render-plan.js';
import { writeOps } from '../model/types.js';
import { testSettings, model, HTTP, baseInput, converged } from '../testing/fixtures.js';
import { projectFixture } from '../testing/project.js';
import { probeTarget } from '../health/reach.js';
import { remoteFor } from '../edge/server.js';
import { EXPORT_FORMATS, exportManifests } from '../export/index.js';

const F = 'desired-state/mcp-x.yaml';
const REMOTE = 'url: https://mcp.example.lan:8443/mcp\ntransport: http\n';

function errors(text: string): string[] {
  const r = parseDesiredFile(text, F, 'mcp-x.yaml');
  return r.invalid ? r.invalid.issues.map(formatIssue) : [];
}

describe('url: servers in the desired file (ADR 0022)', () => {
  test('a url: server with transport http or sse is valid without image or port', () => {
    assert.deepEqual(errors(REMOTE), []);
    assert.deepEqual(errors('url: http://10.0.0.5:3001/sse\ntransport: sse\ndescription: LAN box\n'), []);
    assert.deepEqual(errors(`${REMOTE}auth:\n  type: bearer_token\n  secret: TOKEN\nhealth:\n  intervalSeconds: 60\n`), []);
  });

  const cases: [string, string, string][] = [
    ['not http(s)', 'url: ftp://host/mcp\ntransport: http\n', `${F}:1:6 url: ftp: is not http or https`],
    ['not a URL at all', 'url: mcp.example.lan/mcp\ntransport: http\n', `${F}:1:6 url: not a URL: write http(s)://host[:port]/path`],
    ['user:password inline', 'url: https://me:s3cret@host/mcp\ntransport: http\n',
      `${F}:1:6 url: credentials inline (user:password@): put the secret in the env file and name it under auth:`],
    ['a token in the query', 'url: https://host/mcp?api_key=abc\ntransport: http\n',
      `${F}:1:6 url: credentials inline (query parameter api_key): put the secret in the env file and name it under auth:`],
    ['a fragment', 'url: https://host/mcp#x\ntransport: http\n', `${F}:1:6 url: no #fragment (it is never sent to the server)`],
    ['os.environ/ smuggled in', 'url: https://host/os.environ/X\ntransport: http\n',
      `${F}:1:6 url: must not contain os.environ/ (LiteLLM would replace it with a secret from its environment)`],
    ['url together with image', `image: a:1\n${REMOTE}`,
      `${F}:1:8 image: a url: server runs elsewhere and has no container: image does not apply (drop it or drop url:)`],
    ['url together with command', `${REMOTE}command: [x]\n`,
      `${F}:3:10 command: a url: server runs elsewhere and has no container: command does not apply (drop it or drop url:)`],
    ['url together with port', `${REMOTE}port: 3001\n`,
      `${F}:3:7 port: a url: server runs elsewhere and has no container: port does not apply (drop it or drop url:)`],
    ['url together with env', `${REMOTE}env:\n  A: b\n`,
      `${F}:4:3 env: a url: server runs elsewhere and has no container: env does not apply (drop it or drop url:)`],
    ['url with stdio', 'url: https://host/mcp\ntransport: stdio\n',
      `${F}:2:12 transport: a url: server speaks http (streamable HTTP) or sse, not stdio`],
  ];
  for (const [name, text, expected] of cases) {
    test(`located error: ${name}`, () => {
      assert.ok(errors(text).includes(expected), `expected ${JSON.stringify(expected)} in ${JSON.stringify(errors(text))}`);
    });
  }

  test('remoteUrlProblem lets ordinary query parameters through', () => {
    assert.equal(remoteUrlProblem('https://host/mcp?tenant=a&v=2'), null);
    assert.equal(remoteUrlProblem('http://[fd00::1]:3001/mcp'), null);
    assert.match(remoteUrlProblem('https://host/mcp?token=x') ?? '', /credentials inline/);
    assert.match(remoteUrlProblem('https://host/mcp?Authorization=x') ?? '', /credentials inline/);
  });
});

describe('url: servers in the model and the plan', () => {
  const s = testSettings();
  const httpRemote = model(s, 'lan', 'url: https://mcp.example.lan:8443/mcp\ntransport: http\n');
  const sseRemote = model(s, 'legacy-lan', 'url: http://10.0.0.5:3001/sse\ntransport: sse\n');
  const local = model(s, 'everything', HTTP);

  test('no container, no network; http through the edge, sse directly', () => {
    assert.equal(httpRemote.container, null);
    assert.equal(httpRemote.network, null);
    assert.deepEqual(httpRemote.remote, { url: 'https://mcp.example.lan:8443/mcp', object: 'mcp-lan' });
    assert.equal(httpRemote.gatewayEntry?.['url'], 'http://mcp-edge:8080/mcp-lan/remote');
    assert.equal(httpRemote.gatewayEntry?.['transport'], 'http');
    assert.equal(sseRemote.gatewayEntry?.['url'], 'http://10.0.0.5:3001/sse');
    assert.equal(sseRemote.gatewayEntry?.['transport'], 'sse');
    assert.equal(httpRemote.health.restartOnHang, false);
  });

  test('the edge gets a --remote route for remote http servers only', () => {
    assert.deepEqual(edgeRemoteArgs(s, [local, sseRemote, httpRemote]), ['--remote', 'mcp-lan=https://mcp.example.lan:8443/mcp']);
    const cmd = edgeSpec(s, [local, httpRemote]).cmd ?? [];
    assert.deepEqual(cmd.slice(-2), ['--remote', 'mcp-lan=https://mcp.example.lan:8443/mcp']);
  });

  test('a url: server produces no Docker operation of its own: only the gateway entry (and the edge for http)', () => {
    const p = plan(baseInput(s, [httpRemote, sseRemote]));
    assert.equal(
      renderPlan(p),
      [
        '+ create-network network:mcp-net: not found',
        '+ create-volume volume:mcp-edge.docker: not found',
        '+ create-container container:mcp-edge.docker: not found',
        '+ create-container container:mcp-edge: not found',
        '~ write-gateway-guard file:/srv/projects/mcp/litellm/mcp_reconciler_guard.py: not found',
        '~ write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: add mcp_lan, mcp_legacy_lan; ' +
          'litellm_settings.callbacks: add mcp_reconciler_guard.guard',
        '+ create-container container:mcp-litellm: not found',
      ].join('\n'),
    );
    const op = p.operations.find((o) => o.type === 'write-gateway-config');
    assert.ok(op && op.type === 'write-gateway-config');
    assert.match(op.text, /mcp_lan:\n\s+url: http:\/\/mcp-edge:8080\/mcp-lan\/remote\n\s+transport: http/);
    assert.match(op.text, /mcp_legacy_lan:\n\s+url: http:\/\/10\.0\.0\.5:3001\/sse\n\s+transport: sse/);
  });

  test('an sse url: server alone needs no edge; the plan is empty once applied', () => {
    const input = baseInput(s, [sseRemote]);
    assert.ok(!plan(input).operations.some((o) => o.resourceId.startsWith('container:mcp-edge')));
    const text = plan(input).operations.find((o) => o.type === 'write-gateway-config');
    assert.ok(text && text.type === 'write-gateway-config');
    assert.deepEqual(writeOps(plan({ ...input, observed: converged(input, text.text) })), []);
  });

  test('API mode: the url server is a row with the edge route (http) or its URL (sse)', () => {
    const input = baseInput(s, [httpRemote, sseRemote], {
      gateway: { ...baseInput(s, []).gateway, mode: 'api' },
      observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: null, apiServers: [] },
    });
    const creates = plan(input).operations.flatMap((o) => (o.type === 'api-create' ? [o.body] : []));
    assert.deepEqual(
      creates.map((b) => [b['server_name'], b['url'], b['transport']]),
      [['mcp_lan', 'http://mcp-edge:8080/mcp-lan/remote', 'http'], ['mcp_legacy_lan', 'http://10.0.0.5:3001/sse', 'sse']],
    );
  });
});

describe('url: servers with auth: (fake Docker, real files)', () => {
  test('the credential reaches the gateway as MCP_AUTH_<NAME>, config.yaml names only the variable', async () => {
    const f = projectFixture({});
    try {
      writeFileSync(join(f.secretsDir, 'mcp-lan.env'), 'LAN_TOKEN=t0ps3cret\n', { mode: 0o600 });
      f.write('lan', 'url: https://mcp.example.lan/mcp\ntransport: http\nauth:\n  type: bearer_token\n  secret: LAN_TOKEN\n');
      const out = await f.r.reconcile();
      assert.deepEqual(out.result.failed, []);
      assert.deepEqual(
        writeOps(out.plan).filter((o) => o.server === 'lan').map((o) => o.type),
        [],
        'nothing is created for the server itself',
      );
      const write = out.plan.operations.find((o) => o.type === 'write-gateway-config');
      assert.ok(write && write.type === 'write-gateway-config');
      const config = write.text;
      assert.match(config, /mcp_lan:\n\s+url: http:\/\/mcp-edge:8080\/mcp-lan\/remote\n\s+transport: http\n/);
      assert.match(config, /\s+auth_type: bearer_token\n\s+authentication_token: os\.environ\/MCP_AUTH_LAN/);
      assert.ok(!config.includes('t0ps3cret'), 'the secret is not in config.yaml');
      assert.ok(!JSON.stringify(out).includes('t0ps3cret'), 'nor in the plan or the outcome');
      const gateway = [...f.runtime.containers.values()].find((c) => c.spec.name === 'mcp-litellm');
      assert.deepEqual(gateway?.spec.envFromFiles, [{ file: join(f.secretsDir, 'mcp-lan.env'), key: 'LAN_TOKEN', as: 'MCP_AUTH_LAN' }]);
      assert.ok(!JSON.stringify(gateway?.spec).includes('t0ps3cret'), 'the gateway spec names the file, never the value');
      const edge = [...f.runtime.containers.values()].find((c) => c.spec.name === 'mcp-edge');
      assert.ok(edge?.spec.cmd?.includes('mcp-lan=https://mcp.example.lan/mcp'));
      assert.deepEqual(writeOps((await f.r.reconcile()).plan), [], 'steady state');
    } finally {
      f.cleanup();
    }
  });
});

describe('url: servers are probed as LiteLLM reaches them', () => {
  const edge = { name: 'mcp-edge', port: 8080, hostPort: 40001 };
  const base = { internal: false, container: 'mcp-lan', port: undefined, mcpPath: null, hostPort: null, edge };
  test('http: through the edge route, from the host or by name', () => {
    assert.deepEqual(probeTarget({ ...base, reach: 'host', transport: 'http', remoteUrl: 'https://h/mcp' }), {
      url: 'http://127.0.0.1:40001/mcp-lan/remote',
      transport: 'http',
    });
    assert.deepEqual(probeTarget({ ...base, reach: 'network', transport: 'http', remoteUrl: 'https://h/mcp' }), {
      url: 'http://mcp-edge:8080/mcp-lan/remote',
      transport: 'http',
    });
    assert.deepEqual(probeTarget({ ...base, edge: null, reach: 'host', transport: 'http', remoteUrl: 'https://h/mcp' }), {
      why: 'the edge is not running (the probe goes through it)',
    });
  });
  test('sse: its URL, directly', () => {
    assert.deepEqual(probeTarget({ ...base, reach: 'network', transport: 'sse', remoteUrl: 'http://10.0.0.5:3001/sse' }), {
      url: 'http://10.0.0.5:3001/sse',
      transport: 'sse',
    });
  });
});

describe("the edge's remote routes", () => {
  const remotes = new Map([['mcp-lan', 'https://mcp.example.lan:8443/mcp?tenant=a']]);
  test('only names given with --remote are forwarded, to exactly their URL', () => {
    assert.equal(remoteFor('/mcp-lan/remote', remotes), 'https://mcp.example.lan:8443/mcp?tenant=a');
    assert.equal(remoteFor('/mcp-lan/remote?x=1', remotes), 'https://mcp.example.lan:8443/mcp?tenant=a&x=1');
    assert.equal(remoteFor('/mcp-lan/remote/sub', remotes), 'https://mcp.example.lan:8443/mcp/sub?tenant=a');
    assert.equal(remoteFor('/mcp-other/remote', remotes), null);
    assert.equal(remoteFor('/mcp-lan/3001/mcp', remotes), null);
    assert.equal(remoteFor('/mcp-lan/remote', undefined), null);
  });
});

describe('url: servers in the export (ADR 0018)', () => {
  test('both formats leave a url: server out with a located refusal', () => {
    const r = parseDesiredFile(REMOTE, F, 'mcp-x.yaml');
    assert.ok(r.server);
    const o = { namespace: 'mcp', prefix: 'mcp-', edgeImage: 'mcp-reconciler:0.1.0', edgePort: 8080 };
    for (const format of EXPORT_FORMATS) {
      const out = exportManifests(format, [{ desired: r.server, host: { envFile: null, mounts: [] } }], o);
      assert.deepEqual(out.refusals.map(formatIssue), [
        `${F}:1:6 url: a url: server runs elsewhere: there is no pod to export; register it with the exported LiteLLM by hand`,
      ]);
    }
  });
});

describe('url: servers under a tool policy (ADR 0021, 0022)', () => {
  test('tools: on an http url: server is written to the policy file; on an sse one it is a located error', () => {
    const s = testSettings();
    const lan = model(s, 'lan', 'url: https://mcp.example.lan/mcp\ntransport: http\ntools:\n  deny: ["write_*"]\n');
    assert.deepEqual(lan.toolPolicy, { deny: ['write_*'] });
    const path = toolPolicyPath(s);
    const op = plan(baseInput(s, [lan], { toolPolicy: { path } })).operations.find((o) => o.type === 'write-tool-policy');
    assert.ok(op && op.type === 'write-tool-policy');
    const back = parsePolicyFile(op.text);
    assert.ok(back.ok);
    assert.deepEqual(back.servers['lan']?.deny, ['write_*']);
    assert.ok(
      errors('url: http://h:3001/sse\ntransport: sse\ntools:\n  deny: [x]\n')
        .some((e) => e.startsWith(`${F}:4:3 tools: an sse server is reached`)),
      JSON.stringify(errors('url: http://h:3001/sse\ntransport: sse\ntools:\n  deny: [x]\n')),
    );
  });
});
