// Subnet arithmetic for the network stack. Subnet blocks are computed here rather than with
// Fn::Cidr so reviewers read the actual ranges in the rendered template. (Eight lines of IPv4
// maths did not justify a dependency.)

/** The `index`-th block of prefix length `newPrefix` inside `cidr` (e.g. 10.0.0.0/16, /20, 3 → 10.0.48.0/20). */
export function subnetBlock(cidr: string, newPrefix: number, index: number): string {
  const [address, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (newPrefix < prefix || newPrefix > 28) throw new Error(`cannot carve a /${newPrefix} out of ${cidr}`);
  if (index < 0 || index >= 2 ** (newPrefix - prefix)) throw new Error(`${cidr} holds only ${2 ** (newPrefix - prefix)} /${newPrefix} blocks`);
  const base = address!.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const network = base - (base % 2 ** (32 - prefix));
  const start = network + index * 2 ** (32 - newPrefix);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join('.')}/${newPrefix}`;
}
