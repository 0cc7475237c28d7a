// A minimal RESP2 client for the benchmark's Redis peer: pipelined commands
// over one socket, replies parsed in order. Enough for GEOADD / GEOSEARCH.
import net from 'node:net';

type Reply = string | number | null | Reply[] | Error;

export class Resp {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: ((r: Reply) => void)[] = [];

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (;;) {
        const r = parse(this.buf, 0);
        if (!r) break;
        this.buf = this.buf.subarray(r.end);
        this.waiting.shift()?.(r.value);
      }
    });
  }

  static connect(port: number): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Resp(s)));
      s.once('error', reject);
    });
  }

  call(...args: (string | number)[]): Promise<Reply> {
    let out = `*${args.length}\r\n`;
    for (const a of args) {
      const s = String(a);
      out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    }
    this.sock.write(out);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.sock.destroy();
  }
}

function parse(b: Buffer, i: number): { value: Reply; end: number } | undefined {
  const nl = b.indexOf('\r\n', i);
  if (nl < 0) return undefined;
  const line = b.toString('utf8', i + 1, nl);
  switch (String.fromCharCode(b[i]!)) {
    case '+':
      return { value: line, end: nl + 2 };
    case '-':
      return { value: new Error(line), end: nl + 2 };
    case ':':
      return { value: Number(line), end: nl + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: nl + 2 };
      if (b.length < nl + 2 + n + 2) return undefined;
      return { value: b.toString('utf8', nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      const arr: Reply[] = [];
      let at = nl + 2;
      for (let k = 0; k < n; k++) {
        const r = parse(b, at);
        if (!r) return undefined;
        arr.push(r.value);
        at = r.end;
      }
      return { value: arr, end: at };
    }
    default:
      throw new Error(`bad RESP byte ${b[i]}`);
  }
}
