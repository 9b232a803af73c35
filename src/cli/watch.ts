import { setTimeout as delay } from 'node:timers/promises';

/** Where `--watch` draws: a terminal is redrawn in place, anything else gets one block per interval. */
export interface WatchOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Cursor home, then each line cleared to its end, then the rest of the screen cleared: a redraw without flicker. */
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/**
 * Calls `render` every `intervalMs` (after the previous one finished) and shows its text until `signal`
 * aborts; a render that fails shows its error and the loop goes on. `title` heads each block; `bare`: no
 * heading and no redraw, one text per line (NDJSON for `--json`).
 */
export async function watch(
  render: () => Promise<string>,
  out: WatchOutput,
  opts: { intervalMs: number; signal: AbortSignal; title: string; bare?: boolean; now?: () => Date },
): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const aborted = new Promise<null>((r) => opts.signal.addEventListener('abort', () => r(null), { once: true }));
  while (!opts.signal.aborted) {
    const text = await Promise.race([render().catch((err: unknown) => `error: ${(err as Error).message ?? String(err)}`), aborted]);
    if (text === null) break;
    const head = `${opts.title}  ${now().toISOString()}`;
    if (opts.bare) {
      out.write(`${text}\n`);
    } else if (out.isTTY) {
      const lines = [`${head}  (Ctrl-C to stop)`, '', ...text.split('\n')];
      out.write(`${HOME}${lines.map((l) => `${l}${CLEAR_LINE_END}`).join('\n')}\n${CLEAR_BELOW}`);
    } else {
      out.write(`--- ${head}\n${text}\n\n`);
    }
    try {
      await delay(opts.intervalMs, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
  }
}
