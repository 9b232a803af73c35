// Every bench case, in the order `npm run bench` runs them and the README lists their figures.
// Add a case here (see bench/README.md); its id is what `--only` takes.
import type { BenchCase } from './case.js';
import { probeCost } from './probe-cost.js';
import { noopResync } from './noop-resync.js';
import { noopResyncDocker, litellmRestart } from './real-stack.js';
import { stdioBridge } from './bridge.js';
import { fileDrop, fileDropApi } from './drop.js';
import { dockerBack } from './docker-back.js';
import { badEdit } from './bad-edit.js';
import { daemonMemory } from './daemon-memory.js';
import { configHandover } from './handover.js';

export const CASES: readonly BenchCase[] = [
  probeCost, noopResync, noopResyncDocker, litellmRestart, stdioBridge, fileDrop, fileDropApi, configHandover,
  dockerBack, badEdit, daemonMemory,
];
