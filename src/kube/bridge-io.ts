/**
 * The edge's stdio bridges in a cluster (docs/adr/0018): the server `mcp-<name>` is the StatefulSet of
 * that name with one replica, so its pod is `mcp-<name>-0` (a name the edge's Role can list) and the
 * process is its container `server`.
 */
import { BRIDGE_LIMITS } from '../bridge/stdio-bridge.js';
import type { BridgeIo } from '../docker/bridges.js';
import { kubeAttachStdio, kubeWaitRunning, type KubeApi } from './attach.js';
import { SERVER_CONTAINER, stdioPodName } from './names.js';

export { stdioPodName } from './names.js';

export function kubeBridgeIo(api: KubeApi, restartWaitMs: number = BRIDGE_LIMITS.restartWaitMs): BridgeIo {
  return {
    attach: (c, onMessage, onStderr) => kubeAttachStdio(api, stdioPodName(c), SERVER_CONTAINER, onMessage, onStderr),
    waitRunning: (c) => kubeWaitRunning(api, stdioPodName(c), SERVER_CONTAINER, restartWaitMs),
  };
}
