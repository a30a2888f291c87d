// The bootstrap function's handler turns its environment (as the bootstrap stack sets it: secret
// references, never values) and the event into the bootstrap's input: every service user REQUIRE
// SSL on host %, TLS to the server, the master credentials from the RDS-kept secret, the function's
// AWS credentials passed on to the service commands.
import t from 'tap';
import { inputFrom } from '../../playbooks/lib/bootstrap/handler.js';

const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
const env = {
  DB_HOST: 'db.abc.eu-west-1.rds.amazonaws.com',
  DB_PORT: '3306',
  DB_MASTER_SECRET: `aws:${arn('rds!db-1')}`,
  SERVICE_DB_SECRETS: ['users', 'catalog', 'inventory', 'orders'].map((s) => `${s}=aws:${arn(s)}`).join(','),
  ADMIN_SECRET: 'aws:saleday/staging/admin',
  SEED: 'true',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'x',
  AWS_SESSION_TOKEN: 'y',
  LAMBDA_TASK_ROOT: '/var/task',
};
const master = (id: string) => Promise.resolve(id === arn('rds!db-1') ? { username: 'dbadmin', password: 'pw' } : undefined);

t.test('the environment and the event make the input', async (t) => {
  const input = await inputFrom(env, { check: true }, master);
  t.match(input, {
    master: { host: env.DB_HOST, port: 3306, user: 'dbadmin', password: 'pw', tls: 'auto' },
    seed: true,
    admin: { secret: 'saleday/staging/admin', email: 'admin@shop.example' },
    userHosts: ['%'],
    requireSsl: true,
    check: true,
    commandEnv: { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', AWS_SESSION_TOKEN: 'y' },
  });
  t.same(input.services.map((s) => [s.name, s.secret]), ['users', 'catalog', 'inventory', 'orders'].map((s) => [s, arn(s)]));
  t.same(Object.keys(input.services[0]!.commands), ['migrate', 'create-admin'], 'the commands the declaration lists');
  t.equal((await inputFrom({ ...env, SEED: 'false' }, {}, master)).check, false, 'no event: not a check');
});

t.test('a missing setting or master secret fails with a line saying so, no value in it', async (t) => {
  await t.rejects(inputFrom({ ...env, DB_HOST: undefined }, {}, master), /DB_HOST is not set in the function's environment: deploy the bootstrap stack again/);
  await t.rejects(inputFrom({ ...env, DB_MASTER_SECRET: 'file:/x#y' }, {}, master), /DB_MASTER_SECRET must be an aws:<secret-id> reference/);
  await t.rejects(inputFrom(env, {}, () => Promise.resolve(undefined)), /the master secret .* has no username and password/);
});
