// The auth service process: IAuthServer on TCE_GRPC_PORT (50051). See docs/auth.md.
import { mainOf, runService } from '../../runtime/src/run.js';
import { authSchema } from './config.js';
import { startAuth } from './start-auth.js';

mainOf(() => runService('auth', authSchema, startAuth));
