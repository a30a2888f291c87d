// Starts a service in-process against a test database, on a free port, stopped at teardown.
import { startService, type RunningService, type ServiceDefinition } from '../../services/kit/service.js';
import type { TestDatabase, TestTap } from './mysql.js';

export async function startTestService<C>(
  t: TestTap,
  def: ServiceDefinition<C>,
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<RunningService<C>> {
  const running = await startService(def, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DB_SECRET: db.refs.db,
    JWT_VERIFY_SECRET: db.refs.jwtVerify,
    JWT_SIGNING_SECRET: db.refs.jwtSigning,
    MIGRATE_ON_START: 'true',
    ...env,
  });
  t.teardown(() => running.close());
  return running;
}
