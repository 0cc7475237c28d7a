// Files through the file service (HTTP, behind nginx), never over the device
// connection: `POST /files` for small uploads, tus 1.0 under /files/uploads for
// resumable ones (a cut connection continues from the server's offset), and
// `GET /files/<id>` with Range to resume downloads. Uses fetch: browsers and Node.

export interface FileInfo {
  id: string;
  size: number;
  sha256: string;
  contentType: string;
  name: string;
  /** `/files/<id>`: what a MimeText image/audio item carries. */
  uri: string;
}

/** Bytes to upload, read piecewise (a Blob, a Uint8Array, or a file opened by the caller). */
export interface ChunkSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface UploadOptions {
  name?: string;
  contentType?: string;
  /** Offline transfer: the recipient's user id (the file is kept until fetched or retention ends). */
  to?: string;
  /** Use tus (resumable) — default for sources over 4 MiB. */
  resumable?: boolean;
  chunkBytes?: number;
  /** Attempts per chunk before giving up (default 8). */
  retries?: number;
  onProgress?(sent: number, total: number): void;
  /** Resume an upload started earlier (its tus URL). */
  uploadUrl?: string;
  /** Told the tus URL as soon as it exists (persist it to resume after a restart). */
  onUploadUrl?(url: string): void;
  /** Told where the server has the upload before the first chunk is sent (> 0 when resuming). */
  onStart?(offset: number): void;
}

export interface DownloadSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export class FileError extends Error {
  override name = 'FileError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function bytesSource(data: Uint8Array): ChunkSource {
  return { size: data.length, read: (o, n) => Promise.resolve(data.subarray(o, o + n)) };
}

export function blobSource(blob: Blob): ChunkSource {
  return { size: blob.size, read: async (o, n) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer()) };
}

