import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintFile, guessKind } from './lint.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const lint = (f: string) => lintFile(`examples/broken/${f}`, readFileSync(join(repo, 'examples/broken', f), 'utf8'));
const rows = (f: string) => lint(f).map((x) => `${x.where} ${x.severity} ${x.rule}`);

describe('doctor: every rule on the broken examples, with its location', () => {
  test('file kinds are guessed', () => {
    assert.equal(guessKind('config.yaml', 'mcp_servers: {}\n'), 'litellm-config');
    assert.equal(guessKind('compose.yaml', 'services:\n'), 'compose');
    assert.equal(guessKind('deploy', '#!/bin/bash\n'), 'script');
    assert.equal(guessKind('notes.md', 'x'), 'text');
  });

  test('config.yaml', () => {
    assert.deepEqual(rows('config.yaml'), [
      'examples/broken/config.yaml:5:15 error config.shell-var',
      'examples/broken/config.yaml:7:3 error config.database-url-placement',
      'examples/broken/config.yaml:8:1 error config.virtual-keys',
      'examples/broken/config.yaml:10:1 error config.mcp-settings',
      'examples/broken/config.yaml:11:3 warning config.transport-implicit',
      'examples/broken/config.yaml:14:3 error config.server-name-dash',
      'examples/broken/config.yaml:17:3 warning config.transport-implicit',
      'examples/broken/config.yaml:21:14 error config.stdio-command',
      'examples/broken/config.yaml:22:61 error config.environ-in-args',
      'examples/broken/config.yaml:25:16 error config.transport-invalid',
      'examples/broken/config.yaml:26:5 error config.key-not-in-1.77.3',
      'examples/broken/config.yaml:27:5 error config.key-not-in-1.77.3',
      'examples/broken/config.yaml:28:5 warning config.unknown-key',
    ]);
    const typo = lint('config.yaml').find((f) => f.rule === 'config.unknown-key');
    assert.equal(typo?.fix, 'did you mean `description`?');
    const dash = lint('config.yaml').find((f) => f.rule === 'config.server-name-dash');
    assert.equal(dash?.fix, 'rename it to "my_postgres"');
  });

  test('deploy.sh', () => {
    assert.deepEqual(rows('deploy.sh'), [
      'examples/broken/deploy.sh:3:43 error image.tag',
      'examples/broken/deploy.sh:4:41 warning script.num-workers',
      'examples/broken/deploy.sh:4:57 error script.master-key-expansion',
      'examples/broken/deploy.sh:5:16 warning client.url-no-slash',
      'examples/broken/deploy.sh:6:40 error sql.litellm-logs',
    ]);
  });

  test('compose.yaml', () => {
    assert.deepEqual(rows('compose.yaml'), [
      'examples/broken/compose.yaml:3:12 error image.tag',
      'examples/broken/compose.yaml:4:48 error script.master-key-expansion',
    ]);
  });

  test('our own files are clean', () => {
    for (const f of ['deploy/compose.yaml', 'scripts/demo.sh', 'scripts/setup.sh']) {
      const errors = lintFile(f, readFileSync(join(repo, f), 'utf8')).filter((x) => x.severity !== 'info');
      assert.deepEqual(errors, [], f);
    }
  });
});
