/** Quiet time after the last file event before a reconcile (editors write in bursts). */
export const DEBOUNCE_MS = 300;

/**
 * When the daemon runs a pass: events are debounced (a burst becomes one request after
 * `debounceMs` of quiet), at most one pass runs at a time, and every request made while a pass
 * runs merges into one follow-up pass. After `stop()` nothing new starts.
 */
export class PassScheduler {
  readonly #run: (why: string) => Promise<void>;
  // Stryker disable next-line StringLiteral: equivalent; read only after request() set it together with #again
  #nextWhy = '';
  readonly #debounceMs: number;
  #running: Promise<void> | null = null;
  // Stryker disable next-line BooleanLiteral: equivalent; request() resets it before every pass
  #again = false;
  #stopping = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(run: (why: string) => Promise<void>, debounceMs: number = DEBOUNCE_MS) {
    this.#run = run;
    this.#debounceMs = debounceMs;
  }

  /** A pass now, or, while one runs, one more right after it (however many requests came). */
  request(why: string): void {
    if (this.#stopping) return;
    if (this.#running) {
      this.#again = true;
      this.#nextWhy = why; // the follow-up pass says why it runs (the latest request), not why the first did
      return;
    }
    this.#running = (async () => {
      let current = why;
      do {
        this.#again = false;
        await this.#run(current);
        current = this.#nextWhy;
      } while (this.#again && !this.#stopping);
    })().finally(() => {
      this.#running = null;
    });
  }

  /** A request once `debounceMs` pass without another debounced call. */
  debounced(why: string): void {
    clearTimeout(this.#timer ?? undefined);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.request(why);
    }, this.#debounceMs);
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** No new passes; resolves when the pass in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopping = true;
    // Stryker disable next-line all: equivalent; the timer's request() is refused once stopping, clearing only frees the loop sooner
    clearTimeout(this.#timer ?? undefined);
    this.#timer = null;
    await this.#running;
  }
}
