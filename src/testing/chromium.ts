import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's chromium (scripts/system-packages.sh installs it). */
export const CHROMIUM = process.env['CHROMIUM'] ?? 'chromium';
/** Headless Chromium can take long to start on a loaded 2-core machine. */
export const CHROMIUM_TIMEOUT_MS = 120_000;

function run(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  // --no-sandbox: the tests run as root here, where Chromium refuses its sandbox.
  const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars'];
  base.push(`--user-data-dir=${profile}`);
  return new Promise<string>((resolve, reject) => {
    execFile(CHROMIUM, [...base, ...args], { timeout: CHROMIUM_TIMEOUT_MS, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`${CHROMIUM} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * The DOM after the page loaded, serialized. (`--blink-settings=scriptEnabled=false` would also
 * switch off the serializer; the status page's CSP forbids every script instead.)
 */
export function dumpDom(url: string): Promise<string> {
  return run(['--dump-dom', url]);
}

/** A PNG screenshot of the page at the given window size; returns the PNG's bytes. */
export async function screenshot(url: string, out: string, size: { width: number; height: number }): Promise<Buffer> {
  await run([`--screenshot=${out}`, `--window-size=${size.width},${size.height}`, url]);
  return readFileSync(out);
}

/** Width and height from a PNG's IHDR chunk (throws when the bytes are not a PNG). */
export function pngSize(png: Buffer): { width: number; height: number } {
  const sig = '89504e470d0a1a0a';
  if (png.subarray(0, 8).toString('hex') !== sig || png.subarray(12, 16).toString('ascii') !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
