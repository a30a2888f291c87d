// The users API: register, log in (throttled), and who am I. Wrong credentials get one answer
// whether or not the email exists, after the same amount of hashing work.
import type { Request, Response, Server } from 'restify';
import { authenticate, type TokenSigner, type TokenVerifier } from '../kit/auth.js';
import { notFound, unauthorized } from '../kit/errors.js';
import type { Logger } from '../kit/log.js';
import type { ServiceCredential } from '../kit/service-credential.js';
import type { LoginThrottle } from './login-throttle.js';
import { assertStrongPassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import { Login, Register } from './schemas.js';
import { emailKey, type UserStore } from './user-store.js';

export interface UsersRoutesDeps {
  users: UserStore;
  /** Set when other services may ask whether an account exists (GET /api/users/accounts/:id). */
  credential?: ServiceCredential;
  hasher: PasswordHasher;
  signer: TokenSigner;
  verifier: TokenVerifier;
  throttle: LoginThrottle;
  log: Logger;
}

const WRONG_CREDENTIALS = 'email or password is incorrect';

export function registerUsersRoutes(server: Server, { users, credential, hasher, signer, verifier, throttle, log }: UsersRoutesDeps): void {
  server.post('/api/users/register', async (req: Request, res: Response) => {
    const body = Register(req.body);
    assertStrongPassword(body.password, body);
    // Every account made here is a customer; admins come only from the create-admin command.
    const user = await users.create({ email: body.email, name: body.name, role: 'customer', passwordHash: await hasher.hash(body.password) });
    log.info({ reqId: req.id(), userId: user.id }, 'user registered');
    res.header('Location', '/api/users/me');
    res.send(201, { id: user.id, email: user.email, name: user.name });
  });

  server.post('/api/users/login', async (req: Request, res: Response) => {
    const body = Login(req.body);
    const client = throttle.clientOf(req);
    const account = emailKey(body.email);
    await throttle.attempt(client, account);
    const user = await users.byEmail(body.email);
    const ok = await hasher.verify(body.password, user?.passwordHash);
    if (!user || !ok) {
      log.info({ reqId: req.id(), outcome: 'failed' }, 'login');
      throw unauthorized(WRONG_CREDENTIALS);
    }
    await throttle.succeeded(client, account);
    if (hasher.needsRehash(user.passwordHash)) {
      await users.setPasswordHash(String(user.id), await hasher.hash(body.password));
    }
    const token = await signer.sign({ id: String(user.id), email: user.email, role: user.role });
    log.info({ reqId: req.id(), userId: String(user.id), outcome: 'ok' }, 'login');
    res.header('Cache-Control', 'no-store');
    res.send(200, { token, expiresIn: signer.ttlSeconds });
  });

  // For other services only (the service credential, never a customer's token): does the account
  // a token was issued to still exist? orders asks before it takes stock for a token.
  if (credential) {
    server.get('/api/users/accounts/:id', async (req: Request, res: Response) => {
      await credential.require(req);
      const user = await users.byId((req.params as Record<string, string | undefined>).id ?? '');
      if (!user) throw notFound('no such account');
      res.header('Cache-Control', 'no-store');
      res.send(200, { id: String(user.id), role: user.role });
    });
  }

  server.get('/api/users/me', async (req: Request, res: Response) => {
    const principal = await authenticate(req, verifier);
    const user = await users.byId(principal.id);
    // A valid token for an account that no longer exists is no longer good for anything.
    if (!user) throw unauthorized('invalid token');
    res.header('Cache-Control', 'private, no-store');
    res.send(200, user);
  });
}
