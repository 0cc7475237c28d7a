// nginx in front of the local platform: the route table shared by `make run`,
// the tests and the benchmarks (see http-config.ts).
export {
  nginxHttpConfig,
  ingressAnnotations,
  filesBodyLimit,
  FILES_PROXY,
  WS_PROXY,
  type NginxRoutes,
} from './http-config.js';
