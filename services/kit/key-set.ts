// The JWT signing secret as a key set with ids, and the staged rotation of it. Each key has a
// `kid` (the RFC 7638 thumbprint of its public key, so the same key always has the same id) and a
// status: `current` (users signs with it), `next` (published first, so every verifier accepts it
// before anything is signed with it), `previous` (the key before, accepted until `expiresAt`: the
// longest a token it signed can still live). The top-level `privateKey`/`publicKey` always hold
// the current key, so a reader of the old `{privateKey, publicKey}` shape keeps working, and that
// old shape is read as a set of one current key (migrated on its next rotation).
import { calculateJwkThumbprint, exportPKCS8, exportSPKI, generateKeyPair, importSPKI, exportJWK } from 'jose';

export const JWT_ALG = 'ES256';

export type KeyStatus = 'current' | 'next' | 'previous';

export interface SetKey {
  kid: string;
  status: KeyStatus;
  publicKey: string;
  /** Only in the signing secret (`jwt`), never in `jwt-public`. */
  privateKey?: string;
  /** `previous` only: ISO time after which tokens it signed are no longer accepted. */
  expiresAt?: string;
}

/** The JSON shape of `jwt` (with private keys) and `jwt-public` (without). */
export interface KeySetSecret {
  privateKey?: string;
  publicKey: string;
  keys: SetKey[];
}

export class KeySetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySetError';
  }
}

/** The key id of a public key (PEM): its JWK thumbprint. */
export async function keyId(publicKeyPem: string): Promise<string> {
  const jwk = await exportJWK(await importSPKI(publicKeyPem, JWT_ALG, { extractable: true }));
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** A new key, with its id. */
export async function generateKey(status: KeyStatus): Promise<SetKey> {
  const pair = await generateKeyPair(JWT_ALG, { extractable: true });
  const publicKey = await exportSPKI(pair.publicKey);
  return { kid: await keyId(publicKey), status, publicKey, privateKey: await exportPKCS8(pair.privateKey) };
}

/** The keys of a secret in either shape: `{keys: [...]}` or the old `{privateKey?, publicKey}` (one current key). */
export async function readKeySet(value: object): Promise<SetKey[]> {
  const secret = value as Record<string, unknown>;
  if (Array.isArray(secret.keys)) {
    const keys: SetKey[] = [];
    for (const k of secret.keys as unknown[]) {
      const e = k as Partial<SetKey> | null;
      if (!e || typeof e.kid !== 'string' || typeof e.publicKey !== 'string' || !['current', 'next', 'previous'].includes(e.status as string)) {
        throw new KeySetError('the JWT secret has a key without kid, status (current, next or previous) or publicKey');
      }
      keys.push({ ...e } as SetKey);
    }
    if (keys.filter((k) => k.status === 'current').length !== 1) throw new KeySetError('the JWT secret must have exactly one current key');
    return keys;
  }
  if (typeof secret.publicKey !== 'string') throw new KeySetError('the JWT secret has no publicKey and no keys');
  const legacy: SetKey = { kid: await keyId(secret.publicKey), status: 'current', publicKey: secret.publicKey };
  if (typeof secret.privateKey === 'string') legacy.privateKey = secret.privateKey;
  return [legacy];
}

/** The secret for a set of keys: the set, and the current key at the top level for old readers. */
export function keySetSecret(keys: SetKey[]): KeySetSecret {
  const current = keys.find((k) => k.status === 'current');
  if (!current) throw new KeySetError('a key set needs a current key');
  const out: KeySetSecret = { publicKey: current.publicKey, keys };
  if (current.privateKey !== undefined) out.privateKey = current.privateKey;
  return out;
}

/** A first secret: one current key. */
export async function newKeySetSecret(): Promise<KeySetSecret> {
  return keySetSecret([await generateKey('current')]);
}

/** `jwt-public` from `jwt`: the same set without a private key. */
export async function publicKeySet(secret: object): Promise<KeySetSecret> {
  const keys = (await readKeySet(secret)).map(({ privateKey: _drop, ...pub }) => pub);
  return keySetSecret(keys);
}

/** Whether a `previous` key is still within its grace at `now`. */
export function stillAccepted(key: SetKey, now: number): boolean {
  if (key.status !== 'previous') return true;
  return key.expiresAt !== undefined && Date.parse(key.expiresAt) > now;
}

// --- the stages of a rotation (the playbooks run them; pure apart from key generation) -----------

/** Stage 1: a new key as `next` (kept when one is staged already). */
export async function stageNextKey(secret: object): Promise<{ secret: KeySetSecret; staged: boolean }> {
  const keys = await readKeySet(secret);
  if (keys.some((k) => k.status === 'next')) return { secret: keySetSecret(keys), staged: false };
  return { secret: keySetSecret([...keys, await generateKey('next')]), staged: true };
}

/** Stage 2: `next` becomes current; current becomes previous until `previousUntil`; an older previous goes. */
export async function promoteNextKey(secret: object, previousUntil: Date): Promise<{ secret: KeySetSecret; promoted: boolean }> {
  const keys = await readKeySet(secret);
  const next = keys.find((k) => k.status === 'next');
  if (!next) return { secret: keySetSecret(keys), promoted: false };
  const out: SetKey[] = [];
  for (const k of keys) {
    if (k.status === 'next') out.push({ ...k, status: 'current' });
    else if (k.status === 'current') out.push({ ...k, status: 'previous', expiresAt: previousUntil.toISOString() });
  }
  return { secret: keySetSecret(out), promoted: true };
}

/** Drops `previous` keys whose grace has passed (their tokens have expired). */
export async function dropExpiredKeys(secret: object, now: Date): Promise<{ secret: KeySetSecret; dropped: number }> {
  const keys = await readKeySet(secret);
  const kept = keys.filter((k) => stillAccepted(k, now.getTime()));
  return { secret: keySetSecret(kept), dropped: keys.length - kept.length };
}
