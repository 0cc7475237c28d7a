// The operator process: `npm run operator` locally (uses $KUBECONFIG), or the
// chart's Deployment (in-cluster service account).
import { mainOf } from '../../services/runtime/src/run.js';
import { runOperator } from './run.js';

mainOf(async () => {
  const op = await runOperator();
  // `on`, not `once`: a second signal (a supervisor that forwards it, an impatient
  // user) must not kill the process before it has released its leader Lease.
  const onSignal = (signal: string): void => {
    op.logger.info('Received signal', { signal });
    void op.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const reason = await op.done;
  if (reason !== 'stopped') {
    op.logger.error('Exiting', { reason });
    await op.stop();
    process.exit(1);
  }
});
