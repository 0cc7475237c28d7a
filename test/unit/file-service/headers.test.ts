// Names, media types, Content-Disposition, signed URLs, tus and digest headers.
import assert from 'node:assert/strict';
import { contentDisposition, encodeRfc8187 } from '../../../services/file-service/src/content-disposition.js';
import { parseContentDigest } from '../../../services/file-service/src/content-digest.js';
import { checkFileName } from '../../../services/file-service/src/file-names.js';
import { isInlineSafe, normalizeMediaType } from '../../../services/file-service/src/media-types.js';
import { checkSignature, signedQuery } from '../../../services/file-service/src/signed-url.js';
import {
  checkTusResumable,
  parseCount,
  parseUploadChecksum,
  parseUploadMetadata,
} from '../../../services/file-service/src/tus-headers.js';
import { HttpError } from '../../../services/file-service/src/http-error.js';

function refused(fn: () => unknown, status: number, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.status, status);
    assert.equal(err.message, message);
    return true;
  });
}

describe('file-service: file names', function () {
  const ok: [string | undefined, string][] = [
    [undefined, 'file'],
    ['', 'file'],
    ['photo.jpg', 'photo.jpg'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\cv.pdf', 'cv.pdf'],
    ['straße ü.txt', 'straße ü.txt'],
    ['e\u0301.txt', '\u00e9.txt'],
  ];
  for (const [raw, want] of ok)
    it(`${JSON.stringify(raw)} → ${JSON.stringify(want)}`, () => assert.equal(checkFileName(raw), want));

  const bad: [string, string][] = [
    ['a\r\nSet-Cookie: x=1', 'file name contains control characters'],
    ['a\u0000b', 'file name contains control characters'],
    ['evil\u202Egpj.exe', 'file name contains bidirectional control characters'],
    ['..', 'file name is not a plain file name'],
    ['dir/..', 'file name is not a plain file name'],
    ['dir/', 'file name is not a plain file name'],
    ['   ', 'file name is not a plain file name'],
    ['x'.repeat(256), 'file name is longer than 255 bytes'],
    ['é'.repeat(128), 'file name is longer than 255 bytes'],
  ];
  for (const [raw, msg] of bad)
    it(`refuses ${JSON.stringify(raw.slice(0, 30))}`, () => refused(() => checkFileName(raw), 400, msg));
});

describe('file-service: media types', function () {
  it('normalises', function () {
    assert.equal(normalizeMediaType(undefined), 'application/octet-stream');
    assert.equal(normalizeMediaType('Image/PNG'), 'image/png');
    assert.equal(normalizeMediaType('text/plain; Charset="UTF-8"; x=y'), 'text/plain; charset=utf-8');
    assert.equal(normalizeMediaType('text/plain; foo=bar'), 'text/plain');
  });
  it('refuses what is not a media type', function () {
    refused(() => normalizeMediaType('text'), 400, 'content type is not a valid media type');
    refused(() => normalizeMediaType('text/html\r\nx: y'), 400, 'content type is not a valid media type');
    refused(() => normalizeMediaType(`a/${'b'.repeat(300)}`), 400, 'content type is too long');
  });
  it('shows only script-free types inline', function () {
    for (const t of ['image/png', 'audio/mpeg', 'video/mp4', 'text/plain; charset=utf-8'])
      assert.ok(isInlineSafe(t), t);
    for (const t of ['text/html', 'image/svg+xml', 'application/pdf', 'application/xml', 'application/octet-stream']) {
      assert.ok(!isInlineSafe(t), t);
    }
  });
});

describe('file-service: Content-Disposition (RFC 6266, 8187)', function () {
  const cases: [string, string, string][] = [
    ['a.png', 'image/png', 'inline; filename="a.png"'],
    ['page.html', 'text/html', 'attachment; filename="page.html"'],
    [
      'naïve 100%.txt',
      'application/octet-stream',
      `attachment; filename="na_ve 100_.txt"; filename*=UTF-8''na%C3%AFve%20100%25.txt`,
    ],
    ['say "hi".txt', 'text/plain', `inline; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`],
    ['日本.mp3', 'audio/mpeg', `inline; filename="__.mp3"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.mp3`],
  ];
  for (const [name, type, want] of cases)
    it(`${name} as ${type}`, () => assert.equal(contentDisposition(name, type), want));
  it('percent-encodes all but attr-char', function () {
    assert.equal(encodeRfc8187("a b'c*(x)"), 'a%20b%27c%2A%28x%29');
  });
});

describe('file-service: signed URLs', function () {
  const key = Buffer.alloc(32, 7);
  const id = 'AAAAAAAAAAAAAAAAAAAAAA';
  const now = 1_700_000_000_000;
  const q = new URLSearchParams(signedQuery(key, id, now / 1000 + 60));
  it('verifies until exp, then is expired', function () {
    assert.equal(checkSignature(key, id, q.get('exp'), q.get('sig'), now), 'valid');
    assert.equal(checkSignature(key, id, q.get('exp'), q.get('sig'), now + 60_000), 'expired');
  });
  it('refuses tampering with the id, exp, signature or key', function () {
    assert.equal(checkSignature(key, 'BAAAAAAAAAAAAAAAAAAAAA', q.get('exp'), q.get('sig'), now), 'invalid');
    assert.equal(checkSignature(key, id, String(now / 1000 + 3600), q.get('sig'), now), 'invalid');
    const sig = q.get('sig')!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    assert.equal(checkSignature(key, id, q.get('exp'), flipped, now), 'invalid');
    assert.equal(checkSignature(Buffer.alloc(32, 8), id, q.get('exp'), sig, now), 'invalid');
    assert.equal(checkSignature(key, id, null, sig, now), 'invalid');
    assert.equal(checkSignature(key, id, '-1', sig, now), 'invalid');
  });
  it('says invalid, not expired, for a tampered expired URL', function () {
    assert.equal(checkSignature(key, id, String(now / 1000 - 10), q.get('sig'), now), 'invalid');
  });
});

describe('file-service: tus headers', function () {
  it('Tus-Resumable must be 1.0.0 (412 with Tus-Version)', function () {
    checkTusResumable('1.0.0');
    assert.throws(
      () => checkTusResumable('0.2.2'),
      (e: HttpError) => e.status === 412 && e.headers['tus-version'] === '1.0.0',
    );
    refused(() => checkTusResumable(undefined), 412, 'Tus-Resumable must be 1.0.0');
  });
  it('counts', function () {
    assert.equal(parseCount('0', 'Upload-Offset'), 0);
    assert.equal(parseCount('12345', 'Upload-Length'), 12345);
    refused(() => parseCount(undefined, 'Upload-Length'), 400, 'Upload-Length is required');
    refused(() => parseCount('-1', 'Upload-Offset'), 400, 'Upload-Offset must be a non-negative integer');
    refused(() => parseCount('1e3', 'Upload-Offset'), 400, 'Upload-Offset must be a non-negative integer');
    refused(
      () => parseCount('99999999999999999', 'Upload-Offset'),
      400,
      'Upload-Offset must be a non-negative integer',
    );
  });
  it('Upload-Metadata', function () {
    const b = (s: string): string => Buffer.from(s).toString('base64');
    assert.deepEqual(parseUploadMetadata(`filename ${b('ü.txt')},filetype ${b('text/plain')},is_confidential`), {
      filename: 'ü.txt',
      filetype: 'text/plain',
      is_confidential: '',
    });
    assert.deepEqual(parseUploadMetadata(undefined), {});
    refused(() => parseUploadMetadata(`a ${b('x')},a ${b('y')}`), 400, "Upload-Metadata has a duplicate key 'a'");
    refused(() => parseUploadMetadata('a !!!'), 400, "Upload-Metadata value of 'a' is not base64");
    refused(() => parseUploadMetadata('a b c'), 400, 'Upload-Metadata is malformed');
  });
  it('Upload-Checksum', function () {
    assert.deepEqual(parseUploadChecksum('sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0='), {
      algorithm: 'sha1',
      digest: Buffer.from('Kq5sNclPz7QV2+lfQIuc6R7oRu0=', 'base64'),
    });
    assert.equal(parseUploadChecksum(undefined), undefined);
    refused(() => parseUploadChecksum('crc32 AAAA'), 400, "Upload-Checksum algorithm 'crc32' is not supported");
    refused(() => parseUploadChecksum('sha1'), 400, 'Upload-Checksum is malformed');
  });
});

describe('file-service: Content-Digest (RFC 9530)', function () {
  const d = Buffer.alloc(32, 1);
  it('picks sha-256 among others', function () {
    assert.deepEqual(parseContentDigest(`sha-256=:${d.toString('base64')}:`), d);
    assert.deepEqual(parseContentDigest(`sha-512=:AAAA:, sha-256=:${d.toString('base64')}:`), d);
    assert.equal(parseContentDigest('sha-512=:AAAA:'), undefined);
    assert.equal(parseContentDigest(undefined), undefined);
  });
  it('refuses malformed values', function () {
    refused(() => parseContentDigest('sha-256=abc'), 400, 'Content-Digest is malformed');
    refused(() => parseContentDigest('sha-256=:AAAA:'), 400, 'Content-Digest sha-256 value must be 32 bytes');
  });
});
