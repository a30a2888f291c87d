// JWT with jose. Only the users service signs (ES256, the current key of the `jwt` key set,
// services/kit/key-set.ts); every service verifies with the public key set (`jwt-public`). Tokens
// carry the user id, email and role, and the signing key's id in the header (`kid`). Both sides
// read their secret through a SecretSource, so a rotated set reaches them without a restart: the
// signer signs with whatever is current in the (periodically re-read) secret; the verifier
// accepts the current, next and unexpired previous keys, and a kid it does not know makes it
// re-read the secret once (coalesced, at most once per interval) before it answers 401.
// A token verified once is remembered until it expires, for as long as the key that verified it is
// still accepted: the same answer jose would give again, without an ECDSA verification (a thread-
// pool job through WebCrypto) on every request of a customer's session.
import { LRUCache } from 'lru-cache';
import { SignJWT, jwtVerify, importPKCS8, importSPKI, decodeProtectedHeader, errors as joseErrors, type CryptoKey } from 'jose';
import type { Request } from 'restify';
import { forbidden, unauthorized } from './errors.js';
import { JWT_ALG, readKeySet, stillAccepted, newKeySetSecret, type KeySetSecret, type SetKey } from './key-set.js';
import type { SecretSource } from './secrets.js';

export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  email: string;
  role: Role;
}

const ISSUER = 'saleday-users';
const AUDIENCE = 'saleday';
const ALG = JWT_ALG;

/** The variable users reads the access token lifetime from; a rotation keeps the previous key this long. */
export const TOKEN_TTL_ENV = 'TOKEN_TTL_SECONDS';
/** The longest default lifetime users has had: what a rotation assumes when the inventory does not set TOKEN_TTL_SECONDS. */
export const TOKEN_TTL_ASSUMED_SECONDS = 3600;
/** Tokens a verifier remembers as verified (about 0.5 KiB each). */
const VERIFIED_TOKENS = 10_000;
/** A verifier re-reads its secret for an unknown kid at most this often. */
const UNKNOWN_KID_REFETCH_MS = 1_000;

/** The signing secret: a key set (services/kit/key-set.ts) or the old {privateKey, publicKey}. */
export type JwtKeySecret = KeySetSecret | { privateKey?: string; publicKey: string };

/** A first signing secret: a key set of one current key. */
export async function generateSigningKeys(): Promise<KeySetSecret> {
  return newKeySetSecret();
}

/** The secret's value as it is now: a fixed one (tests, tools) or a SecretSource (services). */
type SecretValue = () => Promise<object>;

/** Imported keys, computed once per secret value (the value object changes when the secret is re-read). */
class KeyTable {
  private value: object | undefined;
  private table: Promise<Map<string, { key: SetKey; publicKey: CryptoKey; privateKey?: CryptoKey }>> | undefined;

  constructor(private readonly withPrivate: boolean) {}

  async of(value: object): Promise<Map<string, { key: SetKey; publicKey: CryptoKey; privateKey?: CryptoKey }>> {
    if (value !== this.value || !this.table) {
      this.value = value;
      this.table = (async () => {
        const out = new Map<string, { key: SetKey; publicKey: CryptoKey; privateKey?: CryptoKey }>();
        for (const key of await readKeySet(value)) {
          const entry: { key: SetKey; publicKey: CryptoKey; privateKey?: CryptoKey } = { key, publicKey: await importSPKI(key.publicKey, ALG) };
          if (this.withPrivate && key.privateKey !== undefined) entry.privateKey = await importPKCS8(key.privateKey, ALG);
          out.set(key.kid, entry);
        }
        return out;
      })();
      this.table.catch(() => {
        this.value = undefined;
      });
    }
    return this.table;
  }
}

export class TokenSigner {
  private readonly keys = new KeyTable(true);

  private constructor(
    private readonly secret: SecretValue,
    readonly ttlSeconds: number,
  ) {}

  /** Signs with the current key of a fixed secret. */
  static async fromSecret(secret: object, ttlSeconds: number): Promise<TokenSigner> {
    const signer = new TokenSigner(() => Promise.resolve(secret), ttlSeconds);
    await signer.currentKey();
    return signer;
  }

  /** Signs with the current key of the secret as the source holds it now (a rotation is followed). */
  static async fromSource(source: SecretSource, ttlSeconds: number): Promise<TokenSigner> {
    const signer = new TokenSigner(() => source.get(), ttlSeconds);
    await signer.currentKey();
    return signer;
  }

  /** The kid new tokens are signed with. */
  async currentKid(): Promise<string> {
    return (await this.currentKey()).kid;
  }

