// Signs tokens with a test database's JWT key pair, as the users service would.
import { readFile } from 'node:fs/promises';
import { TokenSigner, type Role } from '../../services/kit/auth.js';
import type { TestDatabase } from './mysql.js';

export async function signToken(db: TestDatabase, role: Role, opts: { id?: string; email?: string; ttlSeconds?: number } = {}): Promise<string> {
  const keys = (JSON.parse(await readFile(db.secretsFile, 'utf8')) as Record<string, Record<string, unknown>>).jwt!;
  const signer = await TokenSigner.fromSecret(keys, opts.ttlSeconds ?? 600);
  return signer.sign({ id: opts.id ?? (role === 'admin' ? '1' : '2'), email: opts.email ?? `${role}@example.com`, role });
}
