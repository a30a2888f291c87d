// Refresh tokens: opaque (32 random bytes, base64url), kept only as their SHA-256, one family per
// login. Using one spends it and hands out the next of its family; a spent one presented again
// means it was copied, so its whole family is revoked (the thief's and the owner's next refresh
// both fail, and the owner logs in again). Logout revokes the family; a password change revokes
// every family of the user. Spending happens under a row lock, so two concurrent uses of one token
// are one refresh and one reuse.
import { createHash, randomBytes } from 'node:crypto';
import type { Sequelize, Transaction } from 'sequelize';
import type { Database } from '../kit/db.js';
import { execute, selectOne, sqlDateTime } from '../kit/sql.js';

export type RotateOutcome =
  | { outcome: 'rotated'; userId: string; token: string }
  | { outcome: 'unknown' | 'expired' | 'revoked' }
  | { outcome: 'reused'; userId: string }
  | { outcome: 'account-gone'; userId: string };

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');
const newToken = (): string => randomBytes(32).toString('base64url');

export class RefreshTokens {
  constructor(
    private readonly db: Database,
    readonly ttlSeconds: number,
  ) {}

  private get sql(): Sequelize {
    return this.db.sequelize;
  }

  /** A new family (a login): its first token. */
  async issue(userId: string): Promise<string> {
    return this.insert(userId, randomBytes(16).toString('hex'));
  }

  /**
   * Spends `token` and returns the next of its family, unless it is unknown, expired, revoked,
   * spent already (then the family is revoked) or its user is gone (`userExists` says no).
   */
  async rotate(token: string, userExists: (userId: string) => Promise<boolean>): Promise<RotateOutcome> {
    const now = sqlDateTime(new Date());
    return this.db.transaction(async (t) => {
      const row = await selectOne<{ id: string; familyId: string; userId: string; used: 0 | 1; revoked: 0 | 1; expired: 0 | 1 }>(
        this.sql,
        `SELECT id, family_id AS familyId, CAST(user_id AS CHAR) AS userId, used_at IS NOT NULL AS used,
                revoked_at IS NOT NULL AS revoked, expires_at <= ? AS expired
           FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`,
        [now, hashOf(token)],
        t,
      );
      if (!row) return { outcome: 'unknown' };
      if (Number(row.revoked)) return { outcome: 'revoked' };
      if (Number(row.used)) {
        await this.revokeFamily(row.familyId, t);
        return { outcome: 'reused', userId: row.userId };
      }
      if (Number(row.expired)) return { outcome: 'expired' };
      if (!(await userExists(row.userId))) {
        await this.revokeFamily(row.familyId, t);
        return { outcome: 'account-gone', userId: row.userId };
      }
      await execute(this.sql, 'UPDATE refresh_tokens SET used_at = ? WHERE id = ?', [now, row.id], t);
      return { outcome: 'rotated', userId: row.userId, token: await this.insert(row.userId, row.familyId, t) };
    });
  }

  /** Logout: the family of `token` ends (nothing happens for an unknown token). */
  async revokeFamilyOf(token: string): Promise<void> {
    const row = await selectOne<{ familyId: string }>(this.sql, 'SELECT family_id AS familyId FROM refresh_tokens WHERE token_hash = ?', [hashOf(token)]);
    if (row) await this.revokeFamily(row.familyId);
  }

  /** Every session of the user ends (password change). */
  async revokeUser(userId: string): Promise<number> {
    const r = await execute(this.sql, 'UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', [sqlDateTime(new Date()), userId]);
    return r.affectedRows;
  }

  /**
   * Deletes up to `batch` tokens that expired more than `graceSeconds` ago (spent, revoked or
   * never used alike: none of them can refresh any more). The grace keeps a just-expired token
   * known for a while, so a spent one presented again still revokes its family (a theft signal).
   * Safe from any number of instances.
   */
  async purgeExpired(batch: number, graceSeconds: number, now = new Date()): Promise<number> {
    const cutoff = sqlDateTime(new Date(now.getTime() - graceSeconds * 1000));
    const r = await execute(this.sql, 'DELETE FROM refresh_tokens WHERE expires_at < ? ORDER BY expires_at LIMIT ?', [cutoff, batch]);
    return r.affectedRows;
  }

  private async revokeFamily(familyId: string, t?: Transaction): Promise<void> {
    await execute(this.sql, 'UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', [sqlDateTime(new Date()), familyId], t);
  }

  private async insert(userId: string, familyId: string, t?: Transaction): Promise<string> {
    const token = newToken();
    const now = new Date();
    await execute(
      this.sql,
      'INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      [hashOf(token), familyId, userId, sqlDateTime(now), sqlDateTime(new Date(now.getTime() + this.ttlSeconds * 1000))],
      t,
    );
    return token;
  }
}
