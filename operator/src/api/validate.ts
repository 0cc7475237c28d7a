// Checks a schema-valid Platform for what the schema cannot express. A problem
// here becomes a condition with the message below (no crash loop, no retries
// until the spec changes).
import { parseDuration } from '../../../services/runtime/src/config.js';
import { operatorEnvNames } from '../resources/component-env.js';
import { ALL_COMPONENTS } from './components.js';
import type { Platform } from './types.js';

/** Problems with a defaulted Platform, each naming its field; empty when valid. */
export function validatePlatform(platform: Platform): string[] {
  const problems: string[] = [];
  const spec = platform.spec;
  for (const c of ALL_COMPONENTS) {
    const reserved = operatorEnvNames(platform, c);
    spec[c.key].env.forEach((e, i) => {
      if (reserved.has(e.name)) {
        problems.push(
          `spec.${c.key}.env[${i}]: ${e.name} is set by the operator; use the Platform field that controls it`,
        );
      }
    });
  }
  const access = parseDuration(spec.auth.accessTokenTTL);
  const refresh = parseDuration(spec.auth.refreshTokenTTL);
  if (access !== undefined && refresh !== undefined && access >= refresh) {
    problems.push(
      `spec.auth.accessTokenTTL (${spec.auth.accessTokenTTL}) must be shorter than spec.auth.refreshTokenTTL (${spec.auth.refreshTokenTTL})`,
    );
  }
  return problems;
}
