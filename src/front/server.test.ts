import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createLogger } from '../log/logger.js';
import { ActiveFile, renderActive, parseActive, type Colour } from './active.js';
import { createFront, frontHeaders, FRONT_STATUS_PATH, UPSTREAM_HEADER, type Front } from './server.js';
import { FrontHandover } from './client.js';

const log = createLogger({ level: 'silent' });

/** A stand-in LiteLLM: answers its colour and the headers it got; `/slow` waits until released; `/sse` streams. */
function upstream(colour: Colour): { server: Server; release: () => void; seen: Record<string, string | string[] | undefined>[] } {
  const held: (() => void)[] = [];
  const seen: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-colour': colour });
        res.end(JSON.stringify({ colour, url: req.url, method: req.method, body: Buffer.concat(body).toString() }));
      };
      if (req.url === '/slow') held.push(answer);
      else if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: first from ${colour}\n\n`);
        held.push(() => res.end(`data: last from ${colour}\n\n`));
      } else answer();
    });
  });
  return { server, seen, release: () => held.splice(0).forEach((f) => f()) };
}

const listen = async (s: Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

describe('front (ADR 0025)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'front-'));
  const file = join(dir, 'active.json');
  const blue = upstream('blue');
  const green = upstream('green');
  let front: Front;
  let url = '';

  /** Replace the file by rename, as the reconciler does. */
  const activate = (c: Colour): void => {
    writeFileSync(`${file}.tmp`, renderActive(c));
    renameSync(`${file}.tmp`, file);
  };
  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await request(`${url}${path}`, { headers });
    return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
  };

  before(async () => {
    const ports = { blue: await listen(blue.server), green: await listen(green.server) };
    front = createFront({
      upstreams: { blue: 'mcp-litellm-blue:4000', green: 'mcp-litellm-green:4000' },
      active: new ActiveFile(file, log),
      log,
      origin: (u) => `http://127.0.0.1:${u.startsWith('mcp-litellm-blue') ? ports.blue : ports.green}`,
    });
    url = `http://127.0.0.1:${await listen(front.server)}`;
  });
  after(() => {
    front.server.closeAllConnections();
    for (const s of [front.server, blue.server, green.server]) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('before any active file: 503, and the status route says no colour', async () => {
    assert.equal((await get('/mcp/')).status, 503);
    assert.deepEqual((await get(FRONT_STATUS_PATH)).json['active'], null);
  });

  test('forwards path, query, method, body and the auth headers unchanged to the active colour', async () => {
    activate('blue');
    const r = await request(`${url}/mcp/?x=1`, {
      method: 'POST',
      headers: {
        'x-litellm-api-key': 'Bearer sk-test',
        authorization: 'Bearer sk-other',
        'x-mcp-servers': 'mcp_a',
        'content-type': 'application/json',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-colour'], 'blue');
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
    assert.deepEqual(await r.body.json(), { colour: 'blue', url: '/mcp/?x=1', method: 'POST', body });
    const h = blue.seen.at(-1)!;
    assert.equal(h['x-litellm-api-key'], 'Bearer sk-test');
    assert.equal(h['authorization'], 'Bearer sk-other');
    assert.equal(h['x-mcp-servers'], 'mcp_a');
  });

  test('a switch moves the next request; a call in flight on the old colour finishes there and is counted until it does', async () => {
    activate('blue');
    const slow = request(`${url}/slow`, { method: 'POST', body: '{}' });
    for (;;) {
      if ((front.status().upstreams.blue.inflight) === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    activate('green');
    assert.equal((await get('/mcp/')).json['colour'], 'green');
    assert.equal(front.status().upstreams.blue.inflight, 1);
    blue.release();
    const r = await slow;
    assert.equal(((await r.body.json()) as { colour: string }).colour, 'blue');
    assert.equal(front.status().upstreams.blue.inflight, 0);
  });

  test('streams an SSE answer as it is produced', async () => {
    activate('green');
    const r = await request(`${url}/sse`);
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.match(Buffer.from(first.value as Buffer).toString(), /first from green/);
    green.release();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
    assert.match(rest, /last from green/);
  });

  test('the upstream header picks a colour (the standby probe) and is not forwarded; an unknown one is refused', async () => {
    activate('green');
    assert.equal((await get('/health/readiness', { [UPSTREAM_HEADER]: 'blue' })).json['colour'], 'blue');
    assert.equal(blue.seen.at(-1)![UPSTREAM_HEADER], undefined);
    assert.equal((await get('/health/readiness', { [UPSTREAM_HEADER]: 'red' })).status, 400);
  });

  test('an unusable active file keeps the last good colour', async () => {
    activate('blue');
    assert.equal((await get('/x')).json['colour'], 'blue');
    writeFileSync(`${file}.tmp`, '{"active":"purple"}');
    renameSync(`${file}.tmp`, file);
    assert.equal((await get('/x')).json['colour'], 'blue');
    assert.equal(parseActive('{"active":"purple"}'), null);
    assert.equal(parseActive('not json'), null);
  });

  test('drain: waits for the old colour to finish its calls after the switch; refuses when the front never switched', async () => {
    activate('blue');
    const slow = request(`${url}/slow`, { method: 'POST', body: '{}' });
    for (;;) {
      if (front.status().upstreams.blue.inflight === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const h = new FrontHandover(url, () => 'sk-test');
    await assert.rejects(h.drain('blue', 'green', 300), /the front still sends to blue/);
    activate('green');
    let drained = false;
    const d = h.drain('blue', 'green', 60_000).then((r) => {
      drained = true;
      return r;
    });
    assert.equal((await h.status())?.upstreams.blue.inflight, 1);
    assert.equal(drained, false);
    blue.release();
    assert.deepEqual(await d, { inflight: 0 });
    await (await slow).body.dump();
  });

  test('drain: a client\'s GET event stream open on the old colour is not a call in flight (the drain does not wait for it)', async () => {
    activate('blue');
    const stream = await request(`${url}/sse`);
    const it = stream.body[Symbol.asyncIterator]();
    assert.match(Buffer.from((await it.next()).value as Buffer).toString(), /first from blue/);
    assert.equal(front.status().upstreams.blue.inflight, 0);
    activate('green');
    const h = new FrontHandover(url, () => 'sk-test');
    assert.deepEqual(await h.drain('blue', 'green', 5_000), { inflight: 0 });
    blue.release();
    for (let n = await it.next(); !n.done; n = await it.next());
  });

  test('frontHeaders drops hop-by-hop headers and its own routing header only', () => {
    const raw = ['Host', 'x', 'Connection', 'keep-alive', UPSTREAM_HEADER, 'blue'];
    raw.push('X-LiteLLM-Api-Key', 'Bearer k', 'Accept', 'a', 'accept', 'b');
    assert.deepEqual(frontHeaders(raw), {
      'x-litellm-api-key': 'Bearer k',
      accept: 'a, b',
    });
  });
});
