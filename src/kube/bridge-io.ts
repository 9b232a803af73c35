/**
 * The edge's stdio bridges in a cluster (docs/adr/0018): the server `mcp-<name>` is the StatefulSet of
 * that name with one replica, so its pod is `mcp-<name>-0` (a name the edge's Role can list) and the
 * process is its container `server`.
 */
import type { Logger } from 'pino';
import { BRIDGE_LIMITS } from '../bridge/stdio-bridge.js';
import type { BridgeIo } from '../docker/bridges.js';
import { kubeAttachStdio, kubeWaitRunning, type KubeApi } from './attach.js';
import { SERVER_CONTAINER, stdioPodName } from './names.js';

export { stdioPodName } from './names.js';

/** `log`: a refused or failed attach is a `warn` line (the client only gets `unavailable: <why>`). */
export function kubeBridgeIo(api: KubeApi, restartWaitMs: number = BRIDGE_LIMITS.restartWaitMs, log?: Logger): BridgeIo {
  return {
    attach: async (c, onMessage, onStderr) => {
      try {
        return await kubeAttachStdio(api, stdioPodName(c), SERVER_CONTAINER, onMessage, onStderr);
      } catch (err) {
        log?.warn({ container: c, pod: stdioPodName(c), err: (err as Error).message }, 'edge: pods/attach failed');
        throw err;
      }
    },
    waitRunning: (c) => kubeWaitRunning(api, stdioPodName(c), SERVER_CONTAINER, restartWaitMs),
  };
}
