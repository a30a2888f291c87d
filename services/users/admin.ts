// Making the first admin (and later ones): the only way an admin account comes to exist. An
// existing customer is never promoted; an existing admin keeps its account and gets the given
// password if it differs, so running the command again with the same input changes nothing.
import { CommandError } from '../kit/command.js';
import { passwordWeakness } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import type { UserStore } from './user-store.js';

export type AdminOutcome = 'created' | 'unchanged' | 'password-updated';

export async function ensureAdmin(
  users: UserStore,
  hasher: PasswordHasher,
  input: { email: string; name: string; password: string },
): Promise<{ outcome: AdminOutcome; id: string }> {
  const weakness = passwordWeakness(input.password, input);
  if (weakness) throw new CommandError(`the admin password is too weak: ${weakness}`);
  const existing = await users.byEmail(input.email);
  if (!existing) {
    const created = await users.create({ email: input.email, name: input.name, role: 'admin', passwordHash: await hasher.hash(input.password) });
    return { outcome: 'created', id: created.id };
  }
  const id = String(existing.id);
  if (existing.role !== 'admin') {
    throw new CommandError(`${input.email} belongs to a customer account, and customers are never made admin: choose another email for the admin`);
  }
  if (await hasher.verify(input.password, existing.passwordHash)) return { outcome: 'unchanged', id };
  await users.setPasswordHash(id, await hasher.hash(input.password));
  return { outcome: 'password-updated', id };
}
