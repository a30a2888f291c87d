// The errors a playbook distinguishes: each maps to an exit code or a task outcome, and each
// message says what to do instead. None of them ever carries a secret value.

/** Bad command line or inventory: exit code 1, one line, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A module refuses to go on (the message says what would make it go on). */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** Changes are reviewed but nobody approved them (no TTY and no --yes). */
export class ApprovalRequiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalRequiredError';
  }
}

/** No AWS credentials could be found by the SDK's provider chain. */
export class CredentialsMissingError extends Error {
  constructor() {
    super(
      'AWS credentials are needed: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set AWS_PROFILE to a profile ' +
        'from ~/.aws/config (for SSO run `aws sso login --profile <name>` first)',
    );
    this.name = 'CredentialsMissingError';
  }
}

/** Ctrl-C: the message says what is still running and where. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
