// mq.MqStream: the two bidirectional streams TCE IDL cannot express (see
// docs/adr/0002-mq-streams-outside-the-idl.md), hand-written on grpc-js with
// frames declared as IDL structs in mq.idl.
//   Subscribe: SubscribeRequest* → SubscribeEvent*   (open, credit, ack ranges, revocations)
//   Publish:   PublishRequest*   → PublishReply*     (many messages per frame, one reply per frame)
// Frames are passed as raw bytes and decoded here, so a malformed frame is
// answered with INVALID_ARGUMENT instead of grpc-js's generic INTERNAL.
import * as grpc from '@grpc/grpc-js';
import { PublishOpen, PublishReply, SubscribeRequest, type PublishResult } from '../../../proto/gen/ts/mq.js';
import { PlatformError, toGrpcStatus } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { Broker } from './broker.js';
import type { Consumer } from './consumer.js';
import type { PublishOutcome, Queue, RawMessage } from './queue.js';
import { Malformed, rawFromBytes, Scanner } from './raw-message.js';
import { MAX_BATCH } from './servants.js';
import { varintSize, WireWriter } from './wire-writer.js';
export { mqStreamDefinition, MQ_STREAM_SERVICE } from './stream-definition.js';

/**
 * The broker stops reading a publish stream while this many frames, or this many
 * bytes, wait for their reply (durable frames wait for their group commit). Small
 * frames (a publisher at a steady rate sends one per event-loop turn) must not hit
 * the frame limit while one commit is in progress: hence a high count and a byte bound.
 */
const PUBLISH_WINDOW = 1024;
const PUBLISH_WINDOW_BYTES = 32 * 1024 * 1024;

type Call = grpc.ServerDuplexStream<Buffer, Buffer>;

function endWith(call: Call, err: unknown): void {
  const st = toGrpcStatus(err);
  call.emit('error', { code: st.code, details: st.details, metadata: new grpc.Metadata() });
}

export class StreamService {
  private readonly calls = new Set<Call>();

  constructor(
    private readonly broker: Broker,
    private readonly logger: Logger,
  ) {}

  handlers(): grpc.UntypedServiceImplementation {
    return {
      Subscribe: (call: Call) => this.subscribe(call),
      Publish: (call: Call) => this.publish(call),
    };
  }

  /** Ends every open stream (shutdown): clients reconnect, to the new leader if there is one. */
  closeAll(): void {
    for (const c of this.calls) endWith(c, new PlatformError('UNAVAILABLE', 'the broker is shutting down'));
    this.calls.clear();
  }

  private track(call: Call, cleanup: () => void): void {
    this.calls.add(call);
    let done = false;
    const fin = (): void => {
      if (done) return;
      done = true;
      this.calls.delete(call);
      cleanup();
    };
    call.on('cancelled', fin);
    call.on('close', fin);
    call.on('error', fin);
    call.on('finish', fin);
  }

