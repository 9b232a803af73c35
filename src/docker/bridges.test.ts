import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { BridgeRegistry, MAX_BRIDGES, type BridgeIo } from './bridges.js';
import { NotAttachable, type StdioPipe } from './attach.js';
import { createEdgeServer } from '../edge/server.js';
import { createLogger } from '../log/logger.js';

/** Fake stdio processes: `live` names answer initialize; `exit(name)` ends one; anything else does not exist. */
class FakeDocker implements BridgeIo {
  readonly live = new Set<string>();
  readonly #exits = new Map<string, () => void>();
  waits = 0;
  async attach(container: string, onMessage: (m: unknown) => void): Promise<StdioPipe> {
    if (!this.live.has(container)) throw new NotAttachable(`${container} does not exist`, true);
    let exit: () => void = () => undefined;
    const closed = new Promise<void>((r) => (exit = r));
    this.#exits.set(container, exit);
    return {
      send: (m) => {
        const msg = m as { id?: string; method?: string; params?: { protocolVersion?: string } };
        if (msg.method === 'initialize') {
          setImmediate(() => onMessage({
            jsonrpc: '2.0',
            id: msg.id,
            result: { protocolVersion: msg.params?.protocolVersion, capabilities: {}, serverInfo: { name: 'f', version: '1' } },
          }));
        }
      },
      closed,
      close: () => exit(),
    };
  }
  async waitRunning(): Promise<boolean> {
    this.waits++;
    return false;
  }
  exit(container: string): void {
    this.#exits.get(container)?.();
  }
}

describe('stdio bridges are bounded and freed', () => {
  const io = new FakeDocker();
  const registry = new BridgeRegistry('t', createLogger({ level: 'silent' }), undefined, io);
  let edge: Server;
  let port = 0;
  before(async () => {
    edge = createEdgeServer({
      port: 0, allowPrefix: 'mcp-', log: createLogger({ level: 'silent' }),
      bridgeFor: (n) => registry.get(n), bridgeStats: () => registry.stats(),
    });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    port = (edge.address() as AddressInfo).port;
  });
  after(() => {
    registry.close();
    edge.close();
    edge.closeAllConnections();
  });

  const initialize = async (name: string): Promise<number> => (await initializeBody(name)).status;
  const initializeBody = async (name: string): Promise<{ status: number; body: string }> => {
    const r = await request(`http://127.0.0.1:${port}/${name}/stdio/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    return { status: r.statusCode, body: await r.body.text() };
  };
  const names = () => registry.stats().map((s) => s.container);

  test('a name that is no owned stdio container fails at once and leaves no bridge behind (no wait for a restart)', async () => {
    const started = Date.now();
    const { body } = await initializeBody('mcp-ghost');
    assert.match(body, /"error":\{"code":-32603,"message":"stdio server mcp-ghost unavailable: mcp-ghost does not exist"/);
    assert.ok(Date.now() - started < 5_000, 'no 30 s wait');
    assert.equal(io.waits, 0);
    assert.deepEqual(names(), []);
  });

  test(`at most ${MAX_BRIDGES} bridges: a new name is refused with 503 while all are in use; ` +
    'a bridge whose process is gone is freed for it', async () => {
    for (let i = 0; i < MAX_BRIDGES; i++) {
      io.live.add(`mcp-s${i}`);
      assert.equal(await initialize(`mcp-s${i}`), 200);
    }
    io.live.add('mcp-extra');
    assert.equal(await initialize('mcp-extra'), 503);
    assert.equal(names().length, MAX_BRIDGES);
    io.exit('mcp-s0');
    await new Promise((r) => setImmediate(r));
    assert.equal(registry.stats().find((s) => s.container === 'mcp-s0')?.state, 'down');
    assert.equal(await initialize('mcp-extra'), 200);
    assert.ok(names().includes('mcp-extra') && !names().includes('mcp-s0'), names().join(','));
    assert.equal(names().length, MAX_BRIDGES);
  });
});
