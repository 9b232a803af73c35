import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The account the service runs as, read from the passwd database. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  group: string;
  home: string;
}

export function lookupAccount(name: string): Account {
  const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  const [user, , uid, gid, , home] = line.split(':');
  if (!user || !home) throw new Error(`no such user: ${name}`);
  let group = user;
  try {
    group = execFileSync('getent', ['group', gid as string], { encoding: 'utf8' }).split(':')[0] || user;
  } catch {
    /* primary group without a name: use the user name */
  }
  return { name: user, uid: Number(uid), gid: Number(gid), group, home };
}

export interface InstallOptions {
  account: Account;
  /** Prefix for every path written (tests install into a temp dir); '/' on a real machine. */
  root: string;
  /** The installed application folder (holds dist/ and node_modules/). */
  app: string;
  node: string;
  enable: boolean;
}

export interface InstallReport {
  unit: string;
  settings: string;
  paths: Record<string, string>;
  created: string[];
  kept: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository / package root (dist/src/install -> ../../..). */
export const APP_ROOT = resolve(here, '../../..');

/** Fill the unit template's placeholders. */
export function renderUnit(
  template: string,
  v: { account: Account; app: string; node: string; settings: string; projects: string; secrets: string },
): string {
  return template
    .replaceAll('@USER@', v.account.name)
    .replaceAll('@GROUP@', v.account.group)
    .replaceAll('@HOME@', v.account.home)
    .replaceAll('@APP@', v.app)
    .replaceAll('@NODE@', v.node)
    .replaceAll('@SETTINGS@', v.settings)
    .replaceAll('@PROJECTS@', v.projects)
    .replaceAll('@SECRETS@', v.secrets);
}

/**
 * Put the unit, the settings file and the directories in place, idempotently: existing settings
 * and secrets are kept; a missing master key is generated into mcp-litellm.env (mode 600).
 */
export function install(o: InstallOptions): InstallReport {
  const at = (p: string): string => join(o.root, p);
  const home = o.account.home;
  const paths = {
    projectsRoot: join(home, 'projects', 'mcp'),
    desiredDir: join(home, 'projects', 'mcp', 'desired-state'),
    secretsDir: join(home, 'projects', 'secrets'),
    gatewayConfigDir: join(home, 'projects', 'mcp', 'litellm'),
    settings: join(home, '.config', 'mcp-reconciler', 'settings.yaml'),
    unit: '/etc/systemd/system/mcp-reconciler.service',
  };
  const created: string[] = [];
  const kept: string[] = [];
  const own = (p: string): void => chownSync(at(p), o.account.uid, o.account.gid);
  for (const [dir, mode] of [
    [join(home, 'projects'), 0o755],
    [paths.projectsRoot, 0o755],
    [paths.desiredDir, 0o755],
    [paths.gatewayConfigDir, 0o755],
    [paths.secretsDir, 0o700],
    [dirname(paths.settings), 0o700],
  ] as const) {
    if (existsSync(at(dir))) {
      kept.push(dir);
      // Never loosen an existing folder: only private folders (0700) are tightened to their mode.
      const was = statSync(at(dir)).mode & 0o7777;
      if (mode === 0o700 && (was & 0o077) !== 0) chmodSync(at(dir), was & 0o7700);
    } else {
      mkdirSync(at(dir), { recursive: true, mode });
      chmodSync(at(dir), mode);
      created.push(dir);
    }
    own(dir);
  }
  if (existsSync(at(paths.settings))) kept.push(paths.settings);
  else {
    const settings = {
      projectsRoot: paths.projectsRoot,
      desiredDir: paths.desiredDir,
      secretsDir: paths.secretsDir,
      network: 'mcp-net',
      gateway: { managed: true, hostIp: '0.0.0.0', hostPort: 4000 },
    };
    writeFileSync(
      at(paths.settings),
      `# mcp-reconciler settings (see README "Settings"). Paths are absolute for ${o.account.name}.\n${stringify(settings)}`,
      { mode: 0o600 },
    );
    own(paths.settings);
    created.push(paths.settings);
  }
  const envFile = join(paths.secretsDir, 'mcp-litellm.env');
  if (existsSync(at(envFile)) && /^LITELLM_MASTER_KEY=./m.test(readFileSync(at(envFile), 'utf8'))) kept.push(envFile);
  else {
    writeFileSync(at(envFile), `LITELLM_MASTER_KEY=sk-${randomBytes(24).toString('hex')}\n`, { mode: 0o600, flag: 'a' });
    created.push(envFile);
  }
  chmodSync(at(envFile), 0o600);
  own(envFile);
  const template = readFileSync(join(APP_ROOT, 'systemd', 'mcp-reconciler.service'), 'utf8');
  const unit = renderUnit(template, {
    account: o.account,
    app: o.app,
    node: o.node,
    settings: paths.settings,
    projects: join(home, 'projects', 'mcp'),
    secrets: paths.secretsDir,
  });
  mkdirSync(dirname(at(paths.unit)), { recursive: true });
  writeFileSync(at(paths.unit), unit, { mode: 0o644 });
  created.push(paths.unit);
  if (o.enable) {
    execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
    execFileSync('systemctl', ['enable', '--now', 'mcp-reconciler.service'], { stdio: 'inherit' });
  }
  return { unit: paths.unit, settings: paths.settings, paths, created, kept };
}
