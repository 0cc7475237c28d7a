// The demo scenario: the platform's main job, driven through the device SDK
// against a running local platform. `make demo` narrates it; the e2e test runs
// the same function and asserts every step. A step that fails is reported as
// failed with the reason — never papered over — and the steps that need it are
// reported as not run.
import crypto from 'node:crypto';
import { TceClient, type ReceivedMessage } from '../../sdk/src/index.js';
import { waitFor } from '../../test/support/wait.js';
import type { LocalPlatform } from './launcher.js';
import { demoPng } from './png.js';

export interface StepResult {
  title: string;
  ok: boolean;
  /** What was checked (ok) or why it failed. */
  detail: string[];
}

export interface ScenarioResult {
  steps: StepResult[];
  ok: boolean;
}

export interface ScenarioOptions {
  /** Narration sink (one line at a time). */
  say?: (line: string) => void;
  /** Per-wait deadline (default 30 s). */
  timeoutMs?: number;
}

const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const textOf = (m: ReceivedMessage): string =>
  m.items
    .filter((i) => i.type === 'text')
    .map((i) => (i as { text: string }).text)
    .join('');

/** A user's device: an SDK client that records what it receives. */
class Device {
  readonly inbox: ReceivedMessage[] = [];
  client: TceClient;
  userId = '';
  constructor(
    readonly name: string,
    readonly password: string,
    readonly url: string,
    readonly deviceId: string,
  ) {
    this.client = this.newClient();
  }

  /**
   * A client that remembers how far this device got, as an app keeps it: a
   * reconnect may redeliver what was acked just before going offline (the
   * cursor write can lose the race), and lastSeq drops those.
   */
  newClient(lastSeq?: number): TceClient {
    const c = new TceClient({
      url: this.url,
      deviceId: this.deviceId,
      deviceType: 'demo',
      heartbeatMs: 5000,
      lastSeq,
    });
    c.handlers.onMessage = (m) => void this.inbox.push(m);
    c.on('error', () => undefined);
    return c;
  }

  /** Goes offline: closes the connection for good. */
  offline(): void {
    this.client.close();
  }

  /** Comes back: a new connection (same device), logs in; delivery resumes from the device's cursor. */
  async online(): Promise<void> {
    this.client = this.newClient(this.client.lastSeq);
    await this.client.connect();
    await this.client.login(this.name, this.password);
  }
}

export function gatewayUrls(platform: Pick<LocalPlatform, 'specs'>): string[] {
  return [...platform.specs.values()]
    .filter((s) => s.service === 'gateway')
    .map((s) => `ws://127.0.0.1:${s.env.TCE_WS_PORT}/ws`);
}

