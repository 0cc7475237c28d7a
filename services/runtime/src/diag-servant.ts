// The diag::IDiag servant every platform process serves: echo, ping, whoami
// (what the servant saw of the call) and sleep — for connectivity checks by
// hand (grpcurl) and for the call-mode tests.
import type { IDiagServant } from '../../../proto/gen/ts/diag.tce.js';
import type { CallContext } from './call-context.js';
import { invalidArgument } from './errors.js';

const MAX_SLEEP_MS = 60_000;

export class DiagServant implements IDiagServant {
  private pings = 0;

  echo(text: string): string {
    return text;
  }

  ping(): void {
    this.pings++;
  }

  pingCount(): number {
    return this.pings;
  }

  whoami(ctx: CallContext): {
    user_id: string;
    device_id: string;
    extra: Record<string, string>;
    deadline_ms: number;
    peer: string;
  } {
    return {
      user_id: ctx.identity?.userId ?? '',
      device_id: ctx.identity?.deviceId ?? '',
      extra: ctx.extra,
      deadline_ms: Number.isFinite(ctx.deadline) ? Math.max(0, ctx.deadline - Date.now()) : -1,
      peer: ctx.peer,
    };
  }

  async sleep(ms: number, ctx: CallContext): Promise<void> {
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
      throw invalidArgument(`ms must be an integer between 0 and ${MAX_SLEEP_MS}, got ${ms}`);
    }
    const until = Date.now() + ms;
    // Poll for cancellation so a cancelled call does not hold the server's drain.
    while (Date.now() < until && !ctx.cancelled) {
      await new Promise((r) => setTimeout(r, Math.min(20, until - Date.now())));
    }
  }
}
