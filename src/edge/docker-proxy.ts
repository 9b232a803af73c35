import { connect, createServer, type Server, type Socket } from 'node:net';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { Labels, isOwned } from '../docker/labels.js';

/**
 * The edge's only way to Docker (docs/adr/0007): a filtering proxy on a unix socket, run in its
 * own container (`<prefix>edge.docker`) that holds the real Docker socket. It answers exactly
 * what the stdio bridge needs, for owned stdio servers of this instance only:
 *   GET  [/v1.NN]/_ping
 *   GET  [/v1.NN]/containers/<id>/json     -> a reduced inspect (labels, stdin/tty, state; no env)
 *   POST [/v1.NN]/containers/<id>/attach   -> Docker's hijacked attach stream, nothing else
 * Everything else is 403. Inspect is answered by the proxy itself; attach is forwarded with a
 * fixed query to the full id the check saw, and client bytes flow only after Docker upgraded the
 * connection, so no second request can be smuggled behind it.
 */
export interface DockerProxyOptions {
  docker: Pick<Docker, 'getContainer'>;
  /** The real Docker socket. */
  dockerSocket: string;
  instance: string;
  log: Logger;
}

/** Longest request body accepted (attach's JSON options from dockerode, about 70 bytes). */
const MAX_BODY = 1024;
/** Longest request head accepted. */
const MAX_HEAD = 16 * 1024;
/** A client must send its request head within this. */
const HEAD_TIMEOUT_MS = 10_000;

const ROUTE =
  /^(GET|POST) (?:\/v1\.\d{1,3})?\/(?:(_ping)|containers\/([A-Za-z0-9][A-Za-z0-9_.-]{0,127})\/(json|attach))(?:\?[^ ]*)? HTTP\/1\.[01]$/;

export function createDockerProxy(opts: DockerProxyOptions): Server {
  return createServer((client) => {
    void serve(client, opts).catch((err: unknown) => {
      opts.log.warn({ err: (err as Error).message }, 'edge docker proxy: request failed');
      client.destroy();
    });
  });
}

async function serve(client: Socket, opts: DockerProxyOptions): Promise<void> {
  client.on('error', () => client.destroy());
  const req = await readHead(client, MAX_HEAD, HEAD_TIMEOUT_MS);
  if (!req) return void client.destroy();
  const [line = '', ...headerLines] = req.head.split('\r\n');
  const m = ROUTE.exec(line);
  const headers = new Map(headerLines.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
  // dockerode sends its options as a small JSON body with attach; Docker reads the query only.
  const length = Number(headers.get('content-length') ?? '0');
  const badBody = headers.has('transfer-encoding') || !(length >= 0 && length <= MAX_BODY) || (length > 0 && m?.[4] !== 'attach');
  if (!m || badBody) {
    opts.log.warn({ request: line.slice(0, 120) }, 'edge docker proxy: refused');
    return reply(client, 403, { message: 'the edge may only inspect and attach to stdio servers' });
  }
  const [, method, ping, id, action] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined];
  if (ping) return method === 'GET' ? reply(client, 200, 'OK') : reply(client, 403, { message: 'forbidden' });
  if ((action === 'json' && method !== 'GET') || (action === 'attach' && method !== 'POST')) {
    return reply(client, 403, { message: 'forbidden' });
  }
  const info = await opts.docker.getContainer(id!).inspect().catch(() => null);
  const labels = info?.Config.Labels ?? undefined;
  if (!info || !isOwned(labels, opts.instance) || labels?.[Labels.Role] !== 'server' || !info.Config.OpenStdin || info.Config.Tty) {
    return reply(client, 404, { message: `No such container: ${id}` });
  }
  if (action === 'json') {
    return reply(client, 200, {
      Id: info.Id,
      Name: info.Name,
      RestartCount: info.RestartCount,
      Config: {
        Labels: Object.fromEntries(
          Object.entries(labels ?? {})
            .filter(([k]) => k === Labels.ManagedBy || k === Labels.Instance || k === Labels.Role || k === Labels.Server),
        ),
        OpenStdin: info.Config.OpenStdin,
        Tty: info.Config.Tty,
      },
      State: { Running: info.State.Running, Restarting: info.State.Restarting, Status: info.State.Status },
    });
  }
  // Discard the body; nothing the client sends before Docker's upgrade is forwarded.
  if (!(await drain(client, req.rest, length, HEAD_TIMEOUT_MS))) return void client.destroy();
  await relayAttach(client, info.Id, opts.dockerSocket);
}

/** Read and drop `length` body bytes (some may already be in `first`). */
async function drain(sock: Socket, first: Buffer, length: number, timeoutMs: number): Promise<boolean> {
  if (first.length >= length) return true;
  let got = first.length;
  const done = await readUntil(sock, timeoutMs, (c) => ((got += c.length) >= length ? true : undefined));
  return done === true;
}

/** Forward one attach to Docker; pipe both ways only once Docker switched protocols. */
async function relayAttach(client: Socket, fullId: string, dockerSocket: string): Promise<void> {
  const upstream = connect(dockerSocket);
  upstream.on('error', () => {
    upstream.destroy();
    client.destroy();
  });
  upstream.write(
    `POST /containers/${fullId}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n` +
      'Content-Type: text/plain\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  const res = await readHead(upstream, MAX_HEAD, HEAD_TIMEOUT_MS);
  if (!res) {
    upstream.destroy();
    return void client.destroy();
  }
  client.write(`${res.head}\r\n\r\n`);
  if (!/^HTTP\/1\.[01] 101 /.test(res.head)) {
    client.end(res.rest);
    upstream.destroy();
    return;
  }
  if (res.rest.length) client.write(res.rest);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
}

function reply(client: Socket, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const reason = { 200: 'OK', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  const type = typeof body === 'string' ? 'text/plain' : 'application/json';
  client.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/** Read up to the blank line ending an HTTP head; the socket stays paused with the rest returned. */
function readHead(sock: Socket, max: number, timeoutMs: number): Promise<{ head: string; rest: Buffer } | null> {
  let buf = Buffer.alloc(0);
  return readUntil(sock, timeoutMs, (c) => {
    buf = Buffer.concat([buf, c]);
    const i = buf.indexOf('\r\n\r\n');
    if (i >= 0) return { head: buf.subarray(0, i).toString('latin1'), rest: buf.subarray(i + 4) };
    return buf.length > max ? null : undefined;
  });
}

/**
 * Feed each chunk to `step` until it returns a value (undefined: keep reading); null on timeout, end or close.
 * The socket is left paused, so nothing read after the answer is lost.
 */
function readUntil<T>(sock: Socket, timeoutMs: number, step: (chunk: Buffer) => T | null | undefined): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(null), timeoutMs);
    const onData = (c: Buffer): void => {
      const v = step(c);
      if (v !== undefined) finish(v);
    };
    const onEnd = (): void => finish(null);
    function finish(v: T | null): void {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.pause();
      resolve(v);
    }
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.resume();
  });
}
