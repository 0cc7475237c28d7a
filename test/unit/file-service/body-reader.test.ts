// BodyReader over a fake request stream: backpressure, end, abort, and the
// progress deadline that counts only time spent waiting for the client.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { BodyReader, ClientGone } from '../../../services/file-service/src/body-reader.js';
import { HttpError } from '../../../services/file-service/src/http-error.js';

function fakeReq(): PassThrough {
  return new PassThrough();
}

describe('file-service: BodyReader', function () {
  it('hands out the body in order, then null', async function () {
    const req = fakeReq();
    const r = new BodyReader(req as unknown as IncomingMessage, 1000);
    req.write('ab');
    req.end('cd');
    const got: string[] = [];
    for (let b = await r.next(); b !== null; b = await r.next()) got.push(b.toString());
    assert.equal(got.join(''), 'abcd');
    assert.equal(r.bytes, 4);
  });

  it('fails with ClientGone when the stream closes early', async function () {
    const req = fakeReq();
    const r = new BodyReader(req as unknown as IncomingMessage, 1000);
    const p = r.next();
    req.destroy();
    await assert.rejects(p, ClientGone);
  });

  it('answers 408 when less than 1 KiB arrives within the window of waiting', async function () {
    const req = fakeReq();
    const r = new BodyReader(req as unknown as IncomingMessage, 200);
    const drip = setInterval(() => req.write('x'), 20);
    try {
      await assert.rejects(
        (async () => {
          for (;;) await r.next();
        })(),
        (err: unknown) =>
          err instanceof HttpError && err.status === 408 && err.message === 'request body arrived too slowly',
      );
      assert.ok(r.timedOut);
    } finally {
      clearInterval(drip);
    }
  });
});
