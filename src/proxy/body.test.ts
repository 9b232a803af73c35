import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, type BodyRead } from './body.js';

/** A server answering what readBody made of each request (413 with connection: close when over, as the callers do). */
async function withReader(max: number, fn: (port: number, reads: BodyRead[]) => Promise<void>): Promise<void> {
  const reads: BodyRead[] = [];
  const http = createServer((req, res) => {
    void readBody(req, max).then((r) => {
      reads.push(r);
      if ('over' in r) res.writeHead(413, { connection: 'close' }).end('over');
      else if ('body' in r) res.end(`got ${r.body.length}`);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    await fn((http.address() as AddressInfo).port, reads);
  } finally {
    http.close();
    http.closeAllConnections();
  }
}

/** POSTs `size` bytes, chunked (no content-length) unless `length`; the status, or the client's error code. */
function post(port: number, size: number, length = false): Promise<string> {
  return new Promise((resolve) => {
    const headers = length ? { 'content-length': size } : {};
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`client error ${e.code ?? e.message}`));
    req.end(Buffer.alloc(size, 0x20));
  });
}

describe('readBody: a capped request body', () => {
  test('at the bound the body is whole; one byte over is `over`, with nothing of it kept', async () => {
    await withReader(1_000, async (port, reads) => {
      assert.equal(await post(port, 1_000, true), '200 got 1000');
      assert.equal(await post(port, 1_001, true), '413 over');
      assert.deepEqual(reads.map((r) => Object.keys(r)[0]), ['body', 'over']);
    });
  });

  test('a chunked upload far over the bound gets the 413, not a reset connection (the rest is read and dropped)', async () => {
    await withReader(1_000, async (port) => {
      for (let i = 0; i < 3; i++) assert.equal(await post(port, 6 * 1024 * 1024), '413 over', `try ${i}`);
    });
  });
});
