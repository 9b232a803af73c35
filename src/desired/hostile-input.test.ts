import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDesiredFile } from './load.js';
import { formatIssue } from '../errors/index.js';
import { MAX_YAML_BYTES } from './yaml-located.js';

/** Every finding of issue 14's validation list, as a located error (or warning) from `validate`. */
const F = 'desired-state/mcp-x.yaml';
const HTTP = 'image: a:1\ntransport: http\nport: 1\n';

function issues(text: string): string[] {
  const r = parseDesiredFile(text, F, 'mcp-x.yaml');
  return [...(r.invalid?.issues ?? []), ...(r.server?.warnings ?? [])].map(formatIssue);
}

describe('validate refuses what would weaken hardening or fail later in Docker', () => {
  const refused: [string, string, string][] = [
    ['memory "0" (unlimited)', `${HTTP}security:\n  memory: "0"\n`, `${F}:5:11 security.memory: at least 6m`],
    ['memory below Docker\'s 6 MiB', `${HTTP}security:\n  memory: 1k\n`, `${F}:5:11 security.memory: at least 6m`],
    ['cpus below 0.01', `${HTTP}security:\n  cpus: 1e-10\n`, `${F}:5:9 security.cpus: at least 0.01`],
    ['capAdd SYS_ADMIN without a reason', `${HTTP}security:\n  capAdd: [SYS_ADMIN]\n`, `${F}:5:11 security.capAdd: SYS_ADMIN is outside`],
    ['capAdd ALL without a reason', `${HTTP}security:\n  capAdd: [ALL]\n`, `${F}:5:11 security.capAdd: ALL is outside`],
    ['an unknown capability', `${HTTP}security:\n  capAdd: [CAP_FOO]\n`, `${F}:5:12 security.capAdd.0: a Linux capability without CAP_`],
    ['tmpfs on /', `${HTTP}security:\n  tmpfs: [/]\n`, `${F}:5:11 security.tmpfs.0: not the root filesystem /`],
    ['tmpfs on /proc', `${HTTP}security:\n  tmpfs: [/proc]\n`, `${F}:5:11 security.tmpfs.0: not the system folder /proc`],
    ['tmpfs below /sys', `${HTTP}security:\n  tmpfs: [/sys/fs]\n`, `${F}:5:11 security.tmpfs.0: not below /proc, /sys or /dev`],
    ['networks: host', `${HTTP}networks: [host]\n`, `${F}:4:12 networks.0: host, none, bridge and default`],
    ['networks: none', `${HTTP}networks: [none]\n`, `${F}:4:12 networks.0: host, none, bridge and default`],
    ['networks: bridge', `${HTTP}networks: [bridge]\n`, `${F}:4:12 networks.0: host, none, bridge and default`],
    ['networks: container:x', `${HTTP}networks: ["container:x"]\n`, `${F}:4:12 networks.0: a Docker network name`],
    ['data: /', `${HTTP}data: /\n`, `${F}:4:7 data: not the root filesystem /`],
    ['data: /proc', `${HTTP}data: /proc\n`, `${F}:4:7 data: not the system folder /proc`],
    ['data: /etc', `${HTTP}data: /etc\n`, `${F}:4:7 data: not the system folder /etc`],
    ['data on top of the tmpfs', `${HTTP}data: /tmp/state\n`, `${F}:4:7 data: inside a tmpfs`],
    ['data on the tmpfs itself', `${HTTP}data: /tmp\n`, `${F}:4:7 data: /tmp is already a mount target`],
    ['two mounts on one target', `${HTTP}mounts: ["a:/x", "b:/x"]\n`, `${F}:4:18 mounts.1: /x is already a mount target`],
    ['a mount on /etc', `${HTTP}mounts: ["a:/etc"]\n`, `${F}:4:10 mounts.0: target: not the system folder /etc`],
    [
      '.. in path (routes to another server)',
      'image: a:1\ntransport: http\nport: 1\npath: /../../mcp-other/3000/mcp\n',
      `${F}:4:7 path: no . or .. segments`,
    ],
    ['encoded .. in path', `${HTTP}path: /%2e%2e/mcp-other/3000/mcp\n`, `${F}:4:7 path: no . or .. segments`],
    ['NUL in image', 'image: "a:1\\0"\ntransport: http\nport: 1\n', `${F}:1:8 image: an image reference has no spaces`],
    ['NUL in an env value', `${HTTP}env:\n  A: "x\\0y"\n`, `${F}:5:6 env.A: contains a NUL byte`],
    ['NUL in command', `${HTTP}command: ["a\\0"]\n`, `${F}:4:11 command.0: contains a NUL byte`],
    [
      'auth on a stdio server',
      'image: a:1\ntransport: stdio\nauth:\n  type: bearer_token\n  secret: T\n',
      `${F}:4:3 auth: a stdio server takes no credential`,
    ],
    ['uppercase image name', 'image: Mcp/Everything:1\ntransport: http\nport: 1\n', `${F}:1:8 image: not a Docker image reference`],
    [
      'a tag over 128 characters',
      `image: a:${'t'.repeat(129)}\ntransport: http\nport: 1\n`,
      `${F}:1:8 image: not a Docker image reference`,
    ],
    [
      'a short sha256 digest',
      'image: a@sha256:abcdef0123456789abcdef0123456789\ntransport: http\nport: 1\n',
      `${F}:1:8 image: a sha256 digest has exactly 64 hex digits`,
    ],
    [
      'an image name over 255 characters',
      `image: ${'a/'.repeat(128)}a:1\ntransport: http\nport: 1\n`,
      `${F}:1:8 image: the image name has more than 255 characters`,
    ],
    [
      'os.environ/ in description',
      `${HTTP}description: os.environ/LITELLM_MASTER_KEY\n`,
      `${F}:4:14 description: must not contain os.environ/`,
    ],
    ['os.environ/ in path', `${HTTP}path: /os.environ/X\n`, `${F}:4:7 path: must not contain os.environ/`],
    ['a __proto__ key', `${HTTP}env:\n  __proto__: x\n`, `${F}:5:3 env.__proto__: reserved key; not allowed`],
    ['a constructor key', `${HTTP}constructor: x\n`, `${F}:4:1 constructor: reserved key; not allowed`],
    ['a top-level __proto__', `__proto__: {image: b}\n${HTTP}`, `${F}:1:1 __proto__: reserved key; not allowed`],
    ['an absolute envFile', `${HTTP}envFile: /etc/shadow\n`, `${F}:4:10 envFile: a file name inside the secrets dir, not an absolute path`],
    ['.. in envFile', `${HTTP}envFile: ../outside/x.env\n`, `${F}:4:10 envFile: a file name inside the secrets dir: no ..`],
    [
      'envFile shared: false is not an opt-in',
      `${HTTP}envFile: {path: mcp-y.env, shared: false}\n`,
      `${F}:4:10 envFile: shared: expected one of true`,
    ],
    ['user: root is a warning', `${HTTP}security:\n  user: root\n`, `${F}:5:9 warning: security.user: runs as root`],
    ['user: 0:0 is a warning', `${HTTP}security:\n  user: "0:0"\n`, `${F}:5:9 warning: security.user: runs as root`],
  ];
  for (const [what, text, expected] of refused) {
    test(what, () => {
      const got = issues(text);
      assert.ok(got.some((g) => g.startsWith(expected)), `expected ${JSON.stringify(expected)} in ${JSON.stringify(got)}`);
    });
  }

  const accepted: [string, string][] = [
    ['capAdd NET_BIND_SERVICE needs no reason', `${HTTP}security:\n  capAdd: [NET_BIND_SERVICE]\n`],
    ['capAdd NET_ADMIN with a written reason', `${HTTP}security:\n  capAdd: [NET_ADMIN]\n  reason: manages a WireGuard interface\n`],
    ['data outside the tmpfs', `${HTTP}data: /data\n`],
    ['data on /tmp when the root filesystem is writable', `${HTTP}data: /tmp\nsecurity:\n  readOnlyRootFilesystem: false\n`],
    [
      'a registry with a port, a tag and a digest',
      `image: registry.lan:5000/team/app_x:1.2-b@sha256:${'a'.repeat(64)}\ntransport: http\nport: 1\n`,
    ],
    ['a path with a query', `${HTTP}path: /mcp?profile=x\n`],
    ['an envFile inside the secrets dir', `${HTTP}envFile: github/token.env\n`],
    ['a shared envFile', `${HTTP}envFile: {path: mcp-y.env, shared: true}\n`],
    ['os.environ/ in an env value (goes to the container, not LiteLLM)', `${HTTP}env:\n  A: os.environ/X\n`],
  ];
  for (const [what, text] of accepted) {
    test(`accepts ${what}`, () => {
      assert.deepEqual(issues(text).filter((i) => !i.includes('warning:')), []);
    });
  }
});

