import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledPolicy, globProblem, globRegExp, parsePolicyFile, renderPolicyFile } from './tool-policy.js';

describe('tool policy globs', () => {
  const matches: [string, string, boolean][] = [
    ['read_file', 'read_file', true],
    ['read_file', 'read_files', false],
    ['read_*', 'read_file', true],
    ['read_*', 'read_', true],
    ['read_*', 'write_file', false],
    ['*_file', 'move_file', true],
    ['*', 'anything.at:all/-', true],
    ['get-?', 'get-a', true],
    ['get-?', 'get-ab', false],
    ['a.b', 'axb', false], // . is literal
    ['a.b', 'a.b', true],
    ['*write*', 'prewrite_post', true],
    ['list/*', 'list/x', true],
    ['READ', 'read', false], // case matters: tool names are case-sensitive
  ];
  for (const [glob, name, want] of matches) {
    test(`${glob} ${want ? 'matches' : 'does not match'} ${name}`, () => assert.equal(globRegExp(glob).test(name), want));
  }

  const problems: [string, RegExp | null][] = [
    ['read_*', null],
    ['*', null],
    ['a?c', null],
    ['', /empty pattern/],
    ['read file', /" " cannot occur in a tool name/],
    ['read_[ab]', /"\[" is not a wildcard here: only \* .* and \?/],
    ['{a,b}', /"\{" is not a wildcard/],
    ['!write', /"!" is not a wildcard/],
    ['é', /"é" cannot occur/],
    ['x'.repeat(129), /longer than a tool name can be \(128/],
    [`${'x'.repeat(128)}*`, null],
  ];
  for (const [glob, want] of problems) {
    test(`globProblem(${JSON.stringify(glob.slice(0, 20))}) ${want ? 'explains' : 'is null'}`, () => {
      const got = globProblem(glob);
      if (want === null) assert.equal(got, null);
      else assert.match(got ?? '(null)', want);
    });
  }
});

describe('a compiled policy', () => {
  const fsTools = ['read_file', 'read_multiple_files', 'write_file', 'edit_file', 'move_file', 'list_directory', 'search_files'];

  test('no allow: everything but what deny matches; deny wins over allow', () => {
    const p = new CompiledPolicy({ deny: ['write_*', 'move_file', 'edit_*'] });
    assert.deepEqual(fsTools.filter((t) => p.permits(t)), ['read_file', 'read_multiple_files', 'list_directory', 'search_files']);
    const q = new CompiledPolicy({ allow: ['*_file', '*_files'], deny: ['write_file'] });
    assert.deepEqual(fsTools.filter((t) => q.permits(t)), ['read_file', 'read_multiple_files', 'edit_file', 'move_file', 'search_files']);
  });

  test('a hidden tool is refused by its name, like one that never existed', () => {
    const p = new CompiledPolicy({ allow: ['read_*'] });
    assert.deepEqual(p.resolveCall('read_file'), { ok: true, name: 'read_file' });
    assert.deepEqual(p.resolveCall('write_file'), { ok: false, message: 'Unknown tool: write_file' });
    assert.deepEqual(p.resolveCall('no_such_tool'), { ok: false, message: 'Unknown tool: no_such_tool' });
  });

  test('rename: the new name is listed and called; the old name is refused; a tool already named so is shadowed', () => {
    const p = new CompiledPolicy({ rename: { 'resolve-library-id': 'resolve_library_id', a: 'b' } });
    assert.deepEqual(p.resolveCall('resolve_library_id'), { ok: true, name: 'resolve-library-id' });
    assert.equal(p.resolveCall('resolve-library-id').ok, false);
    assert.deepEqual(p.resolveCall('b'), { ok: true, name: 'a' });
    const listed = p.filterTools([
      { name: 'resolve-library-id', inputSchema: {} }, { name: 'a' }, { name: 'b', description: 'the real b' }, { name: 'c' },
    ]);
    assert.deepEqual(listed.map((t) => t.name), ['resolve_library_id', 'b', 'c']);
    assert.deepEqual(listed[0], { name: 'resolve_library_id', inputSchema: {} }, 'other fields pass through');
  });

  test('a swap of two names works both ways', () => {
    const p = new CompiledPolicy({ rename: { a: 'b', b: 'a' } });
    assert.deepEqual([p.resolveCall('a'), p.resolveCall('b')], [{ ok: true, name: 'b' }, { ok: true, name: 'a' }]);
    assert.deepEqual(p.filterTools([{ name: 'a' }, { name: 'b' }]).map((t) => t.name), ['b', 'a']);
  });

  test('description replaces the server\'s own, by the server\'s name, also when renamed', () => {
    const p = new CompiledPolicy({ rename: { x: 'y' }, description: { x: 'mine', z: 'zed' } });
    assert.deepEqual(p.filterTools([{ name: 'x', description: 'theirs' }, { name: 'z' }, { name: 'w', description: 'kept' }]), [
      { name: 'y', description: 'mine' },
      { name: 'z', description: 'zed' },
      { name: 'w', description: 'kept' },
    ]);
  });

  test('a deny on the old name of a renamed tool hides it under its new name too', () => {
    const p = new CompiledPolicy({ deny: ['x'], rename: { x: 'y' } });
    assert.equal(p.exposedName('x'), null);
    assert.equal(p.resolveCall('y').ok, false);
  });

  test('entries without a string name are dropped from a listing', () => {
    const p = new CompiledPolicy({});
    assert.deepEqual(p.filterTools([{ name: 'a' }, { nope: 1 } as never, null as never]).map((t) => t.name), ['a']);
  });

  test('counts and patterns that matched nothing', () => {
    const p = new CompiledPolicy({
      allow: ['read_*', 'list_*', 'stat_*'],
      deny: ['read_multiple_*', 'delete_*'],
      rename: { list_directory: 'ls', gone: 'x' },
      description: { nothing: 'd' },
    });
    assert.deepEqual(p.count(fsTools), { exposed: 2, hidden: 5 });
    assert.deepEqual(p.unmatched(fsTools), [
      { field: 'allow', pattern: 'stat_*' },
      { field: 'deny', pattern: 'delete_*' },
      { field: 'rename', pattern: 'gone' },
      { field: 'description', pattern: 'nothing' },
    ]);
  });
});

describe('the policy file', () => {
  test('rendered canonically (sorted servers and keys) and read back', () => {
    const text = renderPolicyFile({ b: { deny: ['w*'], rename: { z: 'a', a: 'z2' } }, a: { allow: ['r*'] } });
    assert.equal(text, renderPolicyFile({ a: { allow: ['r*'] }, b: { rename: { a: 'z2', z: 'a' }, deny: ['w*'] } }));
    assert.deepEqual(Object.keys(JSON.parse(text).servers), ['a', 'b']);
    const back = parsePolicyFile(text);
    assert.ok(back.ok);
    assert.deepEqual(back.servers['b'], { allow: undefined, deny: ['w*'], rename: { a: 'z2', z: 'a' }, description: undefined });
  });

  const bad: [string, RegExp][] = [
    ['{', /not JSON/],
    ['[]', /not a version 1/],
    ['{"version":2,"servers":{}}', /not a version 1/],
    ['{"version":1,"servers":[]}', /servers: not an object/],
    ['{"version":1,"servers":{"a":1}}', /servers\.a: not an object/],
    ['{"version":1,"servers":{"a":{"deny":"w*"}}}', /servers\.a\.deny: not a list/],
    ['{"version":1,"servers":{"a":{"allow":["a b"]}}}', /servers\.a\.allow: not a list of patterns/],
    ['{"version":1,"servers":{"a":{"rename":{"x":1}}}}', /servers\.a\.rename/],
    ['{"version":1,"servers":{"a":{"description":[]}}}', /servers\.a\.description/],
  ];
  for (const [text, why] of bad) {
    test(`refused: ${text}`, () => {
      const r = parsePolicyFile(text);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, why);
    });
  }
});
