import type { IncomingMessage } from 'node:http';

/** A request body: whole (`body`), over the bound (`over`, nothing of it kept), or its client left while sending (`gone`). */
export type BodyRead = { body: Buffer } | { over: number } | { gone: true };

/**
 * Reads a request's body, keeping at most `max` bytes. Past the bound nothing more is kept, but the
 * rest is still read and dropped: destroying the request would reset a connection whose client is
 * still sending, and it would never see the 413 it is answered with. The caller answers an `over`
 * with `connection: close`, so the connection ends once that answer is out; the server's request
 * timeout bounds a client that never stops sending.
 */
export function readBody(req: IncomingMessage, max: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > max) return; // over: dropped
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        chunks.length = 0;
        resolve({ over: max });
      }
    });
    // Settled once: after `over`, the end of the dropped rest changes nothing.
    req.once('end', () => resolve({ body: Buffer.concat(chunks) }));
    req.once('error', () => resolve({ gone: true }));
    req.once('close', () => {
      if (!req.complete) resolve({ gone: true });
    });
  });
}
