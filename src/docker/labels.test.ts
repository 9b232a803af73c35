import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels, MANAGED_BY, isOwned, ownerLabels, parseRole, parseSpecLabel } from './labels.js';
import { SCHEMA_VERSION } from '../desired/schema.js';

test('label names are the documented contract (docker ps --filter label=io.mcp-reconciler.managed-by)', () => {
  assert.deepEqual(Labels, {
    ManagedBy: 'io.mcp-reconciler.managed-by',
    Instance: 'io.mcp-reconciler.instance',
    Role: 'io.mcp-reconciler.role',
    Server: 'io.mcp-reconciler.server',
    Source: 'io.mcp-reconciler.source',
    SpecHash: 'io.mcp-reconciler.spec-hash',
    Spec: 'io.mcp-reconciler.spec',
    SchemaVersion: 'io.mcp-reconciler.schema-version',
    BuildContext: 'io.mcp-reconciler.build-context',
  });
  assert.equal(MANAGED_BY, 'mcp-reconciler');
});

test('what we create carries owner, instance, role and schema version; server and source only when given', () => {
  assert.deepEqual(ownerLabels('default', 'edge'), {
    'io.mcp-reconciler.managed-by': 'mcp-reconciler',
    'io.mcp-reconciler.instance': 'default',
    'io.mcp-reconciler.role': 'edge',
    'io.mcp-reconciler.schema-version': SCHEMA_VERSION,
  });
  const s = ownerLabels('i1', 'server', { server: 'github', source: 'desired-state/mcp-github.yaml' });
  assert.equal(s['io.mcp-reconciler.server'], 'github');
  assert.equal(s['io.mcp-reconciler.source'], 'desired-state/mcp-github.yaml');
  assert.ok(isOwned(s, 'i1'));
});

test('a container is ours only with our managed-by label and our instance', () => {
  const ours = ownerLabels('default', 'server');
  assert.equal(isOwned(ours, 'default'), true);
  assert.equal(isOwned(ours, 'other'), false, 'another instance on the same engine is not ours');
  assert.equal(isOwned({ ...ours, 'io.mcp-reconciler.managed-by': 'someone-else' }, 'default'), false);
  assert.equal(isOwned({ 'io.mcp-reconciler.instance': 'default' }, 'default'), false, 'instance alone is not ownership');
  assert.equal(isOwned({ 'io.mcp-reconciler.managed-by': 'mcp-reconciler' }, 'default'), false, 'owner without instance is not ours');
  assert.equal(isOwned({}, 'default'), false);
  assert.equal(isOwned(undefined, 'default'), false, 'an unlabeled container is never ours');
});

test('only the four known roles (server, gateway, edge, edge-docker) are read back; anything else is no role', () => {
  assert.equal(parseRole('server'), 'server');
  assert.equal(parseRole('gateway'), 'gateway');
  assert.equal(parseRole('edge'), 'edge');
  assert.equal(parseRole('edge-docker'), 'edge-docker');
  for (const v of ['', 'Server', 'network', undefined]) assert.equal(parseRole(v), null);
});

test('a spec label reads back as the object it was written from', () => {
  assert.deepEqual(parseSpecLabel('{"image":"a:1","env":{"A":"1"}}'), { image: 'a:1', env: { A: '1' } });
});

test('each spec label text reads as its own object (remembered per text, never one for all)', () => {
  assert.deepEqual(parseSpecLabel('{"image":"a:1"}'), { image: 'a:1' });
  assert.deepEqual(parseSpecLabel('{"image":"b:2"}'), { image: 'b:2' });
  assert.deepEqual(parseSpecLabel('{"image":"a:1"}'), { image: 'a:1' });
  assert.equal(parseSpecLabel(undefined), null);
  assert.deepEqual(parseSpecLabel('{"image":"c:3"}'), { image: 'c:3' }, 'a missing label is not remembered under a text');
});

test('a missing, empty, malformed or non-object spec label is no spec (null), never a throw', () => {
  for (const v of [undefined, '', '{', 'not json', 'null', '[]', '[{"image":"a:1"}]', '"text"', '42', 'true', 'false']) {
    assert.equal(parseSpecLabel(v), null, String(v));
  }
});

test('a spec label read back is frozen: one container\'s spec cannot change what the next reader sees', () => {
  const spec = parseSpecLabel('{"env":{"A":"1"}}');
  assert.ok(spec && Object.isFrozen(spec) && Object.isFrozen(spec['env']));
});
