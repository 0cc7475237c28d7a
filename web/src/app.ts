// The web client: the device SDK in a browser over /ws (same origin, through
// nginx). Sign in or register, conversations, chat with images (upload with
// progress, authenticated download), presence, and people nearby with
// distances. Plain DOM, no framework: the point is that the SDK works here.
import { parseMimeText, TceClient, TceError, type MimeText, type ReceivedMessage } from '../../sdk/src/index.js';

interface ChatLine {
  id: string;
  from: string;
  mine: boolean;
  items: MimeText;
  at: number;
}

interface Conversation {
  peer: string;
  name: string;
  lines: ChatLine[];
  unread: number;
  online?: boolean;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const deviceId = ((): string => {
  let id = localStorage.getItem('tce.device');
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem('tce.device', id);
  }
  return id;
})();

let client: TceClient | undefined;
let me = { id: '', name: '' };
const conversations = new Map<string, Conversation>();
const names = new Map<string, string>();
const imageUrls = new Map<string, string>();
let current: string | undefined;

function setStatus(state: string): void {
  $('conn-dot').className = `dot ${state === 'open' ? 'on' : 'off'}`;
  $('conn-text').textContent = state === 'open' ? 'online' : state;
}

function errorText(err: unknown): string {
  if (err instanceof TceError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

async function nameOf(userId: string): Promise<string> {
  const known = names.get(userId);
  if (known) return known;
  try {
    const u = await client!.call<{ display_name?: string; username?: string }>('auth.IAuthServer', 'getUser', [userId]);
    const n = u.display_name || u.username || userId;
    names.set(userId, n);
    return n;
  } catch {
    return userId;
  }
}

function conversation(peer: string): Conversation {
  let c = conversations.get(peer);
  if (!c) {
    c = { peer, name: names.get(peer) ?? peer, lines: [], unread: 0 };
    conversations.set(peer, c);
    void nameOf(peer).then((n) => {
      c!.name = n;
      renderConversations();
      if (current === peer) renderChat();
    });
  }
  return c;
}

function renderConversations(): void {
  const ul = $('conversations');
  ul.replaceChildren(
    ...[...conversations.values()].map((c) => {
      const li = document.createElement('li');
      li.dataset.peer = c.peer;
      li.className = c.peer === current ? 'active' : '';
      const dot = document.createElement('span');
      dot.className = `dot ${c.online ? 'on' : 'off'}`;
      dot.title = c.online ? 'online' : 'offline';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = c.name;
      li.append(dot, name);
      if (c.unread) {
        const u = document.createElement('span');
        u.className = 'unread';
        u.textContent = String(c.unread);
        li.append(u);
      }
      li.onclick = (): void => open(c.peer);
      return li;
    }),
  );
}

function renderItems(li: HTMLElement, items: MimeText): void {
  const body = document.createElement('div');
  body.className = 'body';
  for (const item of items) {
    if (item.type === 'text') {
      const el = item.link ? document.createElement('a') : document.createElement('span');
      if (item.link && el instanceof HTMLAnchorElement) el.href = item.link;
      el.textContent = item.text;
      if (item.bold) el.style.fontWeight = 'bold';
      if (item.italic) el.style.fontStyle = 'italic';
      if (item.color) el.style.color = item.color;
      body.append(el);
    } else if (item.type === 'emoticon') {
      body.append(document.createTextNode(item.id === 'smile' ? '🙂' : `:${item.id}:`));
    } else if (item.type === 'image') {
      const img = document.createElement('img');
      img.alt = 'image';
      img.className = 'chat-image';
      const dl = document.createElement('a');
      dl.textContent = 'download';
      dl.className = 'download';
      dl.download = `${item.id || 'image'}.png`;
      body.append(img, dl);
      void loadImage(item.uri).then(
        (url) => {
          img.src = url;
          dl.href = url;
        },
        (err: unknown) => (img.alt = `image unavailable (${errorText(err)})`),
      );
    } else if (item.type === 'location') {
      body.append(document.createTextNode(`📍 ${item.lat.toFixed(4)}, ${item.lon.toFixed(4)}`));
    } else {
      body.append(document.createTextNode(`[${item.type}]`));
    }
  }
  li.append(body);
}

/** Downloads with the access token (file URLs need it) into an object URL. */
async function loadImage(uri: string): Promise<string> {
  const known = imageUrls.get(uri);
  if (known) return known;
  const bytes = await client!.files().download(uri);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
  imageUrls.set(uri, url);
  return url;
}

function renderChat(): void {
  const c = current ? conversations.get(current) : undefined;
  $('composer').hidden = !c;
  if (!c) return;
  $('chat-header').textContent = `${c.name} — ${c.online ? 'online' : 'offline'}`;
  const ol = $('messages');
  ol.replaceChildren(
    ...c.lines.map((l) => {
      const li = document.createElement('li');
      li.className = l.mine ? 'mine' : 'theirs';
      renderItems(li, l.items);
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = new Date(l.at).toLocaleTimeString();
      li.append(meta);
      return li;
    }),
  );
  ol.scrollTop = ol.scrollHeight;
}

function open(peer: string): void {
  current = peer;
  const c = conversation(peer);
  c.unread = 0;
  renderConversations();
  renderChat();
  void refreshPresence();
}

function addLine(peer: string, line: ChatLine): void {
  const c = conversation(peer);
  if (c.lines.some((l) => l.id === line.id)) return;
  c.lines.push(line);
  if (peer !== current) c.unread++;
  renderConversations();
  if (peer === current) renderChat();
}

function onMessage(m: ReceivedMessage): void {
  // A group message belongs to the group's conversation (the app's own ones come back too).
  const peer = m.group_id || m.from_user;
  const mine = !!m.group_id && m.from_user === me.id;
  addLine(peer, { id: m.msg_id, from: m.from_user, mine, items: m.items, at: m.sent_at || Date.now() });
}

async function refreshPresence(): Promise<void> {
  const ids = [...conversations.keys()];
  if (!client || client.state !== 'open' || ids.length === 0) return;
  try {
    for (const p of await client.presence(ids)) {
      const c = conversations.get(p.user_id);
      if (c) c.online = p.online;
    }
    renderConversations();
    renderChat();
  } catch {
    // presence is best effort
  }
}

async function loadHistory(): Promise<void> {
  const page = await client!.history('', 0, 50);
  for (const m of [...page.messages].reverse()) {
    let items: MimeText;
    try {
      items = parseMimeText(m.mime_text, 1 << 20).items;
    } catch {
      items = [{ type: 'text', text: m.mime_text }];
    }
    addLine(m.from_user, { id: m.msg_id, from: m.from_user, mine: false, items, at: m.sent_at });
  }
}

async function signIn(register: boolean): Promise<void> {
  const username = $<HTMLInputElement>('username').value.trim();
  const password = $<HTMLInputElement>('password').value;
  $('login-error').textContent = '';
  client?.close();
  const c = new TceClient({ url: wsUrl, deviceId, deviceType: 'web' });
  client = c;
  c.on('state', setStatus);
  c.handlers.onMessage = onMessage;
  c.handlers.onPresence = (p): void => {
    const conv = conversations.get(p.user_id);
    if (conv) {
      conv.online = p.online;
      renderConversations();
      renderChat();
    }
  };
  try {
    await c.connect();
    if (register) await c.register({ username, password, display_name: username });
    await c.login(username, password);
  } catch (err) {
    $('login-error').textContent = errorText(err);
    c.close();
    return;
  }
  me = { id: c.session!.user_id, name: username };
  names.set(me.id, username);
  $('me-name').textContent = username;
  $('me-id').textContent = me.id;
  $('me').hidden = false;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  await loadHistory().catch(() => undefined);
  setInterval(() => void refreshPresence(), 5000);
}

async function sendText(): Promise<void> {
  const input = $<HTMLInputElement>('text');
  const text = input.value.trim();
  if (!text || !current) return;
  input.value = '';
  await sendItems(current, [{ type: 'text', text }]);
}

async function sendItems(peer: string, items: MimeText): Promise<void> {
  const r = peer.startsWith('g_') ? await client!.sendGroup(peer, items) : await client!.send(peer, items);
  addLine(peer, { id: r.msg_id, from: me.id, mine: true, items, at: r.sent_at || Date.now() });
}

async function sendImage(file: File): Promise<void> {
  if (!current) return;
  const peer = current;
  const bar = $<HTMLProgressElement>('upload-progress');
  bar.hidden = false;
  bar.value = 0;
  try {
    // Resumable (tus) in small chunks, so the progress bar moves.
    const info = await client!.files().upload(file, {
      name: file.name,
      contentType: file.type || 'application/octet-stream',
      resumable: true,
      chunkBytes: 64 * 1024,
      onProgress: (sent, total) => (bar.value = total ? sent / total : 1),
    });
    const dims = await imageSize(file).catch(() => undefined);
    await sendItems(peer, [{ type: 'image', id: info.id, uri: info.uri, ...(dims ?? {}) }]);
  } finally {
    bar.hidden = true;
  }
}

async function imageSize(file: File): Promise<{ width: number; height: number }> {
  const bmp = await createImageBitmap(file);
  return { width: bmp.width, height: bmp.height };
}

async function shareAndSearch(): Promise<void> {
  const lat = Number($<HTMLInputElement>('lat').value);
  const lon = Number($<HTMLInputElement>('lon').value);
  await client!.reportGpsConfirmed({ lon, lat, time: Date.now() });
  const ul = $('nearby');
  const r = await client!.nearby(lon, lat, 5000, 20);
  const others = r.hits.filter((h) => h.user_id !== me.id);
  const rows = await Promise.all(
    others.map(async (h) => {
      const li = document.createElement('li');
      li.dataset.user = h.user_id;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = await nameOf(h.user_id);
      const dist = document.createElement('span');
      dist.className = 'dist';
      dist.textContent =
        h.distance_m < 1000 ? `${Math.round(h.distance_m)} m` : `${(h.distance_m / 1000).toFixed(1)} km`;
      li.append(name, dist);
      li.onclick = (): void => open(h.user_id);
      return li;
    }),
  );
  if (rows.length === 0) {
    const li = document.createElement('li');
    li.textContent = r.partial ? 'nobody found (partial answer)' : 'nobody within 5 km';
    rows.push(li);
  }
  ul.replaceChildren(...rows);
}

$('login-form').onsubmit = (e): void => {
  e.preventDefault();
  void signIn(false);
};
$('register').onclick = (): void => void signIn(true);
$('logout').onclick = (): void => {
  void client?.logout().catch(() => undefined);
  client?.close();
  location.reload();
};
$('new-chat').onsubmit = (e): void => {
  e.preventDefault();
  const id = $<HTMLInputElement>('new-chat-id').value.trim();
  if (id) open(id);
};
$('composer').onsubmit = (e): void => {
  e.preventDefault();
  void sendText().catch((err: unknown) => alert(errorText(err)));
};
$<HTMLInputElement>('image').onchange = (e): void => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file) void sendImage(file).catch((err: unknown) => alert(errorText(err)));
};
$('gps-form').onsubmit = (e): void => {
  e.preventDefault();
  void shareAndSearch().catch((err: unknown) => alert(errorText(err)));
};