  private subscribe(call: Call): void {
    let state: { consumer: Consumer; queue: Queue } | undefined;
    let opening: Buffer[] | undefined;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      if (state) this.broker.unsubscribe(state.consumer, state.queue);
      if (!(err instanceof PlatformError)) this.logger.error('Subscription failed', { err });
      endWith(call, err);
    };
    this.track(call, () => {
      if (state) this.broker.unsubscribe(state.consumer, state.queue);
    });
    const handle = (buf: Buffer): void => {
      let req: SubscribeRequest;
      try {
        req = SubscribeRequest.decode(buf);
      } catch (err) {
        return fail(
          new PlatformError('INVALID_ARGUMENT', `malformed SubscribeRequest frame: ${(err as Error).message}`),
        );
      }
      try {
        if (state) this.broker.onFrame(state.consumer, state.queue, req);
      } catch (err) {
        fail(err);
      }
    };
    call.on('data', (buf: Buffer) => {
      if (failed) return;
      if (state) return handle(buf);
      if (opening) {
        opening.push(buf);
        return;
      }
      let first: SubscribeRequest;
      try {
        first = SubscribeRequest.decode(buf);
      } catch (err) {
        return fail(
          new PlatformError('INVALID_ARGUMENT', `malformed SubscribeRequest frame: ${(err as Error).message}`),
        );
      }
      if (!first.open) return fail(new PlatformError('INVALID_ARGUMENT', 'the first frame must carry open'));
      opening = [];
      const sink = {
        write: (f: Uint8Array) => call.write(Buffer.from(f.buffer, f.byteOffset, f.byteLength)),
        onDrain: (cb: () => void) => call.once('drain', cb),
        end: (err?: PlatformError) => (err ? endWith(call, err) : call.end()),
      };
      this.broker.subscribe(first.open, sink).then(
        (s) => {
          if (failed || call.cancelled) {
            this.broker.unsubscribe(s.consumer, s.queue);
            return;
          }
          state = s;
          const rest = opening!;
          opening = undefined;
          // Frames after the open may carry acks and flow too.
          if (first.flow || first.acks.length || first.nacks.length || first.rejects.length || first.revoked.length) {
            try {
              this.broker.onFrame(s.consumer, s.queue, { ...first, open: undefined });
            } catch (err) {
              return fail(err);
            }
          }
          for (const b of rest) handle(b);
        },
        (err: unknown) => fail(err),
      );
    });
    call.on('end', () => {
      if (!failed) {
        failed = true;
        if (state) this.broker.unsubscribe(state.consumer, state.queue);
        call.end();
      }
    });
  }

  private publish(call: Call): void {
    let queue: Queue | undefined;
    let opening: Buffer[] | undefined;
    let failed = false;
    let inflight = 0;
    let inflightBytes = 0;
    let paused = false;
    this.track(call, () => undefined);
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      if (!(err instanceof PlatformError)) this.logger.error('Publish stream failed', { err });
      endWith(call, err);
    };
    const handle = (buf: Buffer): void => {
      let frame: { open: PublishOpen | undefined; seq: number; msgs: RawMessage[] };
      try {
        frame = parsePublishFrame(buf, Date.now());
      } catch (err) {
        return fail(err);
      }
      if (frame.open)
        return fail(new PlatformError('INVALID_ARGUMENT', 'open may only be sent once, in the first frame'));
      const size = buf.length;
      this.publishFrame(call, queue!, frame.seq, frame.msgs, () => {
        inflight--;
        inflightBytes -= size;
        if (paused && inflight < PUBLISH_WINDOW / 2 && inflightBytes < PUBLISH_WINDOW_BYTES / 2) {
          paused = false;
          call.resume();
        }
      }).catch(fail);
      inflight++;
      inflightBytes += size;
      if ((inflight >= PUBLISH_WINDOW || inflightBytes >= PUBLISH_WINDOW_BYTES) && !paused) {
        paused = true;
        call.pause();
      }
    };
    call.on('data', (buf: Buffer) => {
      if (failed) return;
      if (queue) return handle(buf);
      if (opening) {
        opening.push(buf);
        return;
      }
      let first: ReturnType<typeof parsePublishFrame>;
      try {
        first = parsePublishFrame(buf, Date.now());
      } catch (err) {
        return fail(err);
      }
      if (!first.open) return fail(new PlatformError('INVALID_ARGUMENT', 'the first frame must carry open'));
      opening = [];
      this.broker.authorize(first.open.queue, first.open.password).then(
        (q) => {
          queue = q;
          const rest = opening!;
          opening = undefined;
          if (first.msgs.length > 0 || first.seq !== 0) {
            inflight++;
            this.publishFrame(call, q, first.seq, first.msgs, () => inflight--).catch(fail);
          }
          for (const b of rest) handle(b);
        },
        (err: unknown) => fail(err),
      );
    });
    call.on('end', () => {
      if (failed) return;
      // Half-close: answer what is in flight, then end.
      const finish = (): void => {
        if (inflight === 0) call.end();
        else setTimeout(finish, 5);
      };
      finish();
    });
  }

  private async publishFrame(call: Call, q: Queue, seq: number, msgs: RawMessage[], done: () => void): Promise<void> {
    try {
      const outcomes = await this.broker.publishTo(q, msgs);
      if (!call.cancelled) call.write(encodePublishReply(seq, outcomes));
    } catch (err) {
      // The whole frame failed (not the leader any more, queue deleted): report it for every message.
      if (!(err instanceof PlatformError)) throw err;
      const reply: PublishReply = {
        seq,
        results: [],
        errors: msgs.map((_, index) => ({ index, code: err.code, detail: err.message })),
      };
      if (!call.cancelled) call.write(Buffer.from(PublishReply.encode(reply).finish()));
    } finally {
      done();
    }
  }
}

