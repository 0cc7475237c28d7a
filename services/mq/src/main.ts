// EasyMQ broker process (see service.ts and docs/mq.md).
import { mainOf, runService } from '../../runtime/src/run.js';
import { mqSchema } from './config.js';
import { startMq } from './service.js';

mainOf(() => runService('mq', mqSchema, startMq));
