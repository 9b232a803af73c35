/**
 * The stdio bridge's pipe to a process in a Kubernetes pod (docs/adr/0018): the `pods/attach`
 * subresource over WebSocket, subprotocol `v4.channel.k8s.io` (every message starts with its
 * channel: 0 stdin, 1 stdout, 2 stderr, 3 error), authenticated with the edge's ServiceAccount token.
 * The same narrow StdioPipe the Docker attach gives (src/docker/attach.ts), so StdioBridge is unchanged.
 *
 * Node 20 has no WebSocket client that sends custom headers; undici's (already a dependency) does
 * (`headers`, and `dispatcher` for the cluster's CA).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, WebSocket, request, type Dispatcher } from 'undici';
import { NotAttachable, type StdioPipe } from '../docker/attach.js';
import { STDIO_POD_LABELS } from './names.js';

/** Where Kubernetes puts a pod's ServiceAccount token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export const CHANNEL_PROTOCOL = 'v4.channel.k8s.io';
export { SERVER_CONTAINER, STDIO_POD_LABELS } from './names.js';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;

/** How the edge reaches the API server. */
export interface KubeApi {
  /** `https://host:port` (in tests `http://127.0.0.1:port`). */
  server: string;
  namespace: string;
  /** The bearer token, read on every request: a projected token is rotated by the kubelet. */
  token: () => string;
  /** TLS to the API server trusting this CA (PEM); absent: the system's CAs. */
  dispatcher?: Dispatcher;
}

/** The API server as seen from inside a pod: KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount files. */
export function inClusterApi(env: NodeJS.ProcessEnv = process.env, dir: string = SERVICE_ACCOUNT_DIR): KubeApi {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('--attach kubernetes needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (it runs in a pod)');
  const read = (f: string): string => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch (err) {
      throw new Error(`--attach kubernetes: cannot read ${join(dir, f)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const ca = read('ca.crt');
  const namespace = read('namespace').trim();
  read('token');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace,
    token: () => read('token').trim(),
    dispatcher: new Agent({ connect: { ca } }),
  };
}

interface PodView {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { name: string; stdin?: boolean; tty?: boolean }[] };
  status?: { containerStatuses?: { name: string; state?: { running?: unknown; waiting?: { reason?: string }; terminated?: unknown } }[] };
}

function podUrl(api: KubeApi, pod: string): string {
  return `${api.server}/api/v1/namespaces/${encodeURIComponent(api.namespace)}/pods/${encodeURIComponent(pod)}`;
}

/** GET the pod; null when it does not exist. Throws NotAttachable when the edge may not read it. */
async function getPod(api: KubeApi, pod: string): Promise<PodView | null> {
  const res = await request(podUrl(api, pod), {
    headers: { authorization: `Bearer ${api.token()}`, accept: 'application/json' },
    ...(api.dispatcher ? { dispatcher: api.dispatcher } : {}),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode === 404) return null;
  if (res.statusCode === 401 || res.statusCode === 403) {
    throw new NotAttachable(`pod ${pod}: the API server refused the edge (HTTP ${res.statusCode}); is it in the edge's Role?`, true);
  }
  if (res.statusCode !== 200) throw new NotAttachable(`pod ${pod}: HTTP ${res.statusCode} from the API server`, false);
  return JSON.parse(text) as PodView;
}

function serverState(p: PodView, container: string): 'running' | string {
  const st = p.status?.containerStatuses?.find((c) => c.name === container)?.state;
  if (st?.running) return 'running';
  return st?.waiting?.reason ?? (st?.terminated ? 'terminated' : 'not started');
}

/** Splits a byte stream into lines (JSON-RPC over stdio is one message per line). */
function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    rest += chunk.toString('utf8');
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  };
}

/**
 * Attach to the stdin/stdout of `container` in `pod`: a pod of ours (labels STDIO_POD_LABELS) whose
 * container has stdin and no TTY, running. stdout carries newline-delimited JSON-RPC; stderr lines
 * go to `onStderr`. The pipe closes when the stream ends (the process exited, the pod went).
 */
