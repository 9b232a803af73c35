import type { Logger } from 'pino';
import { z } from 'zod';
import { readRegularFile } from '../fs/safe-read.js';
import { fileStamp } from '../fs/file-stamp.js';

/** The two gateway colours of the blue/green handover (ADR 0025). */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

export function otherColour(c: Colour): Colour {
  return c === 'blue' ? 'green' : 'blue';
}

/** The active file is tiny; anything bigger is not ours. */
export const MAX_ACTIVE_BYTES = 4096;

const ActiveSchema = z.strictObject({ active: z.enum(COLOURS) });

/** The active file's exact text for a colour (the planner compares texts; the front parses). */
export function renderActive(colour: Colour): string {
  return `${JSON.stringify({ active: colour })}\n`;
}

/** The colour a file names, or null when it is missing or not ours (never throws). */
export function parseActive(text: string | null | undefined): Colour | null {
  if (text === null || text === undefined) return null;
  try {
    const r = ActiveSchema.safeParse(JSON.parse(text));
    return r.success ? r.data.active : null;
  } catch {
    return null;
  }
}

/** What the front asks on each request: the colour to send it to, null before any good read. */
export interface ActiveLookup {
  active(): Colour | null;
}

/**
 * The front's view of the active file (ADR 0025), read like the edge's tool policy (ADR 0021):
 * each lookup compares the file's identity (one stat) with the last read and re-reads it when it
 * changed, so the reconciler's switch applies to the very next request. A file that cannot be read
 * or parsed keeps the last good colour (logged once per change).
 */
export class ActiveFile implements ActiveLookup {
  #stamp = '';
  #good: Colour | null = null;

  constructor(
    readonly path: string,
    readonly log: Logger,
  ) {}

  active(): Colour | null {
    const stamp = fileStamp(this.path);
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      let colour: Colour | null = null;
      try {
        colour = parseActive(readRegularFile(this.path, { maxBytes: MAX_ACTIVE_BYTES }));
      } catch {
        colour = null;
      }
      if (colour === null) {
        const msg = this.#good
          ? 'front: active file unusable; keeping the last good colour'
          : 'front: no usable active file; requests answered 503 until there is one';
        this.log.warn({ path: this.path }, msg);
      } else if (colour !== this.#good) {
        this.log.info({ path: this.path, active: colour, was: this.#good }, 'front: active gateway switched');
        this.#good = colour;
      }
    }
    return this.#good;
  }
}
