// `node dist/services/users/create-admin.js --email admin@example.com [--name "Shop admin"]`
// Creates the admin account in DB_SECRET's database (migrating first). The password comes from
// ADMIN_PASSWORD or standard input (first line; typed without echo on a terminal); there is no
// default. Exit 0 when the admin exists afterwards, 1 with one line saying what to do otherwise.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CommandError, runDatabaseCommand } from '../kit/command.js';
import { Type } from '@sinclair/typebox';
import { Email, Text, validator } from '../kit/validation.js';
import { ensureAdmin } from './admin.js';
import { migrations } from './migrations/index.js';
import { createPasswordHasher } from './passwords.js';
import { readScryptLogN } from './service.js';
import { UserStore } from './user-store.js';

const USAGE = 'usage: node dist/services/users/create-admin.js --email <address> [--name <name>]  (password from ADMIN_PASSWORD or stdin)';
const Args = validator(Type.Object({ email: Email(), name: Text({ maxLength: 100 }) }));

async function readPassword(): Promise<string> {
  const fromEnv = process.env.ADMIN_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const tty = process.stdin.isTTY === true;
  // On a terminal, prompt on stderr and echo nothing; from a pipe, read the first line.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: tty ? muted : undefined, terminal: tty });
  if (tty) process.stderr.write('admin password: ');
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
    return '';
  } finally {
    rl.close();
    if (tty) process.stderr.write('\n');
  }
}

let args: { email: string; name: string };
try {
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } }, strict: true });
  if (values.email === undefined) throw new Error('--email is required');
  args = Args({ email: values.email, name: values.name ?? 'Administrator' }, 'arguments');
} catch (err) {
  process.stderr.write(`saleday-users create-admin: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

await runDatabaseCommand({ service: 'users', name: 'create-admin', migrations }, async (db) => {
  const password = await readPassword();
  if (password === '') throw new CommandError('no password given: set ADMIN_PASSWORD or pipe the password on standard input');
  const hasher = createPasswordHasher(readScryptLogN(process.env));
  const { outcome, id } = await ensureAdmin(new UserStore(db.sequelize), hasher, { ...args, password });
  const said = { created: 'created', unchanged: 'already exists, unchanged', 'password-updated': 'already exists, password updated' }[outcome];
  process.stdout.write(`admin ${args.email} (id ${id}) ${said}\n`);
});
