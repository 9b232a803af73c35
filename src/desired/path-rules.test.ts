// Path confinement in the desired-file schema (issue 15): the envFile name stays inside the secrets
// dir, a data/mount target is no system folder, a URL path cannot route to another server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { containerPathProblem, envFileNameProblem, isRootUser, urlPathProblem } from './schema.js';

describe('envFile names stay inside the secrets dir', () => {
  for (const bad of ['../x.env', 'a/../../x.env', './x.env', 'a//x.env', 'a/', '/etc/passwd', '~/x.env', '']) {
    test(`"${bad}" is refused`, () => assert.notEqual(envFileNameProblem(bad), null));
  }
  test('a name with spaces or other characters is refused; 255 characters is the limit', () => {
    for (const bad of ['a b.env', 'a$b.env', 'x.env~x', 'a'.repeat(256)]) assert.notEqual(envFileNameProblem(bad), null, bad);
    assert.equal(envFileNameProblem('a'.repeat(255)), null);
  });
  test('plain names and folders inside the secrets dir are allowed', () => {
    for (const ok of ['mcp-x.env', 'github/token.env', 'a.b_c-d/E.env', '..x.env', 'x..env']) {
      assert.equal(envFileNameProblem(ok), null, ok);
    }
  });
  test('each refusal says why', () => {
    assert.equal(envFileNameProblem(''), 'must not be empty');
    assert.equal(envFileNameProblem('a'.repeat(256)), 'at most 255 characters');
    assert.equal(envFileNameProblem('/x.env'), 'a file name inside the secrets dir, not an absolute path');
    assert.equal(envFileNameProblem('../x.env'), 'a file name inside the secrets dir: no .., . or empty segments');
    assert.equal(envFileNameProblem('a b.env'), 'letters, digits, . _ - and / only');
  });
});

describe('container paths (data, mount targets) are no system folder', () => {
  test('each refusal says why', () => {
    assert.equal(containerPathProblem('data'), 'an absolute path inside the container');
    assert.equal(containerPathProblem('/da\0ta'), 'contains a NUL byte');
    assert.equal(containerPathProblem('/data/../etc'), 'no . or .. segments');
    assert.equal(containerPathProblem('/data/./x'), 'no . or .. segments');
    assert.equal(containerPathProblem('/data/'), 'write the path without // or a trailing /');
    assert.equal(containerPathProblem('/data//x'), 'write the path without // or a trailing /');
    assert.equal(containerPathProblem('/'), 'not the root filesystem /');
    assert.equal(containerPathProblem('/etc'), 'not the system folder /etc');
    assert.equal(containerPathProblem('/proc/self'), 'not below /proc, /sys or /dev');
  });
  test('an ordinary path is allowed, also one that only starts like a system folder', () => {
    for (const ok of ['/data', '/data/x..y', '/etcetera', '/procfs/x', '/var-data']) assert.equal(containerPathProblem(ok), null, ok);
  });
});

describe('URL paths cannot route to another server', () => {
  test('dot segments, encoded or not, empty segments and odd characters are refused', () => {
    for (const bad of ['mcp', '/a b', '/a#b', '/../x', '/a/%2e%2e/x', '/a/%2E/x', '/a/%2f/x', '/a/%5c/x', '/a//x', '/a/./x']) {
      assert.notEqual(urlPathProblem(bad), null, bad);
    }
    assert.equal(urlPathProblem('/a b'), 'a URL path starting with / (an optional ?query), without spaces or #');
    assert.equal(urlPathProblem('/../x'), 'no . or .. segments (they would route to another server)');
    assert.equal(urlPathProblem('/a//x'), 'no empty segments (//)');
  });
  test('ordinary paths, a query and a malformed escape (kept as written) are allowed', () => {
    for (const ok of ['/mcp', '/sse', '/v1/mcp?x=1&y=..', '/a/%zz', '/a..b']) assert.equal(urlPathProblem(ok), null, ok);
  });
});

describe('root inside the container', () => {
  test('root is the name root or uid 0 (any number of zeros), with or without a group', () => {
    for (const u of ['root', '0', '000', '0:0', 'root:wheel']) assert.equal(isRootUser(u), true, u);
    for (const u of ['1000', '10', '01', 'app', 'rooter', '1000:0']) assert.equal(isRootUser(u), false, u);
  });
});
