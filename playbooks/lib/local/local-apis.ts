// What the local target's modules talk to, for one local folder, as aws-apis.ts gathers the AWS
// clients: the build, the MySQL server, the secrets file, the services' operator commands and
// the local cloud. Everything lives under .saleday/local/ (SALEDAY_LOCAL_DIR moves it, for tests).
import { join } from 'node:path';
import { localDir } from '../../../localcloud/index.js';
import { type FleetApi, fleetApi } from './fleet-api.js';
import { type BuildApi, tscBuild } from './modules/build.js';
import { type MysqlServerApi, mysqlServerApi } from './mysql-server.js';
import { type RedisServerApi, redisServerApi } from './redis-server.js';
import { SecretsFile } from './secrets-file.js';
import { type ServiceCommandApi, serviceCommands } from './service-command.js';

export interface LocalApis {
  /** The local folder. */
  dir: string;
  build: BuildApi;
  mysql: MysqlServerApi;
  /** The shared store (the machine's Redis or a private redis-server). */
  redis: RedisServerApi;
  /** The secrets file, read once a run, by the first task that needs it. */
  secrets(): Promise<SecretsFile>;
  commands: ServiceCommandApi;
  fleet: FleetApi;
}

/** The local folder of the repository at `root`. */
export function localFolder(root: string): string {
  return localDir(process.env.SALEDAY_LOCAL_DIR ?? join(root, '.saleday/local'));
}

export function localApis(root: string, dir = localFolder(root)): LocalApis {
  let secrets: Promise<SecretsFile> | undefined;
  return {
    dir,
    build: tscBuild,
    mysql: mysqlServerApi(dir),
    redis: redisServerApi(dir),
    secrets: () => (secrets ??= SecretsFile.load(dir)),
    commands: serviceCommands(root),
    fleet: fleetApi(dir),
  };
}
