// Structural defaulting, as the API server does it, from the same schema the
// CRD is generated from. The operator applies it to every Platform it reads, so
// objects stored before a CRD upgrade added a field still get that field's default.
import { platformSpecSchema, type JSONSchema } from './schema.js';
import type { Platform, PlatformSpec } from './types.js';

/** Returns a copy of `value` with the schema's defaults filled in, top-down. */
export function applyDefaults(schema: JSONSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    return schema.items ? value.map((v) => applyDefaults(schema.items as JSONSchema, v)) : [...value];
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (out[key] === undefined && sub.default !== undefined) out[key] = structuredClone(sub.default);
      if (out[key] !== undefined) out[key] = applyDefaults(sub, out[key]);
    }
  } else if (schema.additionalProperties) {
    for (const [key, v] of Object.entries(out)) out[key] = applyDefaults(schema.additionalProperties, v);
  }
  return out;
}

/** The spec with every default applied. */
export function defaultedSpec(spec: unknown): PlatformSpec {
  return applyDefaults(platformSpecSchema, spec ?? {}) as PlatformSpec;
}

/** The Platform with its spec defaulted (status and metadata untouched). */
export function withDefaults(platform: Platform): Platform {
  return { ...platform, spec: defaultedSpec(platform.spec) };
}
