// "Does the cluster already have what we want?" — the check that keeps the
// operator quiet at rest. The desired object must be contained in the observed
// one: every field we set has the same value there (the API server adds
// defaults and other managers add fields; those do not count as drift).
// Without it every reconcile would issue an apply per child.

import { quantitiesEqual } from './quantity.js';

/** Maps whose every value is a quantity (container resources). */
const QUANTITY_MAPS = new Set(['requests', 'limits']);
/** Fields that hold one quantity. */
const QUANTITY_FIELDS = new Set(['sizeLimit']);

/** Values Go's `omitempty` leaves out of the API's JSON: absent in the response means equal. */
function isEmpty(v: unknown): boolean {
  if (v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

/**
 * The path of the first field where `observed` lacks or differs from `desired`
 * ("." for the root), or undefined when `desired` is contained in `observed`.
 */
export function firstDifference(desired: unknown, observed: unknown): string | undefined {
  return diff(desired, observed, '', false, false);
}

function diff(
  desired: unknown,
  observed: unknown,
  path: string,
  quantity: boolean,
  quantityMap: boolean,
): string | undefined {
  if (desired === undefined) return undefined;
  if (observed === undefined || observed === null) return isEmpty(desired) ? undefined : path || '.';
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) return path || '.';
    for (let i = 0; i < desired.length; i++) {
      const d = diff(desired[i], observed[i], `${path}[${i}]`, false, false);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (desired !== null && typeof desired === 'object') {
    if (typeof observed !== 'object' || Array.isArray(observed)) return path || '.';
    for (const [k, v] of Object.entries(desired)) {
      const o = (observed as Record<string, unknown>)[k];
      const d = diff(v, o, `${path}.${k}`, quantityMap || QUANTITY_FIELDS.has(k), QUANTITY_MAPS.has(k));
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (desired === observed) return undefined;
  if (quantity && (typeof desired === 'string' || typeof desired === 'number')) {
    if ((typeof observed === 'string' || typeof observed === 'number') && quantitiesEqual(desired, observed)) {
      return undefined;
    }
  }
  return path || '.';
}

export function containedIn(desired: unknown, observed: unknown): boolean {
  return firstDifference(desired, observed) === undefined;
}

/** Deep equality of JSON values, ignoring key order (status comparison). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}