const TUS = '1.0.0';
const b64 = (s: string): string => {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FileClient {
  constructor(
    /** e.g. https://host/files */
    readonly baseUrl: string,
    private readonly token: () => string,
  ) {}

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token()}` };
  }

  /** Absolute URL of a file id or `/files/<id>` URI. */
  urlOf(idOrUri: string): string {
    if (/^https?:\/\//i.test(idOrUri)) return idOrUri;
    const id = idOrUri.replace(/^\/files\//, '');
    return `${this.baseUrl}/${encodeURIComponent(id)}`;
  }

  async upload(src: ChunkSource | Uint8Array | Blob, opts: UploadOptions = {}): Promise<FileInfo> {
    const source =
      src instanceof Uint8Array
        ? bytesSource(src)
        : typeof Blob !== 'undefined' && src instanceof Blob
          ? blobSource(src)
          : (src as ChunkSource);
    const resumable = opts.resumable ?? (source.size > 4 * 1024 * 1024 || opts.uploadUrl !== undefined);
    return resumable ? this.uploadResumable(source, opts) : this.uploadSimple(source, opts);
  }

  private async uploadSimple(src: ChunkSource, opts: UploadOptions): Promise<FileInfo> {
    const q = new URLSearchParams();
    if (opts.name) q.set('name', opts.name);
    if (opts.to) q.set('to', opts.to);
    const body = await src.read(0, src.size);
    const res = await fetch(`${this.baseUrl}${q.size ? `?${q}` : ''}`, {
      method: 'POST',
      headers: { ...this.auth(), 'content-type': opts.contentType ?? 'application/octet-stream' },
      body: body as Uint8Array<ArrayBuffer>,
    });
    if (res.status !== 201) throw new FileError(res.status, `upload refused: ${res.status} ${await res.text()}`);
    opts.onProgress?.(src.size, src.size);
    return (await res.json()) as FileInfo;
  }

  private async uploadResumable(src: ChunkSource, opts: UploadOptions): Promise<FileInfo> {
    let url = opts.uploadUrl;
    if (!url) {
      const meta: string[] = [];
      if (opts.name) meta.push(`filename ${b64(opts.name)}`);
      if (opts.contentType) meta.push(`filetype ${b64(opts.contentType)}`);
      if (opts.to) meta.push(`to ${b64(opts.to)}`);
      const res = await fetch(`${this.baseUrl}/uploads`, {
        method: 'POST',
        headers: {
          ...this.auth(),
          'tus-resumable': TUS,
          'upload-length': String(src.size),
          ...(meta.length ? { 'upload-metadata': meta.join(',') } : {}),
        },
      });
      if (res.status !== 201)
        throw new FileError(res.status, `upload creation refused: ${res.status} ${await res.text()}`);
      const loc = res.headers.get('location');
      if (!loc) throw new FileError(res.status, 'upload created without a Location');
      url = new URL(loc, this.baseUrl).toString();
      opts.onUploadUrl?.(url);
    }
    const chunk = opts.chunkBytes ?? 1024 * 1024;
    const retries = opts.retries ?? 8;
    let offset = await this.offsetOf(url);
    opts.onStart?.(offset);
    let failures = 0;
    while (offset < src.size) {
      try {
        const body = await src.read(offset, Math.min(chunk, src.size - offset));
        const res = await fetch(url, {
          method: 'PATCH',
          headers: {
            ...this.auth(),
            'tus-resumable': TUS,
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
          },
          body: body as Uint8Array<ArrayBuffer>,
        });
        if (res.status === 409 || res.status === 423) {
          offset = await this.offsetOf(url); // someone (an earlier attempt) moved it: ask where we are
          continue;
        }
        if (res.status !== 204)
          throw new FileError(res.status, `upload chunk refused: ${res.status} ${await res.text()}`);
        offset = Number(res.headers.get('upload-offset') ?? offset + body.length);
        failures = 0;
        opts.onProgress?.(offset, src.size);
      } catch (err) {
        if (err instanceof FileError && err.status < 500 && err.status !== 408) throw err;
        if (++failures > retries) throw err;
        await sleep(Math.min(10_000, 200 * 2 ** failures));
        offset = await this.offsetOf(url).catch(() => offset);
      }
    }
    const id = decodeURIComponent(new URL(url).pathname.split('/').pop()!);
    return this.stat(id);
  }

  private async offsetOf(url: string): Promise<number> {
    const res = await fetch(url, { method: 'HEAD', headers: { ...this.auth(), 'tus-resumable': TUS } });
    if (res.status !== 200 && res.status !== 204) throw new FileError(res.status, `upload status: ${res.status}`);
    return Number(res.headers.get('upload-offset') ?? 0);
  }

  /** What the file service says about a file (HEAD). */
  async stat(idOrUri: string): Promise<FileInfo> {
    const res = await fetch(this.urlOf(idOrUri), { method: 'HEAD', headers: this.auth() });
    if (res.status !== 200) throw new FileError(res.status, `stat failed: ${res.status}`);
    const id = idOrUri.replace(/^.*\/files\//, '').replace(/^\/+/, '');
    const disp = res.headers.get('content-disposition') ?? '';
    const name = /filename\*=UTF-8''([^;]+)/i.exec(disp)?.[1] ?? /filename="([^"]*)"/i.exec(disp)?.[1] ?? '';
    return {
      id,
      size: Number(res.headers.get('content-length') ?? 0),
      sha256: (res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, ''),
      contentType: res.headers.get('content-type') ?? '',
      name: decodeURIComponent(name),
      uri: `/files/${id}`,
    };
  }

  /** Downloads a whole (small) file into memory. */
  async download(idOrUri: string): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    await this.downloadTo(idOrUri, { write: (c) => void parts.push(c) });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Streams a file into `sink`, starting at `offset` (to resume a download the
   * caller kept part of); a cut connection continues with a Range request,
   * guarded by If-Range so a changed file is never spliced.
   */
  async downloadTo(
    idOrUri: string,
    sink: DownloadSink,
    opts: { offset?: number; retries?: number } = {},
  ): Promise<number> {
    const url = this.urlOf(idOrUri);
    let offset = opts.offset ?? 0;
    let etag: string | null = null;
    let total = -1;
    let failures = 0;
    for (;;) {
      const headers: Record<string, string> = { ...this.auth() };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (etag) headers['if-range'] = etag;
      }
      try {
        const res = await fetch(url, { headers });
        if (res.status === 416) {
          // Nothing at `offset`: done when the caller already has the whole file (a
          // repeated or finished download), an error when its part is longer than the file.
          await res.body?.cancel();
          const m = /^bytes \*\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
          const size = m ? Number(m[1]) : total;
          if (size >= 0 && offset === size) return offset;
          throw new FileError(
            416,
            `cannot resume at byte ${offset}: the file has ${size < 0 ? 'an unknown number of' : size} bytes`,
          );
        }
        if (res.status !== 200 && res.status !== 206)
          throw new FileError(res.status, `download failed: ${res.status} ${await res.text()}`);
        if (offset > 0 && res.status === 200) throw new FileError(409, 'the file changed while downloading');
        etag = res.headers.get('etag');
        const cr = res.headers.get('content-range');
        total = cr ? Number(cr.split('/')[1]) : Number(res.headers.get('content-length') ?? -1);
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await sink.write(value);
          offset += value.length;
        }
        if (total < 0 || offset >= total) return offset;
      } catch (err) {
        if (err instanceof FileError && err.status < 500) throw err;
        if (++failures > (opts.retries ?? 8)) throw err;
        await sleep(Math.min(10_000, 200 * 2 ** failures));
      }
    }
  }
}
