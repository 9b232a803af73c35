import { execFile } from 'node:child_process';
import { unixDgramSender, type DatagramSender } from '../log/journal.js';
import { errorMessage } from '../errors/index.js';

/**
 * sd_notify(3) from the daemon's own process: one datagram of `VAR=value` lines to $NOTIFY_SOCKET.
 * `systemd-notify` run as a child races systemd: it can exit before systemd reads its message, then
 * systemd cannot tell which unit the PID belonged to and drops it, so `systemctl status` kept an old
 * `Status:` (seen in CI: "0 servers: 0 running" four minutes after the server ran). Without the
 * unix-dgram addon, for an abstract socket (`@...`) or when the send fails, `systemd-notify` is used.
 */
export function sdNotifier(
  socket: string,
  log: (message: string) => void,
  deps: { sender?: () => DatagramSender | Error; exec?: (args: string[], done: (err: Error | null) => void) => void } = {},
): (vars: string[]) => void {
  const exec = deps.exec ?? ((args, done) => void execFile('systemd-notify', args, (err) => done(err)));
  return (vars) => {
    if (!socket.startsWith('@')) {
      // A socket per message, closed at once: an open one would keep the process alive after SIGTERM.
      // The send is synchronous (sendto with MSG_DONTWAIT), so the datagram is queued before the close.
      const sender: DatagramSender | Error = (deps.sender ?? unixDgramSender)();
      if (!(sender instanceof Error)) {
        const err = sender.send(Buffer.from(vars.join('\n')), socket);
        sender.close();
        if (err === null) return;
        log(`sd_notify to ${socket} failed (${err.message}); trying systemd-notify`);
      }
    }
    exec(['--no-block', ...vars], (err) => {
      if (err) log(`systemd-notify failed: ${errorMessage(err)}`);
    });
  };
}