/**
 * PublishReply for a frame's outcomes. The usual reply (every message accepted,
 * no ids) is written by hand: one buffer instead of a result object per message.
 */
export function encodePublishReply(seq: number, outcomes: PublishOutcome[]): Buffer {
  let plain = true;
  for (const o of outcomes) if (!('ok' in o) || o.ok.id !== '') plain = false;
  if (!plain) {
    const reply: PublishReply = { seq, results: [], errors: [] };
    outcomes.forEach((o, index) => {
      if ('ok' in o) reply.results.push(o.ok);
      else {
        reply.results.push({ id: '', partition: 0, offset: 0, duplicate: false });
        reply.errors.push({ index, code: o.err.code, detail: o.err.message });
      }
    });
    return Buffer.from(PublishReply.encode(reply).finish());
  }
  const w = new WireWriter(16 + outcomes.length * 12);
  if (seq !== 0) w.varint(8).varint(seq); // PublishReply.seq = 1
  for (const o of outcomes) {
    const r = (o as { ok: PublishResult }).ok;
    // PublishResult (results = 2): partition = 2, offset = 3, duplicate = 4; zero values omitted.
    const len =
      (r.partition !== 0 ? 1 + varintSize(r.partition) : 0) +
      (r.offset !== 0 ? 1 + varintSize(r.offset) : 0) +
      (r.duplicate ? 2 : 0);
    w.ensure(len + 2)
      .varint(18)
      .varint(len);
    if (r.partition !== 0) w.varint(16).varint(r.partition);
    if (r.offset !== 0) w.varint(24).varint(r.offset);
    if (r.duplicate) w.varint(32).varint(1);
  }
  return w.finish();
}

/**
 * PublishRequest without decoding the messages: open (1), seq (2), msgs (3) as
 * raw bytes. Throws INVALID_ARGUMENT for anything malformed or too large.
 */
export function parsePublishFrame(
  buf: Uint8Array,
  now: number,
): { open: PublishOpen | undefined; seq: number; msgs: RawMessage[] } {
  let open: PublishOpen | undefined;
  let seq = 0;
  const msgs: RawMessage[] = [];
  try {
    const s = new Scanner(buf);
    while (s.pos < buf.length) {
      const tag = s.varint();
      const no = Math.floor(tag / 8);
      const wt = tag & 7;
      if (no === 3 && wt === 2) {
        if (msgs.length >= MAX_BATCH) {
          throw new PlatformError('INVALID_ARGUMENT', `a publish frame carries at most ${MAX_BATCH} messages`);
        }
        const a = s.lengthDelimited();
        msgs.push(rawFromBytes(buf, now, a, s.pos));
      } else if (no === 2 && wt === 0) seq = s.varint();
      else if (no === 1 && wt === 2) {
        const a = s.lengthDelimited();
        open = PublishOpen.decode(buf.subarray(a, s.pos));
      } else if (no === 0) throw new Malformed('field number 0');
      else s.skip(wt);
    }
  } catch (err) {
    if (err instanceof PlatformError) throw err;
    throw new PlatformError('INVALID_ARGUMENT', `malformed PublishRequest frame: ${(err as Error).message}`);
  }
  return { open, seq, msgs };
}
