// The gateway process: device WebSocket endpoint, messaging, presence.
import { mainOf } from '../../runtime/src/run.js';
import { runGateway } from './gateway.js';

mainOf(() => runGateway());
