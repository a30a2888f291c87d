// Where the bootstrap reads the service database secrets and keeps the admin account's password:
// Secrets Manager on AWS (aws-secret-store.ts), the local secrets file on this machine. Values pass
// through, never printed; messages name a secret, never its value.
import { type SecretsFile, secretRef } from '../local/secrets-file.js';

export interface SecretStore {
  /** The secret's JSON object; undefined when there is no such secret. */
  get(name: string): Promise<Record<string, unknown> | undefined>;
  /** Creates the secret, or gives it a new value. */
  put(name: string, value: Record<string, unknown>): Promise<void>;
  /** The reference a service command reads it by (`aws:<id>`, `file:<path>#<key>`). */
  ref(name: string): string;
}

/** The local target's secrets file as a secret store: a name is a key of the file. */
export function fileSecretStore(file: SecretsFile, localDir: string): SecretStore {
  return {
    get: (name) => Promise.resolve(file.get(name)),
    put: async (name, value) => {
      if (file.set(name, value)) await file.save();
    },
    ref: (name) => secretRef(localDir, name),
  };
}
