// The notifier of a gateway running without EasyMQ (TCE_MQ_ADDR empty): a single
// replica has nobody to notify. Should presence name another replica anyway
// (a second gateway misconfigured without mq), the notice cannot be delivered:
// it is counted and logged, and that device gets its messages on its next read
// (reconnect) — nothing stored is lost.
import type { Logger } from '../../runtime/src/logger.js';
import type { Notice, Notifier } from './notices.js';

export class StandaloneNotifier implements Notifier {
  undeliverable = 0;
  private warned = false;

  constructor(private readonly logger: Logger) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(gatewayId: string, notice: Notice): void {
    this.undeliverable++;
    if (!this.warned) {
      this.warned = true;
      this.logger.warn('Another gateway holds devices but TCE_MQ_ADDR is not set: cross-gateway pushes are off', {
        gateway: gatewayId,
        notice: notice.t,
      });
    }
  }

  ready(): string | undefined {
    return undefined;
  }

  forget(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
