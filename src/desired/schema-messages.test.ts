// What each check of a desired file says, and where (issue 15): one row per check of
// src/desired/schema.ts, its exact located message, or no problem for the value just inside the
// rule. A check that stopped refusing, refused the wrong value, or lost its message fails here.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDesiredFile } from './load.js';
import { memoryBytes } from './schema.js';
import { formatIssue } from '../errors/index.js';

const F = 'desired-state/mcp-x.yaml';
const H = 'image: a:1\ntransport: http\nport: 1\n';

/** The file's problems as `line:col path: message`, none for a valid file. */
function problems(text: string): string[] {
  const r = parseDesiredFile(text, F, 'mcp-x.yaml');
  return r.invalid ? r.invalid.issues.map(formatIssue).map((x) => x.slice(F.length + 1)) : [];
}

/** [what, the file, its problems]: a check refuses the value with its own located message, or accepts the value just inside it. */
const CASES: [string, string, string[]][] = [
  ["env name", `${H}env:\n  1BAD: x\n`, ["5:9 env.1BAD: environment variable names are letters, digits and _"]],
  [
    "image name too long",
    `image: ${'a'.repeat(256)}:1\ntransport: http\nport: 1\n`,
    [
      "1:8 image: the image name has more than 255 characters",
    ],
  ],
  ["image name at most", `image: ${'a'.repeat(255)}:1\ntransport: http\nport: 1\n`, []],
  [
    "sha256 digest length",
    `image: a@sha256:${'a'.repeat(63)}\ntransport: http\nport: 1\n`,
    [
      "1:8 image: a sha256 digest has exactly 64 hex digits",
    ],
  ],
  ["sha256 digest ok", `image: a@sha256:${'a'.repeat(64)}\ntransport: http\nport: 1\n`, []],
  ["data below tmp", `${H}data: /tmp/db\n`, ["4:7 data: inside a tmpfs: the volume would be hidden or lost; pick a path outside it"]],
  [
    "data below tmp, security given",
    `${H}data: /tmp/db\nsecurity:\n  memory: 1g\n`,
    [
      "4:7 data: inside a tmpfs: the volume would be hidden or lost; pick a path outside it",
    ],
  ],
  ["data below tmp, rw root", `${H}data: /tmp/db\nsecurity:\n  readOnlyRootFilesystem: false\n`, []],
  ["memory two decimals", `${H}security:\n  memory: 1.25g\n`, []],
  ["hint health", `${H}health:\n  intervalSecond: 3\n`, ["5:3 health.intervalSecond: unknown key (did you mean \"intervalSeconds\"?)"]],
  ["hint security", `${H}security:\n  memroy: 1g\n`, ["5:3 security.memroy: unknown key (did you mean \"memory\"?)"]],
  [
    "hint auth",
    `${H}auth:\n  type: bearer_token\n  secrte: T\n`,
    [
      "5:3 auth.secret: required",
      "6:3 auth.secrte: unknown key (did you mean \"secret\"?)",
    ],
  ],
  ["hint envFile", `${H}envFile:\n  pth: x.env\n`, ["5:3 envFile: path: expected string"]],
  ["hint check", `${H}check:\n  tol: x\n`, ["5:3 check.tool: required", "5:3 check.tol: unknown key (did you mean \"tool\"?)"]],
  ["hint build", "build:\n  contxt: app\ntransport: http\nport: 1\n", ["2:3 build: context: expected string"]],
  [
    "hint build keys",
    "build:\n  context: app\n  dockerfil: x\ntransport: http\nport: 1\n",
    ["3:3 build.dockerfil: unknown key (did you mean \"dockerfile\"?)"],
  ],
  ["hint tools", `${H}tools:\n  alow: [x]\n`, ["5:3 tools.alow: unknown key (did you mean \"allow\"?)"]],
  [
    "hint top",
    "imgae: a:1\ntransport: http\nport: 1\n",
    [
      "1:1 imgae: unknown key (did you mean \"image\"?)",
      "1:1 image: required (or build: for a Dockerfile folder, package: for an npm/PyPI package, url: for a "
        + "server that runs elsewhere)",
    ],
  ],
  ["container path relative", `${H}data: data\n`, ["4:7 data: an absolute path inside the container"]],
  ["container path dotdot", `${H}data: /x/../etc\n`, ["4:7 data: no . or .. segments"]],
  ["container path slash slash", `${H}data: /x//y\n`, ["4:7 data: write the path without // or a trailing /"]],
  ["container path root", `${H}data: /\n`, ["4:7 data: not the root filesystem /"]],
  ["below proc", `${H}data: /proc/x\n`, ["4:7 data: not below /proc, /sys or /dev"]],
  [
    "url path no slash",
    `${H}path: mcp/x\n`,
    [
      "4:7 path: a URL path starting with /",
      "4:7 path: a URL path starting with / (an optional ?query), without spaces or #",
    ],
  ],
  ["url path with query ok", `${H}path: /mcp?x=1\n`, []],
  [
    "url path space",
    `${H}path: "/mcp x"\n`,
    [
      "4:7 path: a URL path starting with /",
      "4:7 path: a URL path starting with / (an optional ?query), without spaces or #",
    ],
  ],
  ["envFile tilde", `${H}envFile: ~/x.env\n`, ["4:10 envFile: a file name inside the secrets dir, not an absolute path"]],
  ["envFile abs", `${H}envFile: /x.env\n`, ["4:10 envFile: a file name inside the secrets dir, not an absolute path"]],
  ["envFile ends tilde ok", `${H}envFile: mcp-x.env~\n`, ["4:10 envFile: letters, digits, . _ - and / only"]],
  [
    "build empty",
    "build:\n  context: \"\"\ntransport: http\nport: 1\n",
    [
      "2:12 build.context: must not be empty (use . for the server folder itself)",
    ],
  ],
  ["build nul", "build:\n  context: \"a\\0b\"\ntransport: http\nport: 1\n", ["2:12 build.context: contains a NUL byte"]],
  [
    "build abs",
    "build: /app\ntransport: http\nport: 1\n",
    [
      "1:8 build: a path relative to the server folder <projectsRoot>/<name>/, not an absolute one",
    ],
  ],
  [
    "build tilde",
    "build: ~app\ntransport: http\nport: 1\n",
    [
      "1:8 build: a path relative to the server folder <projectsRoot>/<name>/, not an absolute one",
    ],
  ],
  [
    "build dotdot",
    "build: a/../../x\ntransport: http\nport: 1\n",
    [
      "1:8 build: must stay inside the server folder <projectsRoot>/<name>/ (no ..)",
    ],
  ],
  ["build backslash", "build: \"a\\\\b\"\ntransport: http\nport: 1\n", ["1:8 build: use / as the separator"]],
  ["build ends slash ok", "build: app/\ntransport: http\nport: 1\n", []],
  [
    "dockerfile abs",
    "build:\n  context: app\n  dockerfile: /Dockerfile\ntransport: http\nport: 1\n",
    [
      "3:15 build.dockerfile: a path relative to the server folder <projectsRoot>/<name>/, not an absolute one",
    ],
  ],
  [
    "dockerfile dotdot",
    "build:\n  context: app\n  dockerfile: ../Dockerfile\ntransport: http\nport: 1\n",
    [
      "3:15 build.dockerfile: must stay inside the server folder <projectsRoot>/<name>/ (no ..)",
    ],
  ],
  [
    "build arg name",
    "build:\n  context: app\n  args:\n    1x: y\ntransport: http\nport: 1\n",
    [
      "2:3 build: args.1x: a build argument name",
    ],
  ],
  ["npm space", "package: \"npm:left pad@1.0.0\"\ntransport: stdio\n", ["1:10 package: no spaces or NUL bytes"]],
  [
    "npm bad name",
    "package: npm:Left_Pad@1.0.0\ntransport: stdio\n",
    [
      "1:10 package: \"Left_Pad\" is not an npm package name (lowercase, @scope/name)",
    ],
  ],
  [
    "npm unpinned",
    "package: npm:left-pad\ntransport: stdio\n",
    [
      "1:10 package: not pinned: write an exact version, npm:left-pad@1.2.3 (`npm view left-pad version` shows the newest)",
    ],
  ],
  [
    "npm scoped unpinned",
    "package: npm:@scope/left-pad\ntransport: stdio\n",
    [
      "1:10 package: not pinned: write an exact version, npm:@scope/left-pad@1.2.3 (`npm view "
        + "@scope/left-pad version` shows the newest)",
    ],
  ],
  [
    "npm range",
    "package: npm:left-pad@^1.0.0\ntransport: stdio\n",
    [
      "1:10 package: not pinned: \"^1.0.0\" is a range or tag, not an exact version; write npm:left-pad@1.2.3 "
        + "(`npm view left-pad version` shows the newest)",
    ],
  ],
  ["npm ok", "package: npm:@scope/left-pad@1.2.3\ntransport: stdio\n", []],
  ["pypi bad name", "package: pypi:-x==1.0\ntransport: stdio\n", ["1:10 package: \"-x\" is not a PyPI project name"]],
  [
    "pypi unpinned",
    "package: pypi:mcp-server-time\ntransport: stdio\n",
    [
      "1:10 package: not pinned: write an exact version, pypi:mcp-server-time==1.2.3 (`pip index versions "
        + "mcp-server-time` shows them)",
    ],
  ],
  [
    "pypi range",
    "package: pypi:mcp-server-time>=1.0\ntransport: stdio\n",
    [
      "1:10 package: not pinned: \">=1.0\" is not ==<exact version>; write pypi:mcp-server-time==1.2.3 (`pip "
        + "index versions mcp-server-time` shows them)",
    ],
  ],
  ["pypi ok", "package: pypi:mcp-server-time==2026.10.19\ntransport: stdio\n", []],
  ["neither", "package: cargo:x@1\ntransport: stdio\n", ["1:10 package: npm:<name>@<exact version> or pypi:<name>==<exact version>"]],
  ["user", `${H}security:\n  user: "a b"\n`, ["5:9 security.user: user or uid[:gid]"]],
  ["memory format", `${H}security:\n  memory: 1x\n`, ["5:11 security.memory: a size like 512m or 1g"]],
  ["memory small", `${H}security:\n  memory: 5m\n`, ["5:11 security.memory: at least 6m (Docker's minimum; 0 would mean unlimited)"]],
  ["memory exactly min", `${H}security:\n  memory: 6m\n`, []],
  ["memory fractional", `${H}security:\n  memory: 1.5g\n`, []],
  ["cpus small", `${H}security:\n  cpus: 0.001\n`, ["5:9 security.cpus: at least 0.01"]],
  [
    "tmpfs relative",
    `${H}security:\n  tmpfs: [tmp]\n`,
    [
      "5:11 security.tmpfs.0: an absolute path",
      "5:11 security.tmpfs.0: an absolute path inside the container",
    ],
  ],
  ["tmpfs system", `${H}security:\n  tmpfs: [/etc]\n`, ["5:11 security.tmpfs.0: not the system folder /etc"]],
  [
    "cap unusual",
    `${H}security:\n  capAdd: [SYS_ADMIN]\n`,
    [
      "5:11 security.capAdd: SYS_ADMIN is outside NET_BIND_SERVICE, CHOWN, SETUID, SETGID, FOWNER, KILL: "
        + "write why in security.reason",
    ],
  ],
  ["check tool name", `${H}check:\n  tool: "a b"\n`, ["5:9 check.tool: the server's own tool name (without LiteLLM's mcp_<name>- prefix)"]],
  ["rename to itself", `${H}tools:\n  rename:\n    a: a\n`, ["6:8 tools.rename.a: renames a tool to its own name"]],
  ["two renamed to one", `${H}tools:\n  rename:\n    a: c\n    b: c\n`, ["7:8 tools.rename.b: a is renamed to c too (each new name once)"]],
  [
    "rename hidden",
    `${H}tools:\n  deny: [a]\n  rename:\n    a: b\n`,
    [
      "7:8 tools.rename.a: a is hidden by deny; a rename for it would never show",
    ],
  ],
  ["description nul", `${H}description: "a\\0b"\n`, ["4:14 description: contains a NUL byte"]],
  [
    "name regex",
    "name: X\nimage: a:1\ntransport: http\nport: 1\n",
    [
      "1:7 name: lowercase letters, digits and -, starting with a letter or digit",
    ],
  ],
  ["mount format", `${H}mounts: ["a"]\n`, ["4:10 mounts.0: expected \"source:/container/path[:ro|rw]\""]],
  ["mount target system", `${H}mounts: ["a:/etc"]\n`, ["4:10 mounts.0: target: not the system folder /etc"]],
  [
    "mount src tilde",
    `${H}mounts: ["~a:/x"]\n`,
    [
      "4:10 mounts.0: the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it",
    ],
  ],
  ["mount src ends tilde ok", `${H}mounts: ["a~:/x"]\n`, []],
  ["sse port required", "image: a:1\ntransport: sse\n", ["1:1 port: required for transport sse"]],
  ["stdio path", "image: a:1\ntransport: stdio\npath: /x\n", ["3:7 path: a stdio server has no port or path"]],
  [
    "check hidden by tools",
    `${H}tools:\n  deny: [a]\ncheck:\n  tool: a\n`,
    [
      "7:9 check.tool: a is not exposed under tools: (check calls the name LiteLLM shows)",
    ],
  ],
  [
    "stdio auth",
    "image: a:1\ntransport: stdio\nauth:\n  type: bearer_token\n  secret: T\n",
    [
      "4:3 auth: a stdio server takes no credential (the edge bridges it; nothing would send it)",
    ],
  ],
  ["duplicate mount targets", `${H}mounts: ["a:/x", "b:/x"]\n`, ["4:18 mounts.1: /x is already a mount target (each target once)"]],
  ["data same as mount", `${H}data: /x\nmounts: ["a:/x"]\n`, ["4:7 data: /x is already a mount target (each target once)"]],
  ["data in tmp", `${H}data: /tmp\n`, ["4:7 data: /tmp is already a mount target (each target once)"]],
  [
    "data in tmpfs listed",
    `${H}data: /cache\nsecurity:\n  tmpfs: [/cache]\n`,
    [
      "6:11 security.tmpfs.0: /cache is already a mount target (each target once)",
    ],
  ],
  ["data not in tmpfs when rw root", `${H}data: /tmp\nsecurity:\n  readOnlyRootFilesystem: false\n`, []],
  ["image and build", "image: a:1\nbuild: app\ntransport: http\nport: 1\n", ["2:8 build: image: and build: both name what runs: keep one"]],
  [
    "image build package",
    "image: a:1\nbuild: app\npackage: npm:a@1.0.0\ntransport: http\nport: 1\n",
    [
      "2:8 build: image: and build: both name what runs: keep one",
      "3:10 package: image: and package: both name what runs: keep one",
    ],
  ],
  ["url stdio", "url: http://h/mcp\ntransport: stdio\n", ["2:12 transport: a url: server speaks http (streamable HTTP) or sse, not stdio"]],
  ["url space", "url: \"http://h/m cp\"\ntransport: http\n", ["1:6 url: a URL has no spaces or NUL bytes"]],
  ["url ftp", "url: ftp://h/mcp\ntransport: http\n", ["1:6 url: ftp: is not http or https"]],
  [
    "url user",
    "url: http://u@h/mcp\ntransport: http\n",
    [
      "1:6 url: credentials inline (user:password@): put the secret in the env file and name it under auth:",
    ],
  ],
  [
    "url password only",
    "url: \"http://:p@h/mcp\"\ntransport: http\n",
    [
      "1:6 url: credentials inline (user:password@): put the secret in the env file and name it under auth:",
    ],
  ],
  ["url hash", "url: http://h/mcp#x\ntransport: http\n", ["1:6 url: no #fragment (it is never sent to the server)"]],
];