export async function kubeAttachStdio(
  api: KubeApi,
  pod: string,
  container: string,
  onMessage: (m: unknown) => void,
  onStderr?: (line: string) => void,
): Promise<StdioPipe> {
  const p = await getPod(api, pod);
  if (!p) throw new NotAttachable(`pod ${pod} does not exist`, false);
  const labels = p.metadata?.labels ?? {};
  if (Object.entries(STDIO_POD_LABELS).some(([k, v]) => labels[k] !== v)) {
    throw new NotAttachable(`pod ${pod} is not a stdio server exported by mcp-reconciler`, true);
  }
  const spec = p.spec?.containers?.find((c) => c.name === container);
  if (!spec?.stdin || spec.tty) throw new NotAttachable(`pod ${pod}: container ${container} has no open stdin (or a TTY)`, true);
  const state = serverState(p, container);
  if (state !== 'running') throw new NotAttachable(`pod ${pod}: container ${container} is not running (${state})`, false);

  const query = new URLSearchParams({ container, stdin: 'true', stdout: 'true', stderr: 'true', tty: 'false' });
  const url = `${podUrl(api, pod)}/attach?${query.toString()}`.replace(/^http/, 'ws');
  const ws = new WebSocket(url, {
    protocols: [CHANNEL_PROTOCOL],
    headers: { authorization: `Bearer ${api.token()}` },
    ...(api.dispatcher ? { dispatcher: api.dispatcher } : {}),
  });
  ws.binaryType = 'arraybuffer';
  const stdout = lineSplitter((line) => {
    const t = line.trim();
    if (!t.startsWith('{')) return; // not a message (a server printing text to stdout)
    try {
      onMessage(JSON.parse(t));
    } catch {
      /* a broken line is dropped, as over Docker */
    }
  });
  const stderr = lineSplitter((line) => onStderr?.(line));
  let status = '';
  ws.addEventListener('message', (ev) => {
    if (!(ev.data instanceof ArrayBuffer) || ev.data.byteLength === 0) return;
    const bytes = Buffer.from(ev.data);
    // The API server opens each channel with a message of its number alone: nothing to read there.
    const payload = bytes.subarray(1);
    if (bytes[0] === STDOUT) stdout(payload);
    else if (bytes[0] === STDERR) stderr(payload);
    else if (bytes[0] === ERROR) status += payload.toString('utf8');
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (): void => {
      cleanup();
      reject(new NotAttachable(`attach to pod ${pod} failed (refused by the API server, or the container stopped)`, false));
    };
    const open = (): void => {
      cleanup();
      if (ws.protocol !== CHANNEL_PROTOCOL) {
        ws.close();
        reject(new NotAttachable(`attach to pod ${pod}: the API server chose subprotocol "${ws.protocol}"`, true));
      } else resolve();
    };
    const cleanup = (): void => {
      ws.removeEventListener('open', open);
      ws.removeEventListener('error', fail);
      ws.removeEventListener('close', fail);
    };
    ws.addEventListener('open', open);
    ws.addEventListener('error', fail);
    ws.addEventListener('close', fail);
  });
  const closed = new Promise<void>((resolve) => {
    ws.addEventListener('close', () => resolve());
    ws.addEventListener('error', () => resolve());
  });
  void closed.then(() => {
    if (status) onStderr?.(`attach ended: ${status.slice(0, 500)}`);
  });
  return {
    send: (m) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([STDIN]), Buffer.from(`${JSON.stringify(m)}\n`, 'utf8')]));
    },
    closed,
    close: () => ws.close(),
  };
}

/** Wait until the container runs again (the kubelet restarts it), polling the pod, within a deadline. */
export async function kubeWaitRunning(api: KubeApi, pod: string, container: string, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let p: PodView | null = null;
    try {
      p = await getPod(api, pod);
    } catch (err) {
      if (err instanceof NotAttachable && err.permanent) return false; // refused: waiting will not help
    }
    if (p && serverState(p, container) === 'running') return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
