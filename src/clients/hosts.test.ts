import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { CLIENTS, checkHost, renderClient, shellQuote } from './render.js';
import { main } from '../cli/index.js';

const dir = mkdtempSync(join(tmpdir(), 'hosts-'));
const marker = join(dir, 'pwned');
const HOSTILE = [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `a;touch ${marker}`,
  `a"; touch ${marker}; "`,
  `a' ; touch ${marker}; '`,
  'a\nb',
  'host\n[evil]\nx = 1',
  '',
  'a b',
  '::1',
  'fd00::5',
  '[not-v6]',
  'host:4000',
  'user@host',
  'host/path',
  '999.1.1.1',
  '-rf',
  `${'a'.repeat(64)}.lan`,
  'a..b',
  '[fe80::1%eth0]',
];
const GOOD = ['linuxserver.lan', 'localhost', '192.168.1.5', '[fd00::5]', '[::1]', 'my-host.example.org'];

describe('clients --host: a hostname, an IPv4 or a bracketed IPv6 address, nothing else', () => {
  for (const h of HOSTILE) {
    test(`refuses ${JSON.stringify(h)}: checkHost, renderClient and the CLI (exit 1)`, async () => {
      assert.notEqual(checkHost(h), null);
      for (const c of CLIENTS) assert.throws(() => renderClient(c, h, 4000), /^Error: host: /);
      assert.equal(await main(['clients', `--host=${h}`]), 1);
    });
  }

  for (const h of GOOD) {
    test(`${h}: every snippet parses and the shell line runs as documented`, () => {
      assert.equal(checkHost(h), null);
      const url = `http://${h}:4000/mcp/`;
      const shell = renderClient('claude-code', h, 4000).body;
      const r = spawnSync('bash', ['-c', `claude() { printf '%s\\n' "$@"; }\n${shell}`], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', LITELLM_API_KEY: 'k' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout.trim().split('\n'),
        ['mcp', 'add', '--transport', 'http', 'litellm', url, '--header', 'x-litellm-api-key: Bearer k'],
      );
      for (const c of CLIENTS) {
        const out = renderClient(c, h, 4000);
        if (out.format === 'json') assert.ok(JSON.stringify(JSON.parse(out.body)).includes(JSON.stringify(url)));
        if (out.format === 'toml') {
          assert.equal((parseToml(out.body) as { mcp_servers: { litellm: { url: string } } }).mcp_servers.litellm.url, url);
        }
      }
    });
  }

  test('shellQuote: bash evaluates every hostile string to itself and runs nothing', () => {
    for (const h of HOSTILE) {
      const r = spawnSync('bash', ['-c', `printf '%s' ${shellQuote(h)}`], { encoding: 'utf8' });
      assert.equal(r.stdout, h);
    }
    assert.equal(existsSync(marker), false);
    rmSync(dir, { recursive: true, force: true });
  });
});
