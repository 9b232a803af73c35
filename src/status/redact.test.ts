import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MASK, SecretMask, redactDeep, redactText, secretValuesOf } from './redact.js';
import { CLIP_MARK, clipText } from '../errors/index.js';

// [input, the secret that must be gone, what must stay]
const CASES: [string, string, string][] = [
  ['connect failed: postgres://litellm:hunter2hunter2@db:5432/litellm', 'hunter2hunter2', 'postgres://litellm:'],
  ['upstream said 401 for Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc', 'eyJhbGciOiJIUzI1NiJ9.abc', 'Authorization: Bearer'],
  ['env line LITELLM_MASTER_KEY=sk-1234abcd5678efgh in the log', 'sk-1234abcd5678efgh', 'LITELLM_MASTER_KEY='],
  ['GITHUB_PERSONAL_ACCESS_TOKEN=plainvalue99 was rejected', 'plainvalue99', 'GITHUB_PERSONAL_ACCESS_TOKEN='],
  ['{"password": "correct-horse"}', 'correct-horse', '"password": "'],
  ['api_key: abcdefgh12', 'abcdefgh12', 'api_key: '],
  ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789 expired', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'expired'],
  ['a bare key sk-proj-ABCDEFGHIJKLMNOP in a message', 'sk-proj-ABCDEFGHIJKLMNOP', 'in a message'],
  ['slack xoxb-1234567890-abcdefghij failed', 'xoxb-1234567890-abcdefghij', 'slack'],
  ['aws AKIAIOSFODNN7EXAMPLE here', 'AKIAIOSFODNN7EXAMPLE', 'aws'],
  ['DATABASE_URL=postgres://u:pw12345@h/db', 'pw12345', 'DATABASE_URL='],
  // By name, in the quoting servers and LiteLLM use (Python's repr, JSON in JSON, escaped quotes, lower-case schemes).
  ["Python's repr: {'password': 'abc123def', 'x': 1}", 'abc123def', "{'password': '"],
  ['an escaped quote inside the value: {"password":"ab\\"cdsecretpart"}', 'cdsecretpart', '{"password":"'],
  ['spaces inside the quoted value: {"password": "correct horse battery"}', 'horse', '"password": "'],
  ['JSON in JSON: {\\"api_key\\":\\"k3y-v4lue-9\\",\\"n\\":1}', 'k3y-v4lue-9', '{\\"api_key\\":\\"'],
  ['error: {"token": "t0k3n-abcdef"} (a secret-named key in the value of another)', 't0k3n-abcdef', 'error: {"token": "'],
  ['authorization: bearer abcdefghijk123 (lower case scheme)', 'abcdefghijk123', 'authorization: bearer '],
  ['authorization: basic dXNlcjpwYXNzd29yZA== (lower case scheme)', 'dXNlcjpwYXNzd29yZA', 'authorization: basic '],
  ['"Authorization": "Token tok-0123456789"', 'tok-0123456789', '"Authorization": "Token '],
];

for (const [input, secret, kept] of CASES) {
  test(`redactText masks ${JSON.stringify(secret)}`, () => {
    const out = redactText(input);
    assert.ok(!out.includes(secret), out);
    assert.ok(out.includes(kept), out);
    assert.ok(out.includes(MASK), out);
  });
}

test('ordinary status text is left as it is', () => {
  for (const s of [
    'connect ECONNREFUSED 127.0.0.1:32769 (4 in a row)',
    'mcp_github in /home/u/projects/mcp/litellm/config.yaml',
    '/home/u/projects/secrets/mcp-github.env',
    'McpReady True -> False (HealthTimeout): timed out after 10000 ms',
    'tools changed: +[get_token_usage, search] -[]',
    'exited 1: Error: GITHUB_PERSONAL_ACCESS_TOKEN is not set; next try in 40 s',
  ]) {
    assert.equal(redactText(s), s);
  }
});

test('a known secret value is masked wherever it appears, the longest first', () => {
  const out = redactText('the server echoed "opensesame-42" and opensesame', ['opensesame-42', 'opensesame']);
  assert.equal(out, `the server echoed "${MASK}" and ${MASK}`);
  assert.equal(redactText('x 12345 y', ['12345']), 'x 12345 y', 'values shorter than 6 are not masked by value');
});

test('a known secret cut short by clipText is masked up to the cut: its first characters never show', () => {
  const secret = 'zq-upstream-token-7f3a9c';
  for (const keep of [4, 10, secret.length - 1]) {
    const body = `${'x'.repeat(200 - keep)} ${secret} trailing`;
    const clipped = `HTTP 401 for tools/list: ${clipText(body.slice(1), 200)}`;
    assert.ok(clipped.includes(secret.slice(0, keep) + CLIP_MARK), `the cut keeps ${keep} characters of the secret`);
    const out = redactText(clipped, [secret]);
    assert.ok(!out.includes(secret.slice(0, 3)), `no start of the secret is left (${keep} kept): ${out.slice(-40)}`);
    assert.ok(out.endsWith(`${MASK}${CLIP_MARK}`));
  }
  assert.equal(redactText(`abc${CLIP_MARK}`, [secret]), `abc${CLIP_MARK}`, 'a cut that is no secret\'s start stays');
  assert.equal(clipText('short', 200), 'short', 'text under the limit is not marked');
});

