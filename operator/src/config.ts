// The operator's settings: environment variables in the same typed-schema style
// as the services (services/runtime/src/config.ts). The chart sets them from values.
import { commonSchema, type Schema } from '../../services/runtime/src/config.js';

/** The operator's own settings (the README's configuration table lists these). */
export const operatorOwnSchema = {
  watchNamespace: {
    env: 'TCE_WATCH_NAMESPACE',
    type: 'string',
    default: '',
    doc: 'Reconcile Platforms in this namespace only; empty: every namespace.',
  },
  leaderElect: {
    env: 'TCE_LEADER_ELECT',
    type: 'bool',
    default: true,
    doc: 'Elect a leader with a Lease, so several replicas can run safely.',
  },
  leaseName: { env: 'TCE_LEASE_NAME', type: 'string', default: 'tce-operator', doc: 'Name of the leader Lease.' },
  leaseNamespace: {
    env: 'TCE_LEASE_NAMESPACE',
    type: 'string',
    default: '',
    doc: 'Namespace of the leader Lease; empty: the namespace of the service account, else default.',
  },
  leaseDuration: {
    env: 'TCE_LEASE_DURATION',
    type: 'duration',
    default: 15_000,
    min: 1000,
    doc: 'How long a Lease not renewed stays valid before another replica takes over.',
  },
  renewDeadline: {
    env: 'TCE_RENEW_DEADLINE',
    type: 'duration',
    default: 10_000,
    min: 500,
    doc: 'A leader that could not renew for this long stops (and exits).',
  },
  retryPeriod: {
    env: 'TCE_LEASE_RETRY_PERIOD',
    type: 'duration',
    default: 2000,
    min: 100,
    doc: 'How often the leader renews and the others check the Lease.',
  },
  identity: {
    env: 'TCE_POD_NAME',
    type: 'string',
    default: '',
    doc: 'This replica’s identity in the Lease and in Events; empty: hostname and process id.',
  },
  workers: { env: 'TCE_WORKERS', type: 'int', default: 4, min: 1, max: 64, doc: 'Platforms reconciled in parallel.' },
  resyncPeriod: {
    env: 'TCE_RESYNC_PERIOD',
    type: 'duration',
    default: 600_000,
    min: 1000,
    doc: 'Every Platform is reconciled at least this often.',
  },
  manageCrd: {
    env: 'TCE_MANAGE_CRD',
    type: 'bool',
    default: true,
    doc: 'On start, upgrade the Platform CRD in the cluster when this operator carries a newer one.',
  },
} as const satisfies Schema;

/** Everything the operator process reads: the common settings and its own. */
export const operatorSchema = { ...commonSchema, ...operatorOwnSchema } as const satisfies Schema;
