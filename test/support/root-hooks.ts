// Mocha root hooks: whatever a test started and did not stop is stopped after
// the run, pass or fail.
import { stopAll } from './processes.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopAll();
  },
};
