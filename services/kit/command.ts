// The body of a service's operator commands (seed, create-admin): connect with DB_SECRET, bring the
// schema up to date, run, close. A problem ends the command with one line on stderr and exit 1.
import { oneOf, secretRef, type Env } from './config.js';
import { connectDatabase, type Database, type TlsMode } from './db.js';
import { migrateUp, type Migration } from './migrate.js';
import { SecretSource } from './secrets.js';
import { describeStartError } from './service.js';

/** A refusal whose message already says what to do. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export async function runDatabaseCommand(
  command: { service: string; name: string; migrations: readonly Migration[] },
  fn: (db: Database) => Promise<void>,
  env: Env = process.env,
): Promise<void> {
  try {
    const secret = new SecretSource(secretRef(env, 'DB_SECRET'));
    const db = await connectDatabase({ secret, poolMax: 4, tls: oneOf<TlsMode>(env, 'DB_TLS', ['auto', 'on', 'off'], 'auto') });
    try {
      await migrateUp(db.sequelize, command.migrations);
      await fn(db);
    } finally {
      await db.close();
    }
  } catch (err) {
    process.stderr.write(`saleday-${command.service} ${command.name}: ${describeStartError(err)}\n`);
    process.exitCode = 1;
  }
}
