// JWT with jose. Only the users service signs (ES256, private key from a secret); every service
// verifies with the public key. Tokens carry the user id, email and role.
import { SignJWT, jwtVerify, importPKCS8, importSPKI, generateKeyPair, exportPKCS8, exportSPKI, errors as joseErrors, type CryptoKey } from 'jose';
import type { Request } from 'restify';
import { forbidden, unauthorized } from './errors.js';

export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  email: string;
  role: Role;
}

const ISSUER = 'saleday-users';
const AUDIENCE = 'saleday';
const ALG = 'ES256';

/** The JSON shape of the signing secret ({privateKey, publicKey} as PEM); verifiers read only publicKey. */
export interface JwtKeySecret {
  privateKey?: string;
  publicKey: string;
}

export async function generateSigningKeys(): Promise<Required<JwtKeySecret>> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  return { privateKey: await exportPKCS8(privateKey), publicKey: await exportSPKI(publicKey) };
}

export class TokenSigner {
  private constructor(private readonly key: CryptoKey, readonly ttlSeconds: number) {}

  static async fromSecret(secret: Record<string, unknown>, ttlSeconds: number): Promise<TokenSigner> {
    if (typeof secret.privateKey !== 'string') throw new Error('the JWT signing secret has no privateKey');
    return new TokenSigner(await importPKCS8(secret.privateKey, ALG), ttlSeconds);
  }

  async sign(p: Principal): Promise<string> {
    return new SignJWT({ email: p.email, role: p.role })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(p.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }
}

export class TokenVerifier {
  private constructor(private readonly key: CryptoKey) {}

  static async fromSecret(secret: Record<string, unknown>): Promise<TokenVerifier> {
    if (typeof secret.publicKey !== 'string') throw new Error('the JWT secret has no publicKey');
    return new TokenVerifier(await importSPKI(secret.publicKey, ALG));
  }

  /** Returns the principal, or throws 401 (missing, malformed, expired or forged token). */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: [ALG], requiredClaims: ['exp', 'sub'] });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || typeof payload.email !== 'string' || !ROLES.includes(role as Role)) {
        throw unauthorized('invalid token');
      }
      return { id: payload.sub, email: payload.email, role: role as Role };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
      throw unauthorized('invalid token');
    }
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