describe('values as written', () => {
  const cases: [string, string][] = [
    ['1.10', '1.10'],
    ['0x1F', '0x1F'],
    ['01234', '01234'],
    ['1e3', '1e3'],
    ['true', 'true'],
    ['True', 'True'],
    ['"quoted 1.10"', 'quoted 1.10'],
    ['8080', '8080'],
  ];
  for (const [yaml, want] of cases) {
    test(`env value ${yaml} reaches the container as "${want}"`, () => {
      const r = parseDesiredFile(`${HTTP}env:\n  V: ${yaml}\n`, F, 'mcp-x.yaml');
      assert.equal(r.invalid, null);
      assert.equal(String(r.server?.spec.env?.['V']), want);
    });
  }
});

describe('parsing is bounded and quotes nothing it did not write', () => {
  test('duplicate keys are still found in a 256 KiB file of distinct keys plus one repeat (linear check)', () => {
    const keys: string[] = [];
    let size = 0;
    for (let i = 0; size < MAX_YAML_BYTES - 64; i++) {
      const line = `  k${i}: v\n`;
      keys.push(line);
      size += line.length;
    }
    const text = `${HTTP}env:\n${keys.join('')}  k7: again\n`;
    assert.ok(Buffer.byteLength(text) <= MAX_YAML_BYTES);
    assert.ok(issues(text).includes(`${F}:${keys.length + 5}:3 env.k7: Map keys must be unique`));
  });

  test('an unknown key is quoted clipped to 40 characters, control characters replaced', () => {
    const key = `root${'x'.repeat(200)}`;
    const got = issues(`${HTTP}${key}: 1\n`);
    assert.ok(got.some((g) => g === `${F}:4:1 ${key.slice(0, 40)}…: unknown key`), JSON.stringify(got));
    assert.ok(got.every((g) => g.length < 300));
  });

  test('a file over the cap is refused before parsing', () => {
    assert.deepEqual(issues(`image: ${'x'.repeat(MAX_YAML_BYTES)}\n`), [`${F}:1:1 file is larger than ${MAX_YAML_BYTES} bytes`]);
  });

  test('a file over the cap is not parsed at all: its syntax errors and duplicate keys are not reported', () => {
    const broken = `${HTTP}port: 2\nenv: [${'x'.repeat(MAX_YAML_BYTES)}\n`;
    assert.deepEqual(issues(broken), [`${F}:1:1 file is larger than ${MAX_YAML_BYTES} bytes`]);
  });

  test('the cap counts bytes: a file of exactly the cap is read, one byte more is refused', () => {
    // A comment of two-byte characters: its text is half as long as its bytes.
    const room = MAX_YAML_BYTES - Buffer.byteLength(`${HTTP}# \n`);
    const exact = `${HTTP}# ${'x'.repeat(room % 2)}${'é'.repeat(Math.floor(room / 2))}\n`;
    assert.equal(Buffer.byteLength(exact), MAX_YAML_BYTES);
    assert.deepEqual(issues(exact), []);
    assert.deepEqual(issues(`${exact} `), [`${F}:1:1 file is larger than ${MAX_YAML_BYTES} bytes`]);
  });
});

