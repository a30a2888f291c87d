// Versioned migrations with umzug, tracked in the `schema_migrations` table of the service's own
// database. A MySQL named lock serialises instances that migrate at the same start-up.
import { Umzug, SequelizeStorage } from 'umzug';
import type { Model, ModelStatic, QueryInterface, Sequelize } from 'sequelize';
import { QueryTypes } from 'sequelize';

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
}

export interface Migration {
  /** Sortable, unique name, e.g. `0001-create-users`. */
  name: string;
  up(ctx: MigrationContext): Promise<void>;
  down?(ctx: MigrationContext): Promise<void>;
}

/**
 * umzug's storage, reading which migrations ran from the primary: with DB_READ_HOSTS set, a plain
 * SELECT would go to a replica, and a lagging replica would make a migration run twice.
 */
class PrimarySequelizeStorage extends SequelizeStorage {
  override async executed(): Promise<string[]> {
    await this.syncModel();
    // umzug types its model loosely; it is the Sequelize model it defined for schema_migrations.
    const model = this.model as unknown as ModelStatic<Model>;
    const rows = await model.findAll({ order: [[this.columnName, 'ASC']], useMaster: true });
    return rows.map((row) => String(row.get(this.columnName)));
  }
}

export function createMigrator(sequelize: Sequelize, migrations: readonly Migration[]): Umzug<MigrationContext> {
  const names = migrations.map((m) => m.name);
  if (new Set(names).size !== names.length) throw new Error('migration names must be unique');
  return new Umzug<MigrationContext>({
    migrations: [...migrations]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({
        name: m.name,
        up: ({ context }) => m.up(context),
        down: async ({ context }) => {
          if (!m.down) throw new Error(`migration ${m.name} cannot be reverted`);
          await m.down(context);
        },
      })),
    context: { queryInterface: sequelize.getQueryInterface(), sequelize },
    storage: new PrimarySequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
}

/** Runs pending migrations under a named lock; returns the names applied. */
export async function migrateUp(sequelize: Sequelize, migrations: readonly Migration[]): Promise<string[]> {
  return withMigrationLock(sequelize, async () => {
    const applied = await createMigrator(sequelize, migrations).up();
    return applied.map((m) => m.name);
  });
}

export async function migrateDown(sequelize: Sequelize, migrations: readonly Migration[], steps = 1): Promise<string[]> {
  return withMigrationLock(sequelize, async () => {
    const reverted = await createMigrator(sequelize, migrations).down({ step: steps });
    return reverted.map((m) => m.name);
  });
}

export async function migrationStatus(sequelize: Sequelize, migrations: readonly Migration[]): Promise<{ executed: string[]; pending: string[] }> {
  const migrator = createMigrator(sequelize, migrations);
  const [executed, pending] = await Promise.all([migrator.executed(), migrator.pending()]);
  return { executed: executed.map((m) => m.name), pending: pending.map((m) => m.name) };
}

async function withMigrationLock<T>(sequelize: Sequelize, fn: () => Promise<T>): Promise<T> {
  // GET_LOCK is per session, so hold one connection for the lock's whole life.
  return sequelize.transaction(async (transaction) => {
    const lock = `saleday_migrate_${sequelize.getDatabaseName()}`.slice(0, 64);
    const rows = await sequelize.query<{ got: number | null }>('SELECT GET_LOCK(?, 60) AS got', {
      replacements: [lock], type: QueryTypes.SELECT, transaction,
    });
    if (rows[0]?.got !== 1) throw new Error('another instance is migrating this database; timed out after 60 s waiting for it');
    try {
      return await fn();
    } finally {
      await sequelize.query('SELECT RELEASE_LOCK(?)', { replacements: [lock], type: QueryTypes.SELECT, transaction });
    }
  });
}
