import type { PackageRef } from '../desired/schema.js';

/**
 * Dockerfiles the reconciler writes for `package:` servers (ADR 0023), and the base images a
 * Dockerfile names (checked before a build, so images.pull: never never pulls one).
 *
 * The generated files use only what node:22-slim / python:3.12-slim (and the local bases of
 * scripts/images/build-package-bases.sh) have: /bin/sh with its builtins, npm, python3 -m venv.
 */

/** Where the generated images keep the package, and the entry point they run. */
export const NPM_APP_DIR = '/app';
export const PYPI_VENV = '/opt/mcp';
export const ENTRY = '/app/mcp-entry';

/** The one bin of an npm package, picked at build time (several: the build fails and says to set command:). */
function npmEntryScript(name: string): string {
  // Runs inside the build with `node -e`; JSON.stringify makes the package name a safe JS string.
  return [
    `const n=${JSON.stringify(name)};`,
    "const p=require('/app/node_modules/'+n+'/package.json');",
    "const short=n.replace(/^@[^/]+\\//,'');",
    "const b=typeof p.bin==='string'?{[short]:p.bin}:(p.bin||{});",
    'const k=Object.keys(b);',
    "if(k.length!==1){console.error('mcp-reconciler: '+n+' has '+(k.length?'several bins ('+k.join(', ')+')':'no bin')",
    "+'; set command: in the desired file');process.exit(1)}",
    "const f=require('path').join('/app/node_modules',n,b[k[0]]);",
    "require('fs').writeFileSync('/app/mcp-entry','#!/bin/sh\\nexec node '+JSON.stringify(f)+' \"$@\"\\n',{mode:0o755});",
  ].join('');
}

/** Quote for a shell word inside a Dockerfile RUN line (the spec grammar already excludes quotes). */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The Dockerfile of a package. `needEntry`: no `command:` was given, so the build finds the entry
 * point (npm: the package's single bin; pypi: the console script named like the package) and fails
 * with a message naming command: when there is none.
 */
export function packageDockerfile(pkg: PackageRef, base: string, needEntry: boolean): string {
  const lines = ['# Written by mcp-reconciler (docs/adr/0023); do not edit: change package: instead.', `FROM ${base}`];
  if (pkg.ecosystem === 'npm') {
    lines.push(
      `WORKDIR ${NPM_APP_DIR}`,
      'ENV NODE_ENV=production',
      `RUN printf '{"private":true}\\n' > package.json` +
        ` && npm install --omit=dev --no-audit --no-fund --save-exact --loglevel=error ${sh(`${pkg.name}@${pkg.version}`)}` +
        (needEntry ? ` && node -e ${sh(npmEntryScript(pkg.name))}` : ''),
      `ENV PATH=${NPM_APP_DIR}/node_modules/.bin:$PATH`,
    );
  } else {
    const script = `${PYPI_VENV}/bin/${pkg.name}`;
    const check = needEntry
      ? ` && { test -x ${sh(script)} || { echo "mcp-reconciler: ${pkg.name} has no console script named ${pkg.name};` +
        ' set command: in the desired file" >&2; exit 1; }; }'
      : '';
    lines.push(
      'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1',
      `RUN python3 -m venv ${PYPI_VENV}` +
        ` && ${PYPI_VENV}/bin/pip install --no-cache-dir --disable-pip-version-check ${sh(`${pkg.name}==${pkg.version}`)}${check}`,
      `ENV PATH=${PYPI_VENV}/bin:$PATH`,
    );
  }
  // Not root at run time; the bases have a user 1000 (node:22-slim: node).
  lines.push('USER 1000:1000');
  if (needEntry) lines.push(`CMD [${JSON.stringify(pkg.ecosystem === 'npm' ? ENTRY : `${PYPI_VENV}/bin/${pkg.name}`)}]`);
  return `${lines.join('\n')}\n`;
}

/**
 * The images a Dockerfile builds FROM, with `${VAR}` / `$VAR` replaced by the build arguments and
 * the ARG defaults before the first FROM. Earlier stages (`FROM x AS y` ... `FROM y`) and scratch
 * are left out.
 */
export function baseImagesOf(dockerfile: string, args: Readonly<Record<string, string>>): string[] {
  const vars: Record<string, string> = {};
  const stages = new Set<string>();
  const out: string[] = [];
  let seenFrom = false;
  // Line continuations joined; comments dropped.
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [word = '', ...rest] = line.split(/\s+/);
    const kw = word.toUpperCase();
    if (kw === 'ARG' && !seenFrom) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest.join(' '));
      if (m) vars[m[1]!] = args[m[1]!] ?? unquote(m[2] ?? '');
    } else if (kw === 'FROM') {
      seenFrom = true;
      const words = rest.filter((w) => !w.startsWith('--'));
      const varRe = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
      const image = (words[0] ?? '').replace(varRe, (_m, a?: string, b?: string) => vars[(a ?? b)!] ?? '');
      if (image !== '' && image !== 'scratch' && !stages.has(image.toLowerCase()) && !out.includes(image)) out.push(image);
      if (words[1]?.toUpperCase() === 'AS' && words[2]) stages.add(words[2].toLowerCase());
    }
  }
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}
