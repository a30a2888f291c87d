// What the template checks report: one finding per problem, naming the stack, the place in the
// template and the rule, so a playbook can print them and a test can assert on them.

export interface Finding {
  /** The rule's id: a security rule id (e.g. F22, CKV_AWS_79) or a spec check (e.g. property-name). */
  rule: string;
  severity: 'error' | 'warning';
  /** The stack (file) the template belongs to. */
  stack: string;
  /** The logical id of the resource concerned, when there is one. */
  resource?: string;
  /** Where in the template, e.g. `Resources.Database.Properties.StorageEncrypted`. */
  path: string;
  message: string;
}

export function formatFinding(f: Finding): string {
  return `${f.severity} ${f.rule} ${f.stack}: ${f.path}: ${f.message}`;
}

/** Walks every value under `value`, calling `visit` with its dotted path (arrays as [i]). */
export function walk(value: unknown, path: string, visit: (value: unknown, path: string, key: string | number | undefined) => void, key?: string | number): void {
  visit(value, path, key);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit, i));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit, k);
  }
}
