// The local target's secrets: one JSON file (<local dir>/secrets.json, mode 0600) holding the same
// shapes Secrets Manager holds on AWS, so services read them through `file:<path>#<key>` exactly
// as they read `aws:<secret-id>`. Written atomically (temp file + rename, 0600 from the start);
// values are generated here and never printed.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type SecretsDocument = Record<string, Record<string, unknown>>;

export function secretsPath(localDir: string): string {
  return join(localDir, 'secrets.json');
}

/** A `file:` reference to one key, as services take it. */
export function secretRef(localDir: string, key: string): string {
  return `file:${secretsPath(localDir)}#${key}`;
}

/** The key of a service's database secret (the DB secret shape). */
export function dbSecretKey(service: string): string {
  return `db-${service}`;
}

/** A password MySQL, zxcvbn and a shell all accept: 32 url-safe characters. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export class SecretsFile {
  private constructor(
    readonly path: string,
    private doc: SecretsDocument,
    private dirty: boolean,
    /** The file was readable by group or others (it is made 0600 on save). */
    readonly wasOpen: boolean,
  ) {}

  static async load(localDir: string): Promise<SecretsFile> {
    const path = secretsPath(localDir);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SecretsFile(path, {}, true, false);
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not valid JSON; fix it or remove it (the next deploy generates new secrets and resets the service users' passwords)`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${path} must hold a JSON object of secrets`);
    const mode = (await stat(path)).mode & 0o077;
    return new SecretsFile(path, doc as SecretsDocument, mode !== 0, mode !== 0);
  }

  get<T extends Record<string, unknown>>(key: string): T | undefined {
    return this.doc[key] as T | undefined;
  }

  /** Sets a key; returns whether the value changed. */
  set(key: string, value: Record<string, unknown>): boolean {
    if (JSON.stringify(this.doc[key]) === JSON.stringify(value)) return false;
    this.doc[key] = value;
    this.dirty = true;
    return true;
  }

  /** The key's value, generated and stored when it is missing. */
  async ensure<T extends Record<string, unknown>>(key: string, generate: () => T | Promise<T>): Promise<{ value: T; created: boolean }> {
    const present = this.get<T>(key);
    if (present !== undefined) return { value: present, created: false };
    const value = await generate();
    this.set(key, value);
    return { value, created: true };
  }

  keys(): string[] {
    return Object.keys(this.doc);
  }

  /** Writes the file when anything changed (or its mode was too open); returns whether it wrote. */
  async save(): Promise<boolean> {
    if (!this.dirty) return false;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.doc, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
    this.dirty = false;
    return true;
  }
}
