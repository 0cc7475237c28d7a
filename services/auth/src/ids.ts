// Identifiers auth hands out: random, unguessable, URL- and log-safe, with a
// prefix saying what they name (u_ user, s_ session, d_ device).
import crypto from 'node:crypto';

const body = (): string => crypto.randomBytes(12).toString('base64url'); // 96 bits → 16 characters

export const newUserId = (): string => `u_${body()}`;
export const newSessionId = (): string => `s_${body()}`;
export const newDeviceId = (): string => `d_${body()}`;
