// TceClient: a device's connection to the platform, for Node and browsers.
//
//   const c = new TceClient({ url: 'wss://chat.example.com/ws', deviceId, deviceType: 'web' });
//   c.handlers.onMessage = async (m) => show(m);      // returning = the delivery ack
//   await c.connect();
//   await c.login('alice', 'correct horse battery');
//   await c.send(bobId, [{ type: 'text', text: 'hi' }]);
//
// It reconnects by itself (jittered exponential backoff, trying each URL in
// turn), authenticates again (renewing the access token with the refresh token
// when needed), and resumes delivery after the last message it handed to the
// app — which sees every message once, in order, even when the platform
// delivers a message twice (at-least-once on the wire).
//
// Group conversations: createGroup/sendGroup/groupHistory/… below; a group
// message arrives through the same onMessage with `group_id` set and `seq`
// counting in that group's own sequence (see DeliveryFilter).
import type { Token, UserInfo } from '../../proto/gen/ts/auth.js';
import type { GpsPoint, QueryResult, Rect, TrackPage } from '../../proto/gen/ts/location.js';
import type {
  Group,
  HistoryPage,
  Message,
  Presence,
  Receipt,
  SendResult,
  SessionInfo,
} from '../../proto/gen/ts/messaging.js';
import { parseMimeText, stringifyMimeText, type MimeForm, type MimeText } from '../../services/gateway/src/mimetext.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DeliveryFilter } from './delivery-filter.js';
import { Emitter } from './emitter.js';
import { TceError, isRetryable } from './errors.js';
import { FileClient } from './files.js';
import { RpcPeer, type CallOptions } from './peer.js';
import type { Args, Iface, Method, Result } from './device-api.js';
import { codec, CloseCode, IFACES } from './protocol.js';
import { openSocket, toBytes, type OpenOptions, type SocketLike } from './transport.js';

export interface ReceivedMessage extends Message {
  /** The body parsed (canonical named form). */
  items: MimeText;
  /**
   * Non-empty for a group message: then `seq` is the group's own sequence
   * number and `to_user` is the group id. Empty for the user's inbox.
   */
  group_id: string;
}

export interface TerminalHandlers {
  /** A message for this user. Resolve when it is safely handled: that is the delivery ack. */
  onMessage?(m: ReceivedMessage): void | Promise<void>;
  onReceipt?(r: Receipt): void;
  onPresence?(p: Presence): void;
  /** Another connection of this device replaced this one; the client does not reconnect. */
  onKicked?(reason: string): void;
  /** Messages before `firstAvailableSeq` were deleted by retention before this device got them. */
  onReset?(firstAvailableSeq: number): void | Promise<void>;
}

export interface ClientOptions extends OpenOptions {
  /** Gateway WebSocket URL(s), e.g. wss://host/ws; several are tried in turn on reconnect. */
  url: string | string[];
  /** A stable id of this installation: delivery cursors are per device. */
  deviceId?: string;
  deviceType?: string;
  /** An access token to authenticate with (else log in). */
  accessToken?: string;
  refreshToken?: string;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /** Application heartbeat; the connection counts as dead after 2 missed (default 20 s). */
  heartbeatMs?: number;
  /** Default call timeout (default 30 s). */
  callTimeoutMs?: number;
  /** How long send() keeps retrying through reconnects (default 60 s). */
  sendTimeoutMs?: number;
  /** Resume after this sequence number (the last one the app handled, if the app persists it). */
  lastSeq?: number;
  /**
   * Highest group seq the app handled, per group id (if the app persists
   * `groupCursors()`): redeliveries at or below it are acked, not shown.
   */
  groupSeqs?: Record<string, number>;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'closed';

interface ClientEvents extends Record<string, unknown> {
  state: ClientState;
  session: SessionInfo;
  message: ReceivedMessage;
  receipt: Receipt;
  presence: Presence;
  kicked: string;
  reset: number;
  disconnected: { code: number; reason: string };
  error: Error;
  token: Token;
}

export interface SendOptions {
  clientMsgId?: string;
  /** Wire form of the body when `body` is MimeText (default named). */
  form?: MimeForm;
  timeout?: number;
}

const randomId = (): string => {
  const b = new Uint8Array(12);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
};

export class TceClient extends Emitter<ClientEvents> {
  readonly handlers: TerminalHandlers = {};
  state: ClientState = 'idle';
  session: SessionInfo | undefined;
  token: Token | undefined;
  /** What the app has been shown (inbox cursor, per-group cursors, recent ids). */
  private readonly delivered: DeliveryFilter;
  private readonly opts: ClientOptions;
  private readonly urls: string[];
  private urlIndex = 0;
  private socket: SocketLike | undefined;
  private peer: RpcPeer | undefined;
  private attempt = 0;
  private closing = false;
  private kicked = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReceived = 0;
  private delivering: Promise<void> = Promise.resolve();
  private openWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private refreshing: Promise<void> | undefined;
  private sessionUser: string | undefined;

