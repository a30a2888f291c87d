// scrypt hashing: per-user salt, parameters in the hash, constant-time verification, the same
// work for unknown users, and the password policy.
import t from 'tap';
import { createPasswordHasher } from '../../services/users/passwords.js';
import { passwordWeakness } from '../../services/users/password-policy.js';

const hasher = createPasswordHasher(14);

t.test('hash and verify', async (t) => {
  const a = await hasher.hash('correct horse battery staple');
  const b = await hasher.hash('correct horse battery staple');
  t.match(a, /^scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
  t.not(a, b, 'a fresh salt per hash');
  t.notMatch(a, /horse/);
  t.ok(await hasher.verify('correct horse battery staple', a));
  t.notOk(await hasher.verify('correct horse battery stapler', a));
  t.notOk(await hasher.verify('', a));
  t.notOk(await hasher.verify('correct horse battery staple', undefined), 'an unknown user never verifies');
  t.notOk(await hasher.verify('correct horse battery staple', 'scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'absurd parameters are refused');
  t.notOk(await hasher.verify('x', 'plaintext'), 'a malformed hash never verifies');
});

t.test('passwords are compared after NFKC normalisation', async (t) => {
  const stored = await hasher.hash('ﬁnal café passphrase'); // "ﬁ" ligature, composed é
  t.ok(await hasher.verify('final cafe\u0301 passphrase', stored));
});

t.test('rehash when the cost changes', async (t) => {
  const stored = await hasher.hash('correct horse battery staple');
  t.notOk(hasher.needsRehash(stored));
  t.ok(createPasswordHasher(15).needsRehash(stored));
  t.ok(await createPasswordHasher(15).verify('correct horse battery staple', stored), 'old hashes still verify');
});

t.test('the password policy says why a password is weak', (t) => {
  const owner = { email: 'alice.smith@example.com', name: 'Alice Smith' };
  t.match(passwordWeakness('short', owner), /at least 10 characters/);
  t.match(passwordWeakness('password123', owner), /common/i);
  t.match(passwordWeakness('aaaaaaaaaaaaaaa', owner), /repeat/i);
  t.match(passwordWeakness('alice.smith1', owner), /email address or name/, 'built from the email');
  t.match(passwordWeakness('SMITHsmith-99-x', owner), /email address or name/, 'built from the name');
  t.equal(passwordWeakness('plum-harbour-velvet-42', owner), undefined);
  t.equal(passwordWeakness('example-plum-harbour', owner), undefined, 'the domain is not the user’s own word');
  t.end();
});
