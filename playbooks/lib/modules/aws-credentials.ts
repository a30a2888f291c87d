// The first task of the deploy and destroy plays: the credentials work, and the account they belong
// to (it names the artifacts bucket), said with the region and, against an emulator, its endpoint.
import { type TaskSpec, ok } from '../runner.js';

export interface CredentialsApi {
  region: string;
  checkCredentials(): Promise<void>;
  accountId(): Promise<string>;
}

export function credentialsTask(apis: CredentialsApi, onAccount: (account: string) => void): TaskSpec {
  return {
    name: 'aws credentials',
    tags: ['always'],
    run: async () => {
      await apis.checkCredentials();
      const account = await apis.accountId();
      onAccount(account);
      return ok(`account ${account}, region ${apis.region}${process.env.AWS_ENDPOINT_URL ? `, endpoint ${process.env.AWS_ENDPOINT_URL}` : ''}`);
    },
  };
}
