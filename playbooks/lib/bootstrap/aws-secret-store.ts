// Secrets Manager as the bootstrap's secret store (inside the bootstrap function on AWS): a name is
// a secret id or ARN. A secret that does not exist reads as undefined and is created on put.
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from './secret-store.js';

const notFound = (err: unknown) => (err as { name?: string }).name === 'ResourceNotFoundException';

export function awsSecretStore(client: Pick<SecretsManagerClient, 'send'>, opts: { tags: Record<string, string>; description: (name: string) => string }): SecretStore {
  return {
    async get(name) {
      let text: string | undefined;
      try {
        text = (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw new Error(`could not read secret ${name} (${(err as Error).name})`);
      }
      try {
        const value: unknown = JSON.parse(text ?? '');
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
      } catch {
        // reported below, without the text
      }
      throw new Error(`secret ${name} is not a JSON object`);
    },
    async put(name, value) {
      const SecretString = JSON.stringify(value);
      try {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
      } catch (err) {
        if (!notFound(err)) throw new Error(`could not store secret ${name} (${(err as Error).name})`);
        await client.send(
          new CreateSecretCommand({ Name: name, SecretString, Description: opts.description(name), Tags: Object.entries(opts.tags).map(([Key, Value]) => ({ Key, Value })) }),
        );
      }
    },
    ref: (name) => `aws:${name}`,
  };
}
