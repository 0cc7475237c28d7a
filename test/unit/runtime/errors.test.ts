import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  ERROR_CODES,
  GRPC_STATUS,
  HTTP_STATUS,
  PlatformError,
  fromGrpcError,
  toGrpcStatus,
} from '../../../services/runtime/src/errors.js';

describe('platform errors', function () {
  it('maps every code to a gRPC status and back', function () {
    for (const code of ERROR_CODES) {
      const st = toGrpcStatus(new PlatformError(code, `m-${code}`));
      assert.equal(st.code, GRPC_STATUS[code]);
      assert.equal(st.details, `m-${code}`);
      const back = fromGrpcError({ code: st.code, details: st.details, message: 'x' });
      assert.equal(back.code, code);
      assert.equal(back.message, `m-${code}`);
      assert.ok(HTTP_STATUS[code] >= 400 && HTTP_STATUS[code] < 600);
    }
  });

  it('never leaks the message of an unexpected error', function () {
    assert.deepEqual(toGrpcStatus(new Error('password=hunter2')), {
      code: grpc.status.INTERNAL,
      details: 'internal error',
    });
    assert.deepEqual(toGrpcStatus('string thrown'), { code: grpc.status.INTERNAL, details: 'internal error' });
  });
});