test('redactDeep masks strings at every depth and keeps keys and other values', () => {
  const doc = { a: 'password: secret123', n: 5, list: [{ m: 'Bearer abcdefgh' }, null], ok: true };
  assert.deepEqual(redactDeep(doc, []), { a: `password: ${MASK}`, n: 5, list: [{ m: `Bearer ${MASK}` }, null], ok: true });
});

test('secretValuesOf reads every value of safe env files and skips a file it may not read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redact-'));
  const good = join(dir, 'mcp-a.env');
  writeFileSync(good, 'A_TOKEN=first-secret\nSHORT=1\n# C=commented-out\n', { mode: 0o600 });
  const open = join(dir, 'mcp-b.env');
  writeFileSync(open, 'B=readable-by-all\n');
  chmodSync(open, 0o644);
  mkdirSync(join(dir, 'a-dir'));
  assert.deepEqual(secretValuesOf([good, open, join(dir, 'missing.env'), join(dir, 'a-dir'), good]), ['first-secret']);
});

test('SecretMask: the values of the files it is told, read again after the TTL; setFiles adds a file at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mask-'));
  const a = join(dir, 'mcp-a.env');
  const b = join(dir, 'mcp-b.env');
  writeFileSync(a, 'A_VALUE=first-value-1\n', { mode: 0o600 });
  writeFileSync(b, 'B_VALUE=second-value-2\n', { mode: 0o600 });
  let now = 0;
  const mask = new SecretMask([a], { ttlMs: 1000, now: () => now });
  assert.equal(mask.text('x first-value-1 second-value-2'), `x ${MASK} second-value-2`);
  mask.setFiles([a, b]);
  assert.equal(mask.text('x first-value-1 second-value-2'), `x ${MASK} ${MASK}`);
  writeFileSync(a, 'A_VALUE=changed-value-3\n', { mode: 0o600 });
  assert.equal(mask.text('changed-value-3'), 'changed-value-3', 'within the TTL the old values serve');
  now = 1000;
  assert.equal(mask.text('changed-value-3'), MASK);
  assert.deepEqual(mask.deep({ m: ['changed-value-3', 'password=hunter22'] }), { m: [MASK, `password=${MASK}`] });
});

describe('a known secret quoted in another form is masked too', () => {
  // A value with what JSON, URLs and Go escape: a quote, a backslash, a slash, &<>, +, a space, non-ASCII.
  const secret = 'Pa"ss\\wo/rd&<>+ é-end';
  const forms: [string, string][] = [
    ['JSON-escaped (a probe error quoting a JSON body)', JSON.stringify({ error: `bad key ${secret}` })],
    ['JSON in JSON (escaped twice)', JSON.stringify(JSON.stringify({ error: `bad key ${secret}` }))],
    ["Go's JSON (\\u0026 and the like)", JSON.stringify({ e: secret }).replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)],
    ['ASCII-only JSON (Python ensure_ascii: \\u00e9)', JSON.stringify({ e: secret }).replace(/é/g, '\\u00e9')],
    ['every character as \\u00XX', `x ${[...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')} y`],
    ['percent-encoded (%2F)', `GET /q?x=${encodeURIComponent(secret)} failed`],
    ['percent-encoded, lowercase hex (%2f)', `GET /q?x=${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ['form-encoded (+ for a space)', `body x=${encodeURIComponent(secret).replace(/%20/g, '+')}`],
    ['upper case', `echo ${secret.toUpperCase()}`],
    ['lower case', `echo ${secret.toLowerCase()}`],
  ];
  for (const [what, text] of forms) {
    test(what, () => {
      const out = redactText(text, [secret]);
      assert.ok(out.includes(MASK), out);
      for (const part of ['pa', 'ss', 'wo', 'rd', 'end']) assert.ok(!out.toLowerCase().includes(part), `${part} left: ${out}`);
    });
  }
  test('cut short by clipText inside its JSON form, even inside an escape: no start of it is left', () => {
    const body = JSON.stringify({ detail: `denied ${secret}` });
    // `Pa\"` (4) keeps 3 characters, `Pa\"ss` (6) and `Pa\"ss\` (7) cut after and inside an escape.
    for (const keep of [4, 6, 7, 12, 20]) {
      const at = body.indexOf('Pa') + keep;
      const clipped = `HTTP 401 for tools/list: ${clipText(body, at)}`;
      const out = redactText(clipped, [secret]);
      assert.ok(out.endsWith(`${MASK}${CLIP_MARK}`), `${keep}: ${out}`);
      assert.ok(!out.includes('Pa"') && !out.includes('Pa\\'), `${keep}: ${out}`);
    }
  });
  test('a text that merely resembles it stays', () => {
    assert.equal(redactText('Pa"ss is a word', [secret]), 'Pa"ss is a word');
  });
});