export async function runScenario(platform: LocalPlatform, opts: ScenarioOptions = {}): Promise<ScenarioResult> {
  const say = opts.say ?? ((): void => undefined);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const steps: StepResult[] = [];
  let broken = false;
  const step = async (
    title: string,
    fn: (note: (l: string) => void) => Promise<void>,
    needsPrevious = true,
  ): Promise<boolean> => {
    const detail: string[] = [];
    say(`\n--> ${title}`);
    if (broken && needsPrevious) {
      steps.push({ title, ok: false, detail: ['not run: an earlier step it needs failed'] });
      say('    NOT RUN: an earlier step it needs failed');
      return false;
    }
    const note = (l: string): void => {
      detail.push(l);
      say(`    ${l}`);
    };
    try {
      await fn(note);
      steps.push({ title, ok: true, detail });
      say('    ok');
      return true;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      detail.push(`FAILED: ${why}`);
      say(`    FAILED: ${why}`);
      steps.push({ title, ok: false, detail });
      return false;
    }
  };

  if (platform.missing.length) {
    await step(
      'every service is built',
      () => Promise.reject(new Error(`not built yet: ${platform.missing.join(', ')}`)),
      false,
    );
  }

  const [gw1, gw2] = gatewayUrls(platform);
  const suffix = crypto.randomBytes(3).toString('hex');
  const alice = new Device(`alice_${suffix}`, 'correct horse battery staple', gw1 ?? '', `alice-phone-${suffix}`);
  const bob = new Device(`bob_${suffix}`, 'purple monkey dishwasher 42', gw2 ?? gw1 ?? '', `bob-laptop-${suffix}`);
  const waitMsgs = (d: Device, n: number, what: string): Promise<ReceivedMessage[]> =>
    waitFor(what, () => (d.inbox.length >= n ? d.inbox.slice(0, n) : undefined), { timeoutMs });

  try {
    broken = !(await step('two users register and log in, each on a different gateway', async (note) => {
      if (!gw1 || !gw2) throw new Error('the platform has fewer than two gateways');
      for (const d of [alice, bob]) {
        await d.client.connect();
        d.userId = await d.client.register({
          username: d.name,
          password: d.password,
          display_name: d.name.split('_')[0]!,
        });
        await d.client.login(d.name, d.password);
        const s = d.client.session!;
        d.userId = s.user_id;
        note(`${d.name.padEnd(14)} user ${s.user_id}  on ${s.gateway_id} (${d.url})`);
      }
      const [a, b] = [alice.client.session!.gateway_id, bob.client.session!.gateway_id];
      if (a === b) throw new Error(`both sessions are on ${a}`);
    }));

    await step(
      'alice sends bob rich text with an image (upload through /files, message, download, SHA-256)',
      async (note) => {
        const png = demoPng();
        const local = sha256(png);
        let progress = 0;
        const info = await alice.client.files().upload(png, {
          name: 'hello.png',
          contentType: 'image/png',
          onProgress: (sent) => (progress = sent),
        });
        note(`uploaded hello.png: ${info.size} bytes (progress ${progress}/${png.length}) → ${info.uri}`);
        note(`sha256 local  ${local}`);
        note(`sha256 server ${info.sha256}`);
        if (info.sha256 !== local) throw new Error('the file service reports a different SHA-256');
        const sent = await alice.client.send(bob.userId, [
          { type: 'text', text: 'Hello ' },
          { type: 'text', text: 'Bob', bold: true, color: '#c0392b' },
          { type: 'text', text: ', here is the view from my window ' },
          { type: 'emoticon', id: 'smile' },
          { type: 'image', id: info.id, uri: info.uri, width: 64, height: 64 },
        ]);
        note(`stored as ${sent.msg_id} (bob's seq ${sent.seq})`);
        const [m] = await waitMsgs(bob, 1, 'bob to receive the rich text message');
        const img = m!.items.find((i) => i.type === 'image') as { uri: string } | undefined;
        note(
          `bob got: "${textOf(m!)}" + ${m!.items.length} items from ${m!.from_user === alice.userId ? 'alice' : m!.from_user}`,
        );
        if (!img) throw new Error('the message bob received has no image item');
        const data = await bob.client.files().download(img.uri);
        const got = sha256(data);
        note(`bob downloaded ${data.length} bytes, sha256 ${got} ${got === local ? '= matches' : '≠ MISMATCH'}`);
        if (got !== local) throw new Error('downloaded bytes differ from the upload');
      },
    );

    await step('bob goes offline; alice sends 5 messages; bob comes back and gets them in order', async (note) => {
      const before = bob.inbox.length;
      bob.offline();
      await waitFor('bob to be offline', async () => (await alice.client.presence([bob.userId]))[0]?.online === false, {
        timeoutMs,
      }).catch(() => note('(presence did not show bob offline yet; continuing)'));
      note('bob is offline');
      const texts = Array.from({ length: 5 }, (_, i) => `offline message ${i + 1} of 5`);
      for (const t of texts) {
        const r = await alice.client.send(bob.userId, [{ type: 'text', text: t }]);
        note(`alice → bob  "${t}"  stored (seq ${r.seq})`);
      }
      await bob.online();
      note(`bob is back on ${bob.client.session!.gateway_id} (cursor was at seq ${bob.client.session!.acked_seq})`);
      const got = (await waitMsgs(bob, before + 5, 'bob to receive the 5 queued messages')).slice(before);
      const order = got.map(textOf);
      note(`bob received: ${got.map((m) => `#${m.seq}`).join(' ')}`);
      if (JSON.stringify(order) !== JSON.stringify(texts))
        throw new Error(`wrong order or content: ${JSON.stringify(order)}`);
      if (got.some((m, i) => i > 0 && m.seq <= got[i - 1]!.seq)) throw new Error('sequence numbers are not increasing');
    });

    await step('offline file transfer: alice sends bob a file while he is offline', async (note) => {
      const before = bob.inbox.length;
      bob.offline();
      note('bob is offline');
      const doc = new TextEncoder().encode(`Meeting notes ${new Date().toISOString()}\n`.repeat(2000));
      const info = await alice.client
        .files()
        .upload(doc, { name: 'notes.txt', contentType: 'text/plain', to: bob.userId });
      note(`alice uploaded notes.txt for bob: ${info.size} bytes, sha256 ${info.sha256.slice(0, 16)}…`);
      // A link item must carry an absolute URL.
      const link = alice.client.files().urlOf(info.uri);
      await alice.client.send(bob.userId, [
        { type: 'text', text: 'notes.txt for you: ' },
        { type: 'text', text: 'notes.txt', link },
      ]);
      await bob.online();
      const [m] = (await waitMsgs(bob, before + 1, 'bob to receive the file message')).slice(before);
      const uri = (m!.items.find((i) => i.type === 'text' && 'link' in i && i.link) as { link: string } | undefined)
        ?.link;
      if (!uri) throw new Error('the message has no file link');
      const data = await bob.client.files().download(uri);
      const got = sha256(data);
      note(`bob came back, downloaded ${data.length} bytes, sha256 ${got === info.sha256 ? 'matches' : 'DIFFERS'}`);
      if (got !== sha256(doc)) throw new Error('downloaded bytes differ from the upload');
    });

    // Scale out while the location steps run.
    say('\n--> scaling location units 3 → 4 (in the background, while GPS flows)');
    const scaling = platform.scaleUnits(4).then(
      (names) => ({ ok: true as const, names }),
      (err: unknown) => ({ ok: false as const, why: err instanceof Error ? err.message : String(err) }),
    );

    const ALICE = { lon: 13.405, lat: 52.52 }; // Berlin, Alexanderplatz-ish
    const BOB = { lon: 13.409, lat: 52.5215 }; // ~300 m east-north-east
    const nearbyBob = async (): Promise<number> => {
      const r = await alice.client.nearby(ALICE.lon, ALICE.lat, 1000, 10);
      const hit = r.hits.find((h) => h.user_id === bob.userId);
      return hit && !r.partial ? hit.distance_m : -1;
    };
    await step('both report GPS; a nearby query (1 km) finds the other with the distance', async (note) => {
      if (bob.client.state !== 'open') await bob.online();
      await alice.client.reportGpsConfirmed({ ...ALICE, time: Date.now() });
      await bob.client.reportGpsConfirmed({ ...BOB, time: Date.now() });
      note(`alice at ${ALICE.lat}, ${ALICE.lon}; bob at ${BOB.lat}, ${BOB.lon}`);
      const d = await waitFor(
        'bob in alice’s nearby results',
        async () => {
          const m = await nearbyBob().catch(() => -1);
          return m >= 0 ? m : undefined;
        },
        { timeoutMs },
      );
      note(`nearby(alice, 1 km) → bob at ${d.toFixed(0)} m`);
      if (d < 250 || d > 350) throw new Error(`distance ${d} m is not the expected ~300 m`);
    });

    await step(
      'location units scaled 3 → 4; nearby still answers completely',
      async (note) => {
        const r = await scaling;
        if (!r.ok) throw new Error(`could not start the 4th unit: ${r.why}`);
        note(
          `started ${r.names.join(', ') || '(already 4)'}; running units: ${[...platform.processes.keys()].filter((n) => n.startsWith('location-unit')).length}`,
        );
        // Keep reporting while partitions move: a unit that takes a partition over rebuilds it from the bus.
        const d = await waitFor(
          'a complete nearby answer after the scale-out',
          async () => {
            bob.client.reportGps({ ...BOB, time: Date.now() });
            const m = await nearbyBob().catch(() => -1);
            return m >= 0 ? m : undefined;
          },
          { timeoutMs, intervalMs: 500 },
        );
        note(`nearby(alice, 1 km) → bob at ${d.toFixed(0)} m (after the scale-out)`);
      },
      false,
    );
  } finally {
    alice.client.close();
    bob.client.close();
  }
  return { steps, ok: steps.every((s) => s.ok) };
}
