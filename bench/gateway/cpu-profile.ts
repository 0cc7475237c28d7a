// Preloaded into gateway processes by the benchmark (BENCH_GATEWAY_CPU_PROF=dir):
// `--cpu-prof` is not allowed in NODE_OPTIONS, so this starts V8's profiler
// through the inspector and writes <dir>/gateway-<pid>.cpuprofile at SIGTERM or
// exit (a same-thread inspector session answers synchronously).
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_GATEWAY_CPU_PROF;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `gateway-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  // At SIGTERM too: a drain that outlasts the harness's stop deadline ends in SIGKILL.
  process.on('SIGTERM', write);
  process.on('exit', write);
}
