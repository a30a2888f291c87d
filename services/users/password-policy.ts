// What counts as a weak password: shorter than 10 characters, or guessable by zxcvbn's estimate
// (common passwords, names, dictionary words, keyboard walks, repeats, dates, and anything built
// from the user's own email or name). The answer says why, so the user can pick a better one.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { ApiError } from '../kit/errors.js';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
/** zxcvbn score 3: "safely unguessable: moderate protection from offline slow-hash scenario". */
const MIN_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  return estimator;
}

export interface PasswordOwner {
  email: string;
  name: string;
}

/** undefined when strong enough, otherwise the reason. */
export function passwordWeakness(password: string, owner: PasswordOwner): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `use at least ${MIN_PASSWORD_LENGTH} characters`;
  // zxcvbn prices a user's own words low but can still rate "bob.builder1" safe for bob.builder@…;
  // a password containing a word of the email's local part or of the name is refused outright.
  const localPart = owner.email.slice(0, owner.email.lastIndexOf('@'));
  const ownWords = [localPart, owner.name, ...`${localPart} ${owner.name}`.split(/[\s._+-]+/)].filter((w) => [...w].length >= 3);
  const lower = password.toLowerCase();
  if (ownWords.some((w) => lower.includes(w.toLowerCase()))) return 'do not use your email address or name in it';
  const result = zxcvbn().check(password, [owner.email, ...ownWords]);
  if (result.score >= MIN_SCORE) return undefined;
  const why = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
  return why || 'it is too easy to guess: use a longer passphrase of uncommon words';
}

/** Throws 400 WEAK_PASSWORD with the reason. */
export function assertStrongPassword(password: string, owner: PasswordOwner): void {
  const weakness = passwordWeakness(password, owner);
  if (weakness) throw new ApiError(400, 'WEAK_PASSWORD', `password is too weak: ${weakness}`, { field: 'password' });
}

/** Loads the dictionaries now rather than on the first registration. */
export function warmUpPasswordPolicy(): void {
  zxcvbn();
}
