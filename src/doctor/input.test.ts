import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { lintFile, MAX_DOCTOR_BYTES } from './lint.js';
import { main } from '../cli/index.js';

const dir = mkdtempSync(join(tmpdir(), 'doctor-in-'));
const secrets = join(dir, 'secrets');
mkdirSync(secrets, { mode: 0o700 });
writeFileSync(
  join(secrets, 'mcp-litellm.env'),
  'LITELLM_MASTER_KEY=sk-master-secret\nDATABASE_URL=postgres://ll:dbpass@127.0.0.1:1/litellm\n',
  { mode: 0o600 },
);
process.env['MCP_RECONCILER_PROJECTS_ROOT'] = join(dir, 'projects');
process.env['MCP_RECONCILER_SECRETS_DIR'] = secrets;
process.env['XDG_CONFIG_HOME'] = join(dir, 'config');
delete process.env['MCP_RECONCILER_CONFIG'];

/** Run the CLI in-process, capturing stdout. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  // Strings are ours; the test runner's own events go to stdout as bytes.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write(chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(args), out };
  } finally {
    process.stdout.write = write;
  }
}

describe('doctor: os.environ/ where LiteLLM would expose it', () => {
  test('flags description and mcp_info, not authentication_token, auth_value or env', () => {
    const text = [
      'mcp_servers:',
      '  gh:',
      '    url: http://gh:8000/mcp',
      '    transport: http',
      '    description: os.environ/LITELLM_MASTER_KEY',
      '    authentication_token: os.environ/GH_TOKEN',
      '    auth_value: os.environ/GH_TOKEN',
      '    env:',
      '      A: os.environ/B',
      '    mcp_info:',
      '      description: os.environ/DATABASE_URL',
      '',
    ].join('\n');
    const rows = lintFile('config.yaml', text).filter((f) => f.rule === 'config.environ-exposed').map((f) => f.where);
    assert.deepEqual(rows, ['config.yaml:5:18', 'config.yaml:11:20']);
  });
});

describe('doctor reads its inputs safely', () => {
  const fifo = join(dir, 'config.yaml');
  execFileSync('mkfifo', [fifo]);
  const big = join(dir, 'big.yaml');
  writeFileSync(big, `mcp_servers:\n${'#'.repeat(MAX_DOCTOR_BYTES)}\n`);
  const cases: [string, string, RegExp][] = [
    ['a FIFO argument (would hang)', fifo, /is a FIFO, not a regular file/],
    ['/dev/zero (endless)', '/dev/zero', /is a character device, not a regular file/],
    ['a file over the cap', big, new RegExp(`is larger than ${MAX_DOCTOR_BYTES} bytes`)],
  ];
  for (const [what, path, message] of cases) {
    test(`${what}: an error finding, exit 1`, async () => {
      const r = await cli(['doctor', path, '--json']);
      assert.equal(r.code, 1);
      const findings = (JSON.parse(r.out) as { findings: { rule: string; message: string }[] }).findings;
      assert.equal(findings.length, 1);
      assert.equal(findings[0]?.rule, 'file.unreadable');
      assert.match(findings[0]!.message, message);
    });
  }
});

describe('doctor --url: the master key goes only to the configured gateway, or with --send-key', () => {
  let server: Server;
  let port = 0;
  const seen: (string | undefined)[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/v1/mcp/server' ? '[]' : '{"status":"alive","litellm_version":"1.77.3"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, () => string[], boolean][] = [
    ['another URL, no flag: withheld', () => ['doctor', '--url', `http://127.0.0.1:${port}`, '--json'], false],
    ['another URL with --send-key: sent', () => ['doctor', '--url', `http://127.0.0.1:${port}`, '--send-key', '--json'], true],
  ];
  for (const [what, args, sent] of cases) {
    test(what, async () => {
      seen.length = 0;
      process.env['MCP_RECONCILER_GATEWAY_PORT'] = String(port === 4000 ? 4001 : 4000);
      await cli(args());
      assert.ok(seen.length > 0, 'the proxy was asked');
      assert.equal(seen.includes('Bearer sk-master-secret'), sent);
      assert.ok(seen.every((h) => h === undefined || h === 'Bearer sk-master-secret'));
    });
  }

  test('the configured gateway (same origin) gets the key without a flag', async () => {
    seen.length = 0;
    process.env['MCP_RECONCILER_GATEWAY_PORT'] = String(port);
    await cli(['doctor', '--url', `http://127.0.0.1:${port}/`, '--json']);
    assert.ok(seen.includes('Bearer sk-master-secret'));
  });

  test('--db-env-file takes DATABASE_URL from the file; a password in --db is flagged, never printed', async () => {
    const fromFile = await cli(['doctor', '--db-env-file', join(secrets, 'mcp-litellm.env'), '--json']);
    const rules = (out: string) => (JSON.parse(out) as { findings: { rule: string }[] }).findings.map((f) => f.rule);
    assert.deepEqual(rules(fromFile.out), ['db.unreachable']);
    assert.ok(!fromFile.out.includes('dbpass'));
    const inArgv = await cli(['doctor', '--db', 'postgres://ll:dbpass@127.0.0.1:1/litellm', '--json']);
    assert.deepEqual(rules(inArgv.out), ['db.password-in-argv', 'db.unreachable']);
    assert.ok(!inArgv.out.includes('dbpass'));
  });
});