  private async currentKey(): Promise<{ kid: string; key: CryptoKey }> {
    for (const e of (await this.keys.of(await this.secret())).values()) {
      if (e.key.status !== 'current') continue;
      if (!e.privateKey) throw new Error('the JWT signing secret has no privateKey for its current key');
      return { kid: e.key.kid, key: e.privateKey };
    }
    throw new Error('the JWT signing secret has no current key');
  }

  async sign(p: Principal): Promise<string> {
    const { kid, key } = await this.currentKey();
    return new SignJWT({ email: p.email, role: p.role })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid })
      .setSubject(p.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(key);
  }
}

export class TokenVerifier {
  private readonly keys = new KeyTable(false);
  /** token → what verifying it gave, the key that verified it and its expiry (ms). */
  private readonly verified = new LRUCache<string, { principal: Principal; kid: string | undefined; key: CryptoKey; expiresAtMs: number }>({ max: VERIFIED_TOKENS });
  private lastRefetch = 0;

  private constructor(
    private readonly secret: SecretValue,
    private readonly refetch: (() => Promise<unknown>) | undefined,
    private readonly refetchIntervalMs: number,
  ) {}

  /** Verifies with a fixed secret (a key set or the old {publicKey}). */
  static async fromSecret(secret: object): Promise<TokenVerifier> {
    const verifier = new TokenVerifier(() => Promise.resolve(secret), undefined, 0);
    await verifier.keys.of(secret);
    return verifier;
  }

  /** Verifies with the secret as the source holds it; an unknown kid re-reads it (at most once per `refetchIntervalMs`). */
  static async fromSource(source: SecretSource, opts: { refetchIntervalMs?: number } = {}): Promise<TokenVerifier> {
    const verifier = new TokenVerifier(() => source.get(), () => source.refresh(), opts.refetchIntervalMs ?? UNKNOWN_KID_REFETCH_MS);
    await verifier.keys.of(await source.get());
    return verifier;
  }

  /** The keys a token may be verified with now: its kid's (when accepted), or, without a kid, every accepted key. */
  private async candidates(kid: string | undefined): Promise<CryptoKey[] | undefined> {
    const table = await this.keys.of(await this.secret());
    const now = Date.now();
    if (kid === undefined) return [...table.values()].filter((e) => stillAccepted(e.key, now)).map((e) => e.publicKey);
    const e = table.get(kid);
    if (!e) return undefined;
    return stillAccepted(e.key, now) ? [e.publicKey] : [];
  }

  /** Re-reads the secret for an unknown kid: concurrent tokens share one re-read, and there is at most one per interval. */
  private async refetched(): Promise<boolean> {
    if (this.refetching) return this.refetching;
    if (!this.refetch || Date.now() - this.lastRefetch < this.refetchIntervalMs) return false;
    this.lastRefetch = Date.now();
    this.refetching = this.refetch().then(
      () => true,
      () => false,
    ).finally(() => {
      this.refetching = undefined;
    });
    return this.refetching;
  }

  private refetching: Promise<boolean> | undefined;

  /** Returns the principal, or throws 401 (missing, malformed, expired or forged token, or a retired key). */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    // jose refuses a token once its exp (seconds) is not after the current second.
    if (known && Date.now() < known.expiresAtMs && (await this.candidates(known.kid))?.includes(known.key)) return { ...known.principal };
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = typeof header.kid === 'string' ? header.kid : undefined;
    } catch {
      throw unauthorized('invalid token');
    }
    let keys = await this.candidates(kid);
    if (keys === undefined && (await this.refetched())) keys = await this.candidates(kid);
    if (!keys?.length) throw unauthorized('invalid token');
    let lastError: unknown;
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: [ALG], requiredClaims: ['exp', 'sub'] });
        const role = payload.role;
        if (typeof payload.sub !== 'string' || typeof payload.email !== 'string' || !ROLES.includes(role as Role)) {
          throw unauthorized('invalid token');
        }
        const principal: Principal = { id: payload.sub, email: payload.email, role: role as Role };
        this.verified.set(token, { principal, kid, key, expiresAtMs: payload.exp! * 1000 });
        return { ...principal };
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
    throw unauthorized('invalid token');
  }
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
  return m ? m[1] : undefined;
}

/** The caller's principal; 401 without a valid token, 403 when the role is not among `roles`. */
export async function authenticate(req: Request, verifier: TokenVerifier, ...roles: Role[]): Promise<Principal> {
  const token = bearerToken(req);
  if (!token) throw unauthorized();
  const principal = await verifier.verify(token);
  if (roles.length > 0 && !roles.includes(principal.role)) throw forbidden(`requires role ${roles.join(' or ')}`);
  return principal;
}
