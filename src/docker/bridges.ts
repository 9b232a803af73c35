import Docker from 'dockerode';
import type { Logger } from 'pino';
import { StdioBridge, BRIDGE_LIMITS, type BridgeStats } from '../bridge/stdio-bridge.js';
import { attachStdio, waitRunning } from './attach.js';

/** The edge's stdio bridges, one per container, created on first use (Docker attach wiring). */
export class BridgeRegistry {
  readonly #bridges = new Map<string, StdioBridge>();
  constructor(
    readonly instance: string,
    readonly log: Logger,
    readonly docker: Docker = new Docker(),
  ) {}

  get(container: string): StdioBridge {
    let b = this.#bridges.get(container);
    if (!b) {
      b = new StdioBridge({
        container,
        attach: (onMessage) =>
          attachStdio(this.docker, container, this.instance, onMessage, (line) => this.log.debug({ container, stderr: line }, 'stdio server stderr')),
        waitRunning: () => waitRunning(this.docker, container, BRIDGE_LIMITS.restartWaitMs),
        log: this.log,
      });
      this.#bridges.set(container, b);
    }
    return b;
  }

  stats(): BridgeStats[] {
    return [...this.#bridges.values()].map((b) => b.stats());
  }
}
