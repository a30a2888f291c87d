// The AMI a service stack runs: the inventory's ami, else the stack's current one, else (a new
// stack, or -e ami=latest) the latest AL2023 from the public SSM parameter.
import t from 'tap';
import { RefusedError } from '../../playbooks/lib/errors.js';
import { pinnedImage } from '../../playbooks/lib/modules/pinned-image.js';

const latest = (id: string | undefined) => () => Promise.resolve(id);

t.test('choices', async (t) => {
  t.match(await pinnedImage({ architecture: 'arm64', moveToLatest: false }, latest('ami-00000000000000002')), { imageId: 'ami-00000000000000002', changes: false }, 'a new stack: the latest');
  t.match(await pinnedImage({ architecture: 'arm64', moveToLatest: false, current: 'ami-00000000000000001' }, latest('ami-00000000000000002')),
    { imageId: 'ami-00000000000000001', changes: false, why: /keeps ami-00000000000000001; the latest .* is ami-00000000000000002/ }, 'an existing stack keeps its AMI when latest moved');
  t.match(await pinnedImage({ architecture: 'arm64', moveToLatest: true, current: 'ami-00000000000000001' }, latest('ami-00000000000000002')),
    { imageId: 'ami-00000000000000002', changes: true, why: /ami-00000000000000001 → ami-00000000000000002 .*rolls/ }, '-e ami=latest moves it');
  t.match(await pinnedImage({ architecture: 'arm64', moveToLatest: true, current: 'ami-00000000000000002' }, latest('ami-00000000000000002')), { changes: false }, 'already the latest');
  t.match(await pinnedImage({ architecture: 'x86_64', moveToLatest: true, pinned: 'ami-0000000000000000a', current: 'ami-00000000000000001' }, latest('ami-00000000000000002')),
    { imageId: 'ami-0000000000000000a', changes: true }, "the inventory's ami wins over everything");
  t.match(await pinnedImage({ architecture: 'x86_64', moveToLatest: false, pinned: 'ami-0000000000000000a', current: 'ami-0000000000000000a' }, latest(undefined)), { changes: false });
  await t.rejects(pinnedImage({ architecture: 'arm64', moveToLatest: false }, latest(undefined)), RefusedError, 'no parameter and nothing to keep: refused with what to do');
});