describe('values as written: only numbers and booleans', () => {
  test('a plain string folded over two lines reaches the container as YAML reads it, on one line', () => {
    const r = parseDesiredFile(`${HTTP}env:\n  V: two\n    lines\n`, F, 'mcp-x.yaml');
    assert.equal(r.server?.spec.env?.['V'], 'two lines');
  });
});

describe('the YAML reader: what a StrykerJS run found unchecked', () => {
  const located = (text: string): string[] => {
    const r = parseDesiredFile(text, F, 'mcp-x.yaml');
    return (r.invalid?.issues ?? []).map((i) => `${i.severity} ${formatIssue(i)}`);
  };

  test('with a syntax error only the syntax errors are reported (no duplicate-key check on a broken document)', () => {
    assert.deepEqual(located(`${HTTP}port: 2\nimage: [a\n`), [
      `error ${F}:6:1 Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
  });

  test('with a duplicate key the aliases are not expanded (only the duplicate is reported)', () => {
    const bomb = `list: [${Array(60).fill('*a').join(', ')}]\n`;
    assert.deepEqual(located(`${HTTP}x: &a v\nenv:\n  A: 1\n  A: 2\n${bomb}`), [`error ${F}:7:3 env.A: Map keys must be unique`]);
  });

  test('aliases are expanded at most 50 times (below yaml\'s own default of 100): 60 are refused, 40 are fine', () => {
    const aliases = (n: number): string => `${HTTP}env: {X: &a v}\ncommand: [${Array(n).fill('*a').join(', ')}]\n`;
    assert.deepEqual(located(aliases(60)), [`error ${F}:1:1 Excessive alias count indicates a resource exhaustion attack`]);
    assert.deepEqual(located(aliases(40)), []);
  });

  test('keys inside list items are checked too', () => {
    assert.deepEqual(located(`${HTTP}command:\n  - {a: 1, a: 2}\n`), [`error ${F}:5:12 command.0.a: Map keys must be unique`]);
  });

  test('key problems come in file order, each an error', () => {
    assert.deepEqual(located(`${HTTP}env:\n  B: 1\n  B: 2\ncommand: [x]\nz: {c: 1, c: 2}\n`), [
      `error ${F}:6:3 env.B: Map keys must be unique`,
      `error ${F}:8:11 z.c: Map keys must be unique`,
    ]);
    assert.deepEqual(located(`${HTTP}env:\n  __proto__: 1\n  ? [a]\n  : b\n`), [
      `error ${F}:5:3 env.__proto__: reserved key; not allowed`,
      `error ${F}:6:5 env.?: a key must be a plain string`,
    ]);
  });

  test('a file over the cap is an error', () => {
    assert.deepEqual(located(`# ${'x'.repeat(MAX_YAML_BYTES)}\n`), [`error ${F}:1:1 file is larger than ${MAX_YAML_BYTES} bytes`]);
  });
});
