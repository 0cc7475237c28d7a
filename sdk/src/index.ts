// The device SDK's public surface (Node and browsers). In a browser bundle mark
// `ws` as external: it is imported only under Node.
export {
  TceClient,
  resolveFilesUrl,
  type ClientOptions,
  type ClientState,
  type ReceivedMessage,
  type SendOptions,
  type TerminalHandlers,
} from './client.js';
export {
  FileClient,
  FileError,
  bytesSource,
  blobSource,
  type ChunkSource,
  type DownloadSink,
  type FileInfo,
  type UploadOptions,
} from './files.js';
export { DeliveryFilter, type DeliveryFilterOptions } from './delivery-filter.js';
export { TceError, isRetryable, type ErrorCode } from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { RpcPeer, DEFAULT_TIMEOUT_MS, type CallOptions, type PeerSocket } from './peer.js';
export { codec, encodeFrame, decodeFrame, FrameKind, CloseCode, IFACES, type WireFrame } from './protocol.js';
export { ModelCodec, CodecError, type IdlModel } from './codec.js';
export {
  parseMimeText,
  stringifyMimeText,
  toCompact,
  toNamed,
  validateNamed,
  validateCompact,
  plainText,
  MimeTextError,
  type MimeText,
  type MimeItem,
  type CompactMimeText,
  type MimeForm,
} from '../../services/gateway/src/mimetext.js';
export type {
  Message,
  SendResult,
  HistoryPage,
  Presence,
  Receipt,
  SessionInfo,
  Group,
} from '../../proto/gen/ts/messaging.js';
export type { Token, UserInfo, User } from '../../proto/gen/ts/auth.js';
export type { QueryResult, Hit, Rect, TrackPage, GpsPoint } from '../../proto/gen/ts/location.js';
