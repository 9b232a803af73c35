/**
 * A strict stand-in for the Kubernetes API server, on 127.0.0.1, for the edge's pods/attach adapter
 * (src/kube/attach.ts): `GET /api/v1/namespaces/<ns>/pods/<pod>` and the `attach` subresource as a
 * WebSocket speaking `v4.channel.k8s.io` (each message: channel byte, then data; 0 stdin, 1 stdout,
 * 2 stderr, 3 error). The "container" is a real child process; its stdin/stdout/stderr are the channels.
 * Anything not exactly as the real API server wants it (token, path, query, subprotocol, unmasked
 * frames) is refused and recorded, so tests of the adapter can fail.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const ATTACH_QUERY = { container: 'server', stdin: 'true', stdout: 'true', stderr: 'true', tty: 'false' } as const;

export interface FakeKubeOptions {
  namespace: string;
  pod: string;
  token: string;
  /** The container's process: command and args. */
  command: [string, ...string[]];
  /** Pod labels; default the ones the export writes for a stdio server. */
  labels?: Record<string, string>;
  /** Serve HTTPS with this certificate (as the real API server does); default plain HTTP. */
  tls?: { cert: string; key: string };
}

/** One WebSocket frame as the client sent it. */
interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Parses client frames (which must be masked) from a growing buffer; returns the frames and the rest. */
function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer; error?: string } {
  const frames: Frame[] = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    if ((b1 & 0x80) === 0) return { frames, rest: Buffer.alloc(0), error: 'unmasked client frame' };
    let len = b1 & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (buf.length < p + 2) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length < p + 8) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (buf.length < p + 4 + len) break;
    const mask = buf.subarray(p, p + 4);
    const payload = Buffer.from(buf.subarray(p + 4, p + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
    off = p + 4 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** A server frame (unmasked). */
function frame(opcode: number, payload: Buffer): Buffer {
  if (payload.length < 126) return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
  const n = payload.length;
  if (n < 65536) return Buffer.concat([Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]), payload]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(payload.length));
  return Buffer.concat([Buffer.from([0x80 | opcode, 127]), len, payload]);
}

export class FakeKubeApi {
  readonly server: Server;
  /** Attaches the fake accepted. */
  attaches = 0;
  /** Why requests were refused (`401 token`, `400 query`, ...), in order. */
  readonly refused: string[] = [];
  /** Pod GETs answered. */
  podGets = 0;
  #child: ChildProcess | null = null;
  #running = false;
  readonly #sockets = new Set<Duplex>();
  readonly #o: FakeKubeOptions;

  constructor(o: FakeKubeOptions) {
    this.#o = o;
    const handler: RequestListener = (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.headers.authorization !== `Bearer ${o.token}`) {
        this.refused.push('401 token');
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}');
        return;
      }
      if (req.method !== 'GET' || path !== this.#podPath()) {
        this.refused.push(`404 ${req.method} ${path}`);
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
        return;
      }
      this.podGets++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.pod()));
    };
    this.server = o.tls ? createTlsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createServer(handler);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.#upgrade(req, socket));
  }

  /** Starts the container's process. */
  start(): void {
    const child = spawn(this.#o.command[0], this.#o.command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#running = true;
    const fan = (channel: number) => (chunk: Buffer) => {
      for (const s of this.#sockets) s.write(frame(0x2, Buffer.concat([Buffer.from([channel]), chunk])));
    };
    child.stdout!.on('data', fan(1));
    child.stderr!.on('data', fan(2));
    child.once('exit', () => {
      if (this.#child !== child) return;
      this.#running = false;
      // The kubelet ends every attach stream of a container that exited.
      for (const s of this.#sockets) s.end(frame(0x8, Buffer.from([0x03, 0xe8])));
      this.#sockets.clear();
    });
  }

  /** The process dies (as a crash would); it stays down until start(). */
  async kill(): Promise<void> {
    const c = this.#child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGKILL');
    });
  }

  pod(): Record<string, unknown> {
    const labels = this.#o.labels ?? { 'io.mcp-reconciler/role': 'server', 'io.mcp-reconciler/transport': 'stdio' };
    const state = this.#running ? { running: { startedAt: '2026-12-01T00:00:00Z' } } : { waiting: { reason: 'CrashLoopBackOff' } };
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: this.#o.pod, namespace: this.#o.namespace, labels },
      spec: { containers: [{ name: 'server', image: 'x', stdin: true, stdinOnce: false, tty: false }] },
      status: {
        containerStatuses: [
          { name: 'server', state },
        ],
      },
    };
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `${this.#o.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await this.kill();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  #podPath(): string {
    return `/api/v1/namespaces/${this.#o.namespace}/pods/${this.#o.pod}`;
  }

  #refuse(socket: Duplex, status: number, why: string): void {
    this.refused.push(`${status} ${why}`);
    socket.end(`HTTP/1.1 ${status} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }

  #upgrade(req: IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${this.#o.token}`) return this.#refuse(socket, 401, 'token');
    if (url.pathname !== `${this.#podPath()}/attach`) return this.#refuse(socket, 404, `path ${url.pathname}`);
    const query = Object.fromEntries(url.searchParams);
    const want = Object.entries(ATTACH_QUERY);
    if (url.searchParams.size !== want.length || want.some(([k, v]) => query[k] !== v)) {
      return this.#refuse(socket, 400, `query ${url.search}`);
    }
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('v4.channel.k8s.io')) return this.#refuse(socket, 400, 'subprotocol');
    const key = req.headers['sec-websocket-key'];
    if (req.headers['sec-websocket-version'] !== '13' || typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      return this.#refuse(socket, 400, 'handshake');
    }
    if (!this.#running) return this.#refuse(socket, 500, 'container not running');
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
        `sec-websocket-accept: ${accept}\r\nsec-websocket-protocol: v4.channel.k8s.io\r\n\r\n`,
    );
    this.attaches++;
    this.#sockets.add(socket);
    // As the API server does: one message per channel, holding only its number.
    for (const ch of [0, 1, 2, 3]) socket.write(frame(0x2, Buffer.from([ch])));
    let buf: Buffer = Buffer.alloc(0);
    let partial: Buffer[] = [];
    const child = this.#child!;
    socket.on('data', (d: Buffer) => {
      const { frames, rest, error } = parseFrames(Buffer.concat([buf, d]));
      buf = rest;
      if (error) {
        this.refused.push(`1002 ${error}`);
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.opcode === 0x8) {
          socket.end(frame(0x8, f.payload.subarray(0, 2)));
          this.#sockets.delete(socket);
          return;
        }
        if (f.opcode === 0x9) socket.write(frame(0xa, f.payload));
        if (f.opcode !== 0x2 && f.opcode !== 0x0) continue;
        partial.push(f.payload);
        if (!f.fin) continue;
        const msg = Buffer.concat(partial);
        partial = [];
        if (msg[0] === 0 && msg.length > 1 && child.stdin!.writable) child.stdin!.write(msg.subarray(1));
        else if (msg[0] !== 0) this.refused.push(`message on channel ${msg[0]}`);
      }
    });
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => this.#sockets.delete(socket));
  }
}