  constructor(opts: ClientOptions) {
    super();
    this.opts = { reconnect: true, heartbeatMs: 20_000, callTimeoutMs: 30_000, sendTimeoutMs: 60_000, ...opts };
    this.urls = Array.isArray(opts.url) ? [...opts.url] : [opts.url];
    if (this.urls.length === 0) throw new Error('TceClient: url is required');
    this.delivered = new DeliveryFilter({ lastSeq: opts.lastSeq, groupSeqs: opts.groupSeqs });
    if (opts.accessToken)
      this.token = { ...emptyToken(), access_token: opts.accessToken, refresh_token: opts.refreshToken ?? '' };
  }

  /** Highest inbox sequence number handed to the app (group messages do not count). */
  get lastSeq(): number {
    return this.delivered.lastSeq;
  }

  set lastSeq(seq: number) {
    this.delivered.lastSeq = seq;
  }

  /** Highest group sequence number handed to the app, per group (for the app to persist). */
  groupCursors(): Record<string, number> {
    return this.delivered.groupCursors();
  }

  get url(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  /** Opens the connection (and authenticates when a token is known). */
  async connect(): Promise<void> {
    this.closing = false;
    this.kicked = false;
    if (this.state === 'open') return;
    const waiting = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.state !== 'connecting') void this.open();
    return waiting;
  }

