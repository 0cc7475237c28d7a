// `tce mq …` on its own: node --import tsx services/mq/src/cli-main.ts ls
import { runMqCommand } from './cli/mq-command.js';

runMqCommand(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tce mq: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
