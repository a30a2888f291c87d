// The AMI a service stack runs, pinned: a deploy never rolls a fleet because "latest" moved. The
// inventory's `ami` wins; otherwise the stack keeps the AMI it runs, and moves to the latest
// Amazon Linux 2023 (the public SSM parameter) only for a new stack or with -e ami=latest. The
// reason is printed and, when the AMI changes, goes into the review.
import { RefusedError } from '../errors.js';

export type Architecture = 'arm64' | 'x86_64';

/** AWS's public parameter with the latest AL2023 AMI id of an architecture. */
export const latestImageParameter = (architecture: Architecture): string => `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;

export interface ImageArgs {
  architecture: Architecture;
  /** The inventory's `ami`. */
  pinned?: string | undefined;
  /** -e ami=latest. */
  moveToLatest: boolean;
  /** The AMI id the stack runs now (undefined for a new stack). */
  current?: string | undefined;
}

export interface ImageChoice {
  imageId: string;
  /** True when the stack's AMI changes (the group rolls). */
  changes: boolean;
  why: string;
}

export async function pinnedImage(args: ImageArgs, latest: (architecture: Architecture) => Promise<string | undefined>): Promise<ImageChoice> {
  const { current, pinned } = args;
  if (pinned) {
    return current === pinned
      ? { imageId: pinned, changes: false, why: `${pinned} (the inventory's ami)` }
      : { imageId: pinned, changes: current !== undefined, why: `${current ? `${current} → ` : ''}${pinned} (the inventory's ami)${current ? ': the group rolls onto it' : ''}` };
  }
  const newest = await latest(args.architecture);
  if (current && !args.moveToLatest) {
    const hint = newest && newest !== current ? `; the latest Amazon Linux 2023 is ${newest} (-e ami=latest rolls the group onto it)` : '';
    return { imageId: current, changes: false, why: `keeps ${current}${hint}` };
  }
  if (!newest) throw new RefusedError(`no AMI id in ${latestImageParameter(args.architecture)}: set ami: in the inventory`);
  if (!current) return { imageId: newest, changes: false, why: `${newest} (the latest Amazon Linux 2023, ${args.architecture})` };
  return newest === current
    ? { imageId: current, changes: false, why: `keeps ${current} (already the latest)` }
    : { imageId: newest, changes: true, why: `${current} → ${newest} (the latest, -e ami=latest): the group rolls onto it` };
}