  /** Resolves once connected (and authenticated, if a token is known); waits through reconnects. */
  ready(timeoutMs = 30_000): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'idle') return this.connect();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new TceError('UNAVAILABLE', 'not connected')), timeoutMs);
      this.openWaiters.push({
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.refreshTimer);
    this.stopHeartbeat();
    this.socket?.close(CloseCode.NORMAL, 'client closed');
    this.setState('closed');
    this.peer?.close('client closed');
    for (const w of this.openWaiters.splice(0)) w.reject(new TceError('CANCELLED', 'client closed'));
  }

  // ---------------------------------------------------------------- calls

  /** Any IDL method by interface and name, arguments in parameter order. */
  call<T = unknown>(iface: string, method: string, args: readonly unknown[], opts: CallOptions = {}): Promise<T> {
    if (!this.peer || this.state === 'closed') return Promise.reject(new TceError('UNAVAILABLE', 'not connected'));
    return this.peer.call(iface, method, args, {
      timeout: opts.timeout ?? this.opts.callTimeoutMs,
      extra: opts.extra,
    }) as Promise<T>;
  }

  /** An IDL method of a device-facing interface, its parameters and result checked against the IDL. */
  invoke<I extends Iface, M extends Method<I>>(
    iface: I,
    method: M,
    args: Args<I, M>,
    opts: CallOptions = {},
  ): Promise<Result<I, M>> {
    return this.call<Result<I, M>>(iface, method, args, opts);
  }

  oneway(iface: string, method: string, args: readonly unknown[], opts: CallOptions = {}): void {
    if (!this.peer) throw new TceError('UNAVAILABLE', 'not connected');
    this.peer.oneway(iface, method, args, opts);
  }

  async register(info: Partial<UserInfo> & { username: string; password: string }): Promise<string> {
    await this.ready();
    const full: UserInfo = { display_name: '', email: '', ...info };
    return this.invoke(IFACES.auth, 'registerUser', [full]);
  }

  /** Logs in over the connection; the gateway binds the connection to the new session. */
  async login(user: string, password: string): Promise<Token> {
    await this.ready();
    const token = await this.invoke(IFACES.auth, 'userAuth', [user, password, this.opts.deviceType ?? 'sdk'], {
      extra: this.opts.deviceId ? { 'device-id': this.opts.deviceId } : {},
    });
    this.setToken(token);
    await this.afterAuthenticated();
    return token;
  }

  /** Presents an access token on the open connection. */
  async authenticate(accessToken: string, refreshToken = ''): Promise<SessionInfo> {
    this.token = {
      ...(this.token ?? emptyToken()),
      access_token: accessToken,
      refresh_token: refreshToken || this.token?.refresh_token || '',
    };
    if (this.state === 'open') await this.startSession();
    else await this.ready();
    return this.session!;
  }

  async logout(allDevices = false): Promise<void> {
    await this.invoke(IFACES.auth, 'logout', [this.token?.refresh_token ?? '', allDevices]);
    this.token = undefined;
  }

  /**
   * Sends a message; resolves once it is stored (accepted). Survives
   * reconnects: the same client_msg_id is retried, so it is stored once.
   */
  send(to: string, body: MimeText | string, opts: SendOptions = {}): Promise<SendResult> {
    return this.sendWithRetry('send', to, body, opts);
  }

  /** Like send(), to a group the caller is a member of; `seq` in the result is the group's. */
  sendGroup(groupId: string, body: MimeText | string, opts: SendOptions = {}): Promise<SendResult> {
    return this.sendWithRetry('sendGroup', groupId, body, opts);
  }

  /** send and sendGroup share one signature after the target: (target, mime_text, client_msg_id). */
  private async sendWithRetry(
    method: 'send' | 'sendGroup',
    target: string,
    body: MimeText | string,
    opts: SendOptions,
  ): Promise<SendResult> {
    const mime = typeof body === 'string' ? body : stringifyMimeText(body, opts.form ?? 'named');
    const cmid = opts.clientMsgId ?? randomId();
    const until = Date.now() + (opts.timeout ?? this.opts.sendTimeoutMs!);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ready(Math.max(1, until - Date.now()));
        return await this.call<SendResult>(IFACES.messages, method, [target, mime, cmid], {
          timeout: Math.min(this.opts.callTimeoutMs!, Math.max(1, until - Date.now())),
          extra: attempt > 0 ? { retry: '1' } : {},
        });
      } catch (err) {
        if (!isRetryable(err) || Date.now() >= until || this.closing) throw err;
        await sleep(
          Math.min(backoffDelay(attempt, this.opts.backoff ?? DEFAULT_BACKOFF), Math.max(0, until - Date.now())),
        );
      }
    }
  }

  /** Messages received by this user, newest first; pass next_before_seq for older pages. */
  history(peer = '', beforeSeq = 0, limit = 20): Promise<HistoryPage> {
    return this.invoke(IFACES.messages, 'history', [peer, beforeSeq, limit]);
  }

  /** Creates a group of the caller and `members` (user ids; at most 1000 per call). */
  createGroup(name: string, members: string[] = []): Promise<Group> {
    return this.invoke(IFACES.messages, 'createGroup', [name, members]);
  }

  /** A group's messages, newest first; pass next_before_seq for older pages (members only). */
  groupHistory(groupId: string, beforeSeq = 0, limit = 20): Promise<HistoryPage> {
    return this.invoke(IFACES.messages, 'groupHistory', [groupId, beforeSeq, limit]);
  }

  /** The groups the caller is a member of. */
  groups(): Promise<Group[]> {
    return this.invoke(IFACES.messages, 'groups', []);
  }

  /** The group with its members (members only). */
  group(groupId: string): Promise<Group> {
    return this.invoke(IFACES.messages, 'group', [groupId]);
  }

  /** Adds users to a group the caller is a member of; they get the messages stored from then on. */
  addMembers(groupId: string, members: string[]): Promise<Group> {
    return this.invoke(IFACES.messages, 'addMembers', [groupId, members]);
  }

  leaveGroup(groupId: string): Promise<void> {
    return this.invoke(IFACES.messages, 'leaveGroup', [groupId]);
  }

  presence(userIds: string[]): Promise<Presence[]> {
    return this.invoke(IFACES.messages, 'presence', [userIds]);
  }

  /** Acknowledges everything up to seq (normally not needed: handling a message acks it). */
  ack(seq: number): Promise<void> {
    return this.invoke(IFACES.messages, 'ack', [seq]);
  }

  /** Asks for redelivery of the inbox after afterSeq (groups resume by themselves). */
  async resume(afterSeq: number): Promise<void> {
    this.lastSeq = afterSeq;
    await this.invoke(IFACES.messages, 'resume', [afterSeq]);
  }

  /** Reports a position (oneway: no answer). */
  reportGps(p: Pick<GpsPoint, 'lon' | 'lat'> & Partial<Pick<GpsPoint, 'speed' | 'direction' | 'time'>>): void {
    this.oneway(IFACES.locationReport, 'reportGps', [
      p.lon,
      p.lat,
      p.speed ?? 0,
      p.direction ?? 0,
      p.time ?? Date.now(),
    ]);
  }

  /** Like reportGps, but waits for the gateway to accept it. */
  reportGpsConfirmed(
    p: Pick<GpsPoint, 'lon' | 'lat'> & Partial<Pick<GpsPoint, 'speed' | 'direction' | 'time'>>,
  ): Promise<void> {
    return this.invoke(IFACES.locationReport, 'reportGps', [
      p.lon,
      p.lat,
      p.speed ?? 0,
      p.direction ?? 0,
      p.time ?? Date.now(),
    ]);
  }

  nearby(lon: number, lat: number, radiusM: number, limit = 50): Promise<QueryResult> {
    return this.invoke(IFACES.locationQuery, 'nearby', [lon, lat, radiusM, limit]);
  }

  within(rect: Rect, limit = 100): Promise<QueryResult> {
    return this.invoke(IFACES.locationQuery, 'within', [rect, limit]);
  }

  latest(userIds: string[]): Promise<QueryResult> {
    return this.invoke(IFACES.locationQuery, 'latest', [userIds]);
  }

  track(userId: string, fromTime: number, toTime: number, limit = 100): Promise<TrackPage> {
    return this.invoke(IFACES.locationQuery, 'track', [userId, fromTime, toTime, limit]);
  }

  /** Uploads and downloads through the file service, with this session's token. */
  files(): FileClient {
    const base = resolveFilesUrl(this.session?.files_url || '/files', this.url);
    return new FileClient(base, () => this.token?.access_token ?? '');
  }

  // ---------------------------------------------------------------- connection

  private setState(s: ClientState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  private async open(): Promise<void> {
    this.setState('connecting');
    let socket: SocketLike;
    try {
      socket = await openSocket(withPushBatch(this.url), this.opts);
    } catch (err) {
      this.onDropped(0, (err as Error).message);
      return;
    }
    this.socket = socket;
    const peer = new RpcPeer(
      { send: (d) => socket.send(d) },
      codec,
      new Map([[IFACES.terminal, this.terminalServant()]]),
      (r) => this.emit('error', new Error(r)),
    );
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      this.peer = peer;
      this.lastReceived = Date.now();
      this.startHeartbeat();
      void this.onOpen(socket);
    });
    socket.addEventListener('message', (ev) => {
      this.lastReceived = Date.now();
      const b = toBytes(ev.data);
      if (b) peer.receive(b);
    });
    socket.addEventListener('close', (ev) => {
      peer.close(`connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
      if (this.socket === socket) this.onDropped(ev.code, ev.reason || (opened ? 'closed' : 'could not connect'));
    });
    socket.addEventListener('error', () => undefined);
  }

  private async onOpen(socket: SocketLike): Promise<void> {
    try {
      if (this.token?.access_token) await this.startSession();
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.setState('open');
      for (const w of this.openWaiters.splice(0)) w.resolve();
    } catch (err) {
      this.emit('error', err as Error);
      if (err instanceof TceError && err.code === 'UNAUTHENTICATED') {
        // No usable credentials: reconnecting would not help.
        this.token = undefined;
        this.closing = true;
        for (const w of this.openWaiters.splice(0)) w.reject(err);
        socket.close(CloseCode.NORMAL, 'not authenticated');
        this.setState('closed');
        return;
      }
      socket.close(CloseCode.GOING_AWAY, 'session start failed');
    }
  }

  /** Authenticates the new connection, renewing the token if it was refused, then resumes delivery. */
  private async startSession(): Promise<void> {
    const peer = this.peer!;
    try {
      this.session = (await peer.call(IFACES.session, 'authenticate', [this.token!.access_token], {
        timeout: this.opts.callTimeoutMs,
      })) as SessionInfo;
    } catch (err) {
      if (!(err instanceof TceError && err.code === 'UNAUTHENTICATED' && this.token?.refresh_token)) throw err;
      const token = (await peer.call(
        IFACES.auth,
        'refresh',
        [this.token.refresh_token, this.opts.deviceType ?? 'sdk'],
        {
          timeout: this.opts.callTimeoutMs,
        },
      )) as Token;
      this.setToken(token);
      this.session = (await peer.call(IFACES.session, 'whoami', [], {
        timeout: this.opts.callTimeoutMs,
      })) as SessionInfo;
    }
    this.onSession(this.session);
    await this.resumeIfAhead(peer);
    this.scheduleRefresh();
  }

  private async afterAuthenticated(): Promise<void> {
    const peer = this.peer!;
    this.onSession(
      (await peer.call(IFACES.session, 'whoami', [], { timeout: this.opts.callTimeoutMs })) as SessionInfo,
    );
    await this.resumeIfAhead(peer);
    this.scheduleRefresh();
  }

  private onSession(s: SessionInfo): void {
    // Sequence numbers are per user: another user on this client starts from scratch.
    if (this.sessionUser !== undefined && this.sessionUser !== s.user_id) this.delivered.clear();
    this.sessionUser = s.user_id;
    this.session = s;
    this.emit('session', s);
  }

  /**
   * The app has seen more than the gateway's cursor says: skip what it already
   * has. Inbox only: the gateway resumes every group from the device's own
   * per-group cursor, and duplicates there are dropped by DeliveryFilter.
   */
  private async resumeIfAhead(peer: RpcPeer): Promise<void> {
    if (this.session && this.lastSeq > this.session.acked_seq) {
      await peer.call(IFACES.messages, 'resume', [this.lastSeq], { timeout: this.opts.callTimeoutMs });
    }
  }

  private setToken(t: Token): void {
    this.token = t;
    this.emit('token', t);
  }

  /** Renews the access token over the connection before it expires (the gateway would close at expiry). */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const exp = this.session?.expires_at ?? 0;
    if (!exp || !this.token?.refresh_token) return;
    const delay = Math.max(1000, (exp - Date.now()) * 0.8);
    this.refreshTimer = setTimeout(() => {
      this.refreshing ??= this.refreshNow()
        .catch((err: unknown) => this.emit('error', err as Error))
        .finally(() => (this.refreshing = undefined));
    }, delay);
  }

  private async refreshNow(): Promise<void> {
    const token = await this.invoke(IFACES.auth, 'refresh', [this.token!.refresh_token, this.opts.deviceType ?? 'sdk']);
    this.setToken(token);
    this.session = await this.invoke(IFACES.session, 'whoami', []);
    this.scheduleRefresh();
  }

  private onDropped(code: number, reason: string): void {
    this.stopHeartbeat();
    clearTimeout(this.refreshTimer);
    this.socket = undefined;
    this.peer = undefined;
    if (this.state === 'closed' && this.closing) return;
    this.emit('disconnected', { code, reason });
    const final =
      this.closing ||
      this.kicked ||
      code === CloseCode.DISPLACED ||
      code === CloseCode.TOKEN_REVOKED ||
      !this.opts.reconnect;
    if (code === CloseCode.TOKEN_REVOKED) this.token = undefined;
    if (final) {
      this.setState('closed');
      for (const w of this.openWaiters.splice(0))
        w.reject(new TceError('UNAVAILABLE', `connection closed (${code}: ${reason})`));
      return;
    }
    this.setState('connecting');
    // Next URL: the replica we were on may be gone.
    this.urlIndex++;
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const every = this.opts.heartbeatMs!;
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastReceived > 2.5 * every) {
        // Nothing (not even a pong) for too long: the connection is dead even if TCP does not know.
        this.socket?.close(CloseCode.GOING_AWAY, 'heartbeat timeout');
        return;
      }
      this.peer?.ping();
    }, every);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** The device side of messaging::ITerminal. */
  private terminalServant(): object {
    return {
      onMessage: (msg: Message): Promise<void> => {
        // In order, one at a time: the app sees messages in sequence order.
        const run = this.delivering.then(() => this.deliver(msg));
        this.delivering = run.catch(() => undefined);
        return run;
      },
      // Several messages in one call (we connect with push_batch=1): each goes to the app as
      // onMessage would; returning after the last acks them all.
      onMessages: (msgs: Message[]): Promise<void> => {
        const run = this.delivering.then(async () => {
          for (const m of msgs) await this.deliver(m);
        });
        this.delivering = run.catch(() => undefined);
        return run;
      },
      onReceipt: (r: Receipt): void => {
        this.handlers.onReceipt?.(r);
        this.emit('receipt', r);
      },
      onPresence: (p: Presence): void => {
        this.handlers.onPresence?.(p);
        this.emit('presence', p);
      },
      onKicked: (reason: string): void => {
        this.kicked = true;
        this.handlers.onKicked?.(reason);
        this.emit('kicked', reason);
      },
      onReset: async (first: number): Promise<void> => {
        this.lastSeq = Math.max(this.lastSeq, first - 1);
        await this.handlers.onReset?.(first);
        this.emit('reset', first);
      },
    };
  }

  private async deliver(msg: Message): Promise<void> {
    // Already handed to the app (a redelivery, or a second stored copy of a retried send): ack only.
    if (this.delivered.isDuplicate(msg)) {
      this.delivered.handled(msg, false);
      return;
    }
    let items: MimeText;
    try {
      items = parseMimeText(msg.mime_text, 1 << 20).items;
    } catch {
      items = [{ type: 'text', text: msg.mime_text }];
    }
    const m: ReceivedMessage = { ...msg, items };
    await this.handlers.onMessage?.(m);
    this.emit('message', m);
    this.delivered.handled(msg, true);
  }
}

function emptyToken(): Token {
  return {
    access_token: '',
    refresh_token: '',
    access_expires_at: 0,
    refresh_expires_at: 0,
    user_id: '',
    username: '',
    session_id: '',
    device_id: '',
    display_name: '',
  };
}

/** The gateway URL with push_batch=1: this SDK takes ITerminal.onMessages (docs/protocol.md). */
export function withPushBatch(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.searchParams.set('push_batch', '1');
  return u.toString();
}

/** The files URL from the session, made absolute against the WebSocket URL when relative. */
export function resolveFilesUrl(filesUrl: string, wsUrl: string): string {
  if (/^https?:\/\//i.test(filesUrl)) return filesUrl.replace(/\/+$/, '');
  const u = new URL(wsUrl);
  const origin = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
  return `${origin}${filesUrl.startsWith('/') ? '' : '/'}${filesUrl}`.replace(/\/+$/, '');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
