import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, specHash, secretDigest, sha256Hex } from './hash.js';
import { testSettings, model, HTTP } from '../testing/fixtures.js';

describe('spec hash', () => {
  test('canonical JSON sorts keys at every depth, keeps list order and nulls, drops undefined fields', () => {
    assert.equal(canonicalJson({ b: [3, { d: 1, c: null }], a: { y: undefined, x: 'v' } }), '{"a":{"x":"v"},"b":[3,{"c":null,"d":1}]}');
  });

  test('a spec hash and a secret digest are 32 hex characters (a label value, not the whole sha256)', () => {
    assert.match(specHash({ a: 1 }), /^[0-9a-f]{32}$/);
    assert.match(secretDigest(Buffer.alloc(32, 1), 'TOKEN=abc'), /^[0-9a-f]{32}$/);
  });

  test('sha256Hex is the full sha256 of the text, in hex', () => {
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('stable across key order', () => {
    assert.equal(specHash({ a: 1, b: { c: 2, d: [1, { x: 1, y: 2 }] } }), specHash({ b: { d: [1, { y: 2, x: 1 }], c: 2 }, a: 1 }));
    assert.equal(canonicalJson({ b: 1, a: undefined, c: 2 }), '{"b":1,"c":2}');
  });

  test('the same desired file always gives the same hash', () => {
    const s = testSettings();
    const reordered = 'port: 3001\ntransport: http\nimage: mcp/everything:1\n';
    assert.equal(model(s, 'x', HTTP).specHash, model(s, 'x', reordered).specHash);
  });

  const s = testSettings();
  const base = model(s, 'x', HTTP).specHash;
  const variants: [string, string][] = [
    ['image', 'image: mcp/everything:2\ntransport: http\nport: 3001\n'],
    ['command', `${HTTP}command: [node, x.js]\n`],
    ['env', `${HTTP}env:\n  FOO: bar\n`],
    ['port', 'image: mcp/everything:1\ntransport: http\nport: 3002\n'],
    ['networks', `${HTTP}networks: [pg-net]\n`],
  ];
  for (const [field, yaml] of variants) {
    test(`changes when ${field} changes`, () => {
      assert.notEqual(model(s, 'x', yaml).specHash, base);
    });
  }

  test('changes when mounts changes', () => {
    // Mount sources must exist (a missing one is an error, not an empty folder).
    const root = mkdtempSync(join(tmpdir(), 'hash-'));
    try {
      mkdirSync(join(root, 'x'));
      writeFileSync(join(root, 'x', 'a.toml'), 'a = 1\n');
      const m = testSettings({ MCP_RECONCILER_PROJECTS_ROOT: root });
      assert.notEqual(model(m, 'x', `${HTTP}mounts: ["a.toml:/a.toml"]\n`).specHash, model(m, 'x', HTTP).specHash);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('changes with the image override (what actually runs)', () => {
    const o = testSettings();
    o.imageOverrides = { 'mcp/everything:1': 'local/everything:test' };
    assert.notEqual(model(o, 'x', HTTP).specHash, base);
  });

  test('secret digests are keyed: same material, different key, different digest', () => {
    const a = secretDigest(Buffer.alloc(32, 1), 'TOKEN=abc');
    assert.equal(a, secretDigest(Buffer.alloc(32, 1), 'TOKEN=abc'));
    assert.notEqual(a, secretDigest(Buffer.alloc(32, 2), 'TOKEN=abc'));
    assert.notEqual(a, secretDigest(Buffer.alloc(32, 1), 'TOKEN=abd'));
  });
});
