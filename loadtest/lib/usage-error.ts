// A usage error: the command line, a profile or a target is wrong. The CLI prints the message
// (which says what to do) and exits 1, without a stack trace.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
