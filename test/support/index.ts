// Test support library: real parts (store, control plane, nginx), free ports,
// waiting with deadlines, process lifecycle.
export { removeStoreData, startStore, waitForStore, type Store, type StoreOptions } from './store.js';
export { startCluster, apiRequest, kubeconfigYaml, type Cluster, type ClusterOptions } from './cluster.js';
export { startNginx, testNginxConfig, nginxConfig, type Nginx, type NginxOptions } from './nginx.js';
export { freePort, canConnect } from './ports.js';
export { waitFor, GiveUp, WaitTimeoutError, type WaitOptions } from './wait.js';
export { startProcess, stopAll, stopPid, ManagedProcess, type StartOptions } from './processes.js';
export { repoRoot, cacheDir, binDir, bin } from './paths.js';
export { run, runOk, type ExecResult } from './exec.js';
export { startService, type ServiceProcess, type StartServiceOptions } from './services.js';