describe('each check of a desired file: refuses with its own located message, accepts the value just inside', () => {
  for (const [what, text, expected] of CASES) {
    test(`${expected.length ? 'refused' : 'accepted'}: ${what}`, () => assert.deepEqual(problems(text), expected));
  }
});

describe('container paths a mount, data volume or tmpfs may not cover', () => {
  const system = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/sbin', '/sys', '/usr', '/var', '/run'];
  for (const p of system) {
    test(`refused: the system folder ${p} as a data volume`, () => {
      assert.deepEqual(problems(`${H}data: ${p}\n`), [`4:7 data: not the system folder ${p}`]);
    });
  }
  test('accepted: a folder beside them (/srv, /data, /var2)', () => {
    for (const p of ['/srv', '/data', '/var2']) assert.deepEqual(problems(`${H}data: ${p}\n`), [], p);
  });
});

describe('a url: server never carries a credential in its query', () => {
  const secretKeys = ['token', 'access_token', 'secret', 'password', 'pwd', 'api_key', 'api-key', 'apikey', 'key', 'auth', 'authorization',
    'credential', 'signature', 'sig'];
  for (const k of secretKeys) {
    test(`refused: ?${k}=`, () => {
      assert.deepEqual(problems(`url: http://h/mcp?${k}=1\ntransport: http\n`), [
        `1:6 url: credentials inline (query parameter ${k}): put the secret in the env file and name it under auth:`,
      ]);
    });
  }
  test('accepted: parameters that only contain such a word (monkey, xauth, sigma, xsig, keyword, page)', () => {
    for (const k of ['monkey', 'xauth', 'sigma', 'xsig', 'keyword', 'page']) {
      assert.deepEqual(problems(`url: http://h/mcp?${k}=1\ntransport: http\n`), [], k);
    }
  });
});

test('memory sizes: bytes, k, m, g, decimals; anything else is not a size', () => {
  assert.deepEqual(
    ['1048576', '512k', '512m', '1g', '1.5g', '1.25G'].map(memoryBytes),
    [1048576, 524288, 536870912, 1073741824, 1610612736, 1342177280],
  );
  for (const bad of ['', 'x', '1gb', ' 1g', '1g ', '1.g', '-1m']) assert.throws(() => memoryBytes(bad), /not a size/, bad);
});
