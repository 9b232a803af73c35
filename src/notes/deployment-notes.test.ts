import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectFixture } from '../testing/project.js';
import { model } from '../testing/fixtures.js';
import { CLIENTS, renderClient } from '../clients/render.js';
import { NOTES_MARKER, notesPath, renderDeploymentNotes, writeDeploymentNotes } from './deployment-notes.js';

const TOKEN = 'ghp_notInTheNotes0123456789abcdefABCDEF';
const MASTER = 'sk-master-key-never-in-the-notes';

function setup() {
  const p = projectFixture({});
  writeFileSync(join(p.secretsDir, 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${MASTER}\n`, { mode: 0o600 });
  writeFileSync(join(p.secretsDir, 'mcp-github.env'), `GITHUB_PERSONAL_ACCESS_TOKEN=${TOKEN}\n`, { mode: 0o600 });
  const github = model(p.settings, 'github', 'image: ghcr.io/github/github-mcp-server:v0.1\ntransport: http\nport: 8082\n');
  const everything = model(p.settings, 'everything', 'image: mcp/everything:1\ntransport: http\nport: 3001\n');
  return { p, github, everything };
}

test('the notes list the servers, endpoint, snippets, secrets paths and how to add a server, never a secret value', () => {
  const { p, github, everything } = setup();
  try {
    const text = renderDeploymentNotes({
      settings: p.settings,
      servers: [github, everything],
      tools: new Map([['everything', ['echo', 'get-sum']], ['github', null]]),
      mode: 'config',
      host: 'linuxserver.lan',
    });
    assert.ok(text.startsWith(NOTES_MARKER));
    assert.match(text, /- MCP URL for clients: `http:\/\/linuxserver\.lan:4000\/mcp\/`/);
    assert.match(text, /x-litellm-api-key: Bearer \$LITELLM_API_KEY/);
    assert.match(text, /config mode/);
    assert.match(text, /## Servers \(2\)/);
    assert.match(text, /\| everything \| http \| `mcp\/everything:1` \| `mcp_everything` \| 2 \|/);
    assert.match(text, /\| github \| http \| `ghcr\.io\/github\/github-mcp-server:v0\.1` \| `mcp_github` \| not listed yet \|/);
    assert.match(text, /everything: `mcp_everything-echo`, `mcp_everything-get-sum`/);
    assert.ok(text.indexOf('| everything |') < text.indexOf('| github |'), 'sorted by name');
    assert.ok(text.includes(`- Gateway: \`${join(p.secretsDir, 'mcp-litellm.env')}\``));
    assert.ok(text.includes(`- github: \`${join(p.secretsDir, 'mcp-github.env')}\``));
    assert.ok(text.includes(`- everything: none (would be \`${join(p.secretsDir, 'mcp-everything.env')}\`)`));
    for (const c of CLIENTS) assert.ok(text.includes(renderClient(c, 'linuxserver.lan', 4000).body.trimEnd()), `${c} snippet`);
    assert.ok(text.includes(`1. Write \`${join(p.settings.desiredDir, 'mcp-<name>.yaml')}\``));
    for (const secret of [TOKEN, MASTER]) assert.ok(!text.includes(secret), 'a secret value in the notes');
  } finally {
    p.cleanup();
  }
});

test('the notes are deterministic: the same deployment in another order gives the same text', () => {
  const { p, github, everything } = setup();
  try {
    const a = renderDeploymentNotes({ settings: p.settings, servers: [github, everything], tools: new Map(), mode: 'api', host: 'h' });
    const b = renderDeploymentNotes({ settings: p.settings, servers: [everything, github], tools: new Map(), mode: 'api', host: 'h' });
    assert.equal(a, b);
    assert.match(a, /registered in LiteLLM's database \(API mode\)/);
  } finally {
    p.cleanup();
  }
});

test('written atomically only when the text changes; a file without the marker or a symlink is left alone', () => {
  const { p } = setup();
  try {
    const path = notesPath(p.dir);
    assert.equal(path, join(p.dir, 'litellm', 'CLAUDE.md'));
    const v1 = `${NOTES_MARKER}\nversion 1\n`;
    assert.equal(writeDeploymentNotes(path, v1), 'written');
    assert.equal(readFileSync(path, 'utf8'), v1);
    assert.equal(statSync(path).mode & 0o777, 0o644);
    const ino = statSync(path).ino;
    assert.equal(writeDeploymentNotes(path, v1), 'unchanged');
    assert.equal(statSync(path).ino, ino, 'the same text rewrote the file');
    assert.equal(writeDeploymentNotes(path, `${NOTES_MARKER}\nversion 2\n`), 'written');
    assert.notEqual(statSync(path).ino, ino, 'a rename replaces the file (atomic write)');

    writeFileSync(path, '# my own notes\n');
    assert.equal(writeDeploymentNotes(path, v1), 'not-ours');
    assert.equal(readFileSync(path, 'utf8'), '# my own notes\n');

    const linked = join(p.dir, 'elsewhere', 'CLAUDE.md');
    mkdirSync(join(p.dir, 'elsewhere'));
    writeFileSync(join(p.dir, 'target.md'), `${NOTES_MARKER}\nold\n`);
    symlinkSync(join(p.dir, 'target.md'), linked);
    assert.equal(writeDeploymentNotes(linked, v1), 'not-ours');
    assert.equal(readFileSync(join(p.dir, 'target.md'), 'utf8'), `${NOTES_MARKER}\nold\n`);

    const dirPath = join(p.dir, 'a-dir.md');
    mkdirSync(dirPath);
    assert.throws(() => writeDeploymentNotes(dirPath, v1), /a directory/);
  } finally {
    p.cleanup();
  }
});
