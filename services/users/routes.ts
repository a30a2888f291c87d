// The users API: register and log in (both throttled), refresh and log out (refresh tokens that
// rotate on use), change the password (ends every session), and who am I. Wrong credentials get one
// answer whether or not the email exists, after the same amount of hashing work.
import type { Request, Response, Server } from 'restify';
import { authenticate, type TokenSigner, type TokenVerifier } from '../kit/auth.js';
import { ApiError, notFound, unauthorized } from '../kit/errors.js';
import type { Logger } from '../kit/log.js';
import type { ServiceCredential } from '../kit/service-credential.js';
import type { LoginThrottle } from './login-throttle.js';
import { assertStrongPassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { RefreshThrottle } from './refresh-throttle.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { RegistrationThrottle } from './registration-throttle.js';
import { ChangePassword, Login, Logout, Refresh, Register } from './schemas.js';
import { emailKey, type PublicUser, type UserStore } from './user-store.js';

export interface UsersRoutesDeps {
  users: UserStore;
  /** Set when other services may ask whether an account exists (GET /api/users/accounts/:id). */
  credential?: ServiceCredential;
  hasher: PasswordHasher;
  signer: TokenSigner;
  verifier: TokenVerifier;
  throttle: LoginThrottle;
  registrations: RegistrationThrottle;
  refreshes: RefreshThrottle;
  refreshTokens: RefreshTokens;
  log: Logger;
}

const WRONG_CREDENTIALS = 'email or password is incorrect';

export function registerUsersRoutes(server: Server, deps: UsersRoutesDeps): void {
  const { users, credential, hasher, signer, verifier, throttle, registrations, refreshes, refreshTokens, log } = deps;

  /** What login and refresh answer: a short-lived access token and the next refresh token. */
  const session = async (user: { id: string; email: string; role: PublicUser['role'] }, refreshToken: string) => ({
    token: await signer.sign({ id: user.id, email: user.email, role: user.role }),
    refreshToken,
    expiresIn: signer.ttlSeconds,
  });

  server.post('/api/users/register', async (req: Request, res: Response) => {
    const body = Register(req.body);
    // Before the hashing work, and whatever the outcome: EMAIL_TAKEN tells whether an account exists.
    await registrations.attempt(throttle.clientOf(req));
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
    const id = String(user.id);
    const answer = await session({ id, email: user.email, role: user.role }, await refreshTokens.issue(id));
    log.info({ reqId: req.id(), userId: id, outcome: 'ok' }, 'login');
    res.header('Cache-Control', 'no-store');
    res.send(200, answer);
  });

  server.post('/api/users/refresh', async (req: Request, res: Response) => {
    const body = Refresh(req.body);
    const client = throttle.clientOf(req);
    await refreshes.check(client);
    const result = await refreshTokens.rotate(body.refreshToken, async (id) => (await users.byId(id)) !== undefined);
    if (result.outcome !== 'rotated') {
      await refreshes.failed(client);
      log.info({ reqId: req.id(), outcome: result.outcome, ...('userId' in result ? { userId: result.userId } : {}) }, 'refresh refused');
      if (result.outcome === 'account-gone') throw new ApiError(401, 'ACCOUNT_GONE', 'the account no longer exists', undefined, { 'WWW-Authenticate': 'Bearer' });
      if (result.outcome === 'reused') throw unauthorized('refresh token already used: every session it belongs to has ended, log in again');
      throw unauthorized('refresh token is not valid: log in again');
    }
    const user = await users.byId(result.userId);
    if (!user) throw new ApiError(401, 'ACCOUNT_GONE', 'the account no longer exists', undefined, { 'WWW-Authenticate': 'Bearer' });
    res.header('Cache-Control', 'no-store');
    res.send(200, await session(user, result.token));
  });

  server.post('/api/users/logout', async (req: Request, res: Response) => {
    const body = Logout(req.body);
    await refreshTokens.revokeFamilyOf(body.refreshToken);
    res.send(204);
  });

  server.post('/api/users/me/password', async (req: Request, res: Response) => {
    const principal = await authenticate(req, verifier);
    const body = ChangePassword(req.body);
    const user = await users.recordById(principal.id);
    if (!user) throw unauthorized('invalid token');
    // Guessing the current password with a stolen access token is throttled like a login.
    const client = throttle.clientOf(req);
    const account = emailKey(user.email);
    await throttle.attempt(client, account);
    if (!(await hasher.verify(body.currentPassword, user.passwordHash))) {
      throw new ApiError(403, 'WRONG_PASSWORD', 'the current password is incorrect', { field: 'currentPassword' });
    }
    await throttle.succeeded(client, account);
    assertStrongPassword(body.newPassword, user);
    await users.setPasswordHash(principal.id, await hasher.hash(body.newPassword));
    const ended = await refreshTokens.revokeUser(principal.id);
    log.info({ reqId: req.id(), userId: principal.id, sessionsEnded: ended }, 'password changed');
    res.send(204);
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
