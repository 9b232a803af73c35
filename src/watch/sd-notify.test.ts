import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdNotifier } from './sd-notify.js';

test('systemd notifications go as one datagram from the daemon itself, systemd-notify only as the fallback', () => {
  const sent: { text: string; path: string }[] = [];
  const execs: string[][] = [];
  const logs: string[] = [];
  const exec = (args: string[], done: (err: Error | null) => void): void => {
    execs.push(args);
    done(null);
  };
  let refuse = false;
  const sender = () => ({
    send: (buf: Buffer, path: string) => (refuse ? new Error('EAGAIN') : (sent.push({ text: buf.toString(), path }), null)),
    close: () => undefined,
  });
  const notify = sdNotifier('/run/systemd/notify', (m) => logs.push(m), { sender, exec });
  notify(['READY=1', 'STATUS=1 server: 1 running']);
  notify(['STATUS=2 servers: 2 running']);
  assert.deepEqual(sent, [
    { text: 'READY=1\nSTATUS=1 server: 1 running', path: '/run/systemd/notify' },
    { text: 'STATUS=2 servers: 2 running', path: '/run/systemd/notify' },
  ]);
  assert.deepEqual(execs, []);
  refuse = true;
  notify(['STATUS=x']);
  assert.deepEqual(execs, [['--no-block', 'STATUS=x']], 'a refused datagram is sent by systemd-notify');
  assert.match(logs.join(), /sd_notify to \/run\/systemd\/notify failed \(EAGAIN\)/);

  const noAddon: string[][] = [];
  const missing = (): Error => new Error('unix-dgram is not available');
  sdNotifier('/run/systemd/notify', () => undefined, { sender: missing, exec: (a, d) => (noAddon.push(a), d(null)) })(['READY=1']);
  const abstract: string[][] = [];
  sdNotifier('@/org/freedesktop/systemd1/notify', () => undefined, { sender, exec: (a, d) => (abstract.push(a), d(null)) })(['READY=1']);
  assert.deepEqual([noAddon, abstract], [[['--no-block', 'READY=1']], [['--no-block', 'READY=1']]], 'no addon, or an abstract socket');
});
