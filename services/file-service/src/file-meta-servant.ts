// files::IFileMeta over gRPC, for the platform's own services (the gateway
// signs download URLs for pushed messages, checks or removes attachments).
// stat and signUrl trust the internal network (NetworkPolicy: platform pods
// only); remove needs a caller identity signed with TCE_INTERNAL_KEY and is
// allowed to the file's owner only.
import type { FileInfo } from '../../../proto/gen/ts/files.js';
import type { IFileMetaServant } from '../../../proto/gen/ts/files.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { PlatformError, invalidArgument, notFound, unauthenticated } from '../../runtime/src/errors.js';
import type { FileStore } from './file-store.js';
import { isValidId } from './ids.js';
import { MAX_SIGNED_TTL_S, signedQuery } from './signed-url.js';

export class FileMetaServant implements IFileMetaServant {
  constructor(
    private readonly store: FileStore,
    private readonly signingKey: Buffer,
  ) {}

  async stat(id: string): Promise<FileInfo> {
    const f = isValidId(id) ? await this.store.getFile(id) : null;
    if (!f) throw notFound(`no such file: ${id}`);
    return {
      id: f._id,
      name: f.filename,
      content_type: f.metadata.contentType,
      size: f.length,
      sha256: f.metadata.sha256,
      owner: f.metadata.owner,
      uploaded_at: f.uploadDate.getTime(),
      uri: `/files/${f._id}`,
      expires_at: f.metadata.expiresAt ?? 0,
    };
  }

  async signUrl(id: string, ttl_seconds: number): Promise<string> {
    if (!Number.isInteger(ttl_seconds) || ttl_seconds < 1 || ttl_seconds > MAX_SIGNED_TTL_S) {
      throw invalidArgument(`ttl_seconds must be between 1 and ${MAX_SIGNED_TTL_S}, got ${ttl_seconds}`);
    }
    if (!isValidId(id) || !(await this.store.getFile(id))) throw notFound(`no such file: ${id}`);
    const exp = Math.floor(Date.now() / 1000) + ttl_seconds;
    return `/files/${id}?${signedQuery(this.signingKey, id, exp)}`;
  }

  async remove(id: string, ctx: CallContext): Promise<void> {
    if (!ctx.identity) throw unauthenticated('remove needs a signed caller identity');
    const r = isValidId(id) ? await this.store.removeFile(id, ctx.identity.userId) : 'not-found';
    if (r === 'not-found') throw notFound(`no such file: ${id}`);
    if (r === 'forbidden') throw new PlatformError('PERMISSION_DENIED', 'only the owner may remove a file');
  }
}
