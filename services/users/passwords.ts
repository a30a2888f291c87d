// Password hashing with scrypt (node:crypto): a random 16-byte salt per user, parameters stored
// with the hash (so they can be raised later and old hashes still verify), constant-time
// comparison. Hashes look like `scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_BYTES = 16;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
/** Bounds on stored parameters, so a tampered row cannot make verification hog memory or CPU. */
const MAX_LOG_N = 20;

function scrypt(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** What is hashed: NFKC, so the same password typed on different keyboards is the same password. */
const normalise = (password: string): string => password.normalize('NFKC');

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** true when `password` matches; `stored` undefined still spends the same time (unknown user). */
  verify(password: string, stored: string | undefined): Promise<boolean>;
  /** true when a stored hash uses other parameters than the current ones. */
  needsRehash(stored: string): boolean;
}

interface Parsed {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const m = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/.exec(stored);
  if (!m) return undefined;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 1 || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > 4) return undefined;
  return { logN, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

export function createPasswordHasher(logN: number): PasswordHasher {
  // Verifying against this when the user does not exist costs what a real verification costs.
  let decoy: Promise<string> | undefined;
  const hasher: PasswordHasher = {
    async hash(password) {
      const salt = randomBytes(SALT_BYTES);
      const key = await scrypt(normalise(password), salt, logN, BLOCK_SIZE, PARALLELISM);
      return `scrypt$ln=${logN},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64url')}$${key.toString('base64url')}`;
    },
    async verify(password, stored) {
      const parsed = parse(stored ?? (await (decoy ??= hasher.hash(randomBytes(16).toString('hex')))));
      if (!parsed) return false;
      const key = await scrypt(normalise(password), parsed.salt, parsed.logN, parsed.r, parsed.p);
      return key.length === parsed.key.length && timingSafeEqual(key, parsed.key) && stored !== undefined;
    },
    needsRehash(stored) {
      const parsed = parse(stored);
      return !parsed || parsed.logN !== logN || parsed.r !== BLOCK_SIZE || parsed.p !== PARALLELISM;
    },
  };
  return hasher;
}
