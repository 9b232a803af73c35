import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A stand-in for journald's native socket: python3 binds a unix datagram socket at `path`, parses each
 * datagram by the native protocol (its own parser, not ours: `NAME=value\n`, or `NAME\n` + u64le length +
 * value + `\n`) and prints the entry as JSON, field -> list of values. A malformed datagram prints
 * {"__malformed": [reason]}.
 */
const RECEIVER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('{"__bound": ["1"]}', flush=True)
while True:
    d = s.recv(1 << 20)
    i, f = 0, {}
    try:
        while i < len(d):
            nl = d.index(b"\\n", i)
            line = d[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1)
                i = nl + 1
            else:
                k = line
                (n,) = struct.unpack("<Q", d[nl + 1:nl + 9])
                v = d[nl + 9:nl + 9 + n]
                if len(v) != n or d[nl + 9 + n:nl + 10 + n] != b"\\n":
                    raise ValueError("bad length-prefixed value for " + k.decode())
                i = nl + 10 + n
            f.setdefault(k.decode(), []).append(v.decode())
    except Exception as e:
        f = {"__malformed": [str(e)]}
    print(json.dumps(f), flush=True)
`;

export interface JournalReceiver {
  /** Entries received so far, in order. */
  entries: Array<Record<string, string[]>>;
  ready: Promise<void>;
  stop(): void;
}

export function startJournalReceiver(path: string): JournalReceiver {
  const child: ChildProcess = spawn('python3', ['-u', '-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const entries: Array<Record<string, string[]>> = [];
  let buf = '';
  let bound: () => void = () => {};
  const ready = new Promise<void>((res, rej) => {
    bound = res;
    child.once('exit', (code) => rej(new Error(`journal receiver exited ${code}`)));
  });
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const e = JSON.parse(buf.slice(0, nl)) as Record<string, string[]>;
      buf = buf.slice(nl + 1);
      if (e['__bound']) bound();
      else entries.push(e);
    }
  });
  return { entries, ready, stop: () => void child.kill() };
}
