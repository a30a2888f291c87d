// The database bootstrap module: invokes the bootstrap function (the bootstrap stack's Lambda, inside
// the VPC) and waits for its report (RequestResponse). Under --check the function runs in check
// mode: it reads only and says what it would do. A function error (FunctionError, with the
// payload's errorMessage) fails the task with that message. The report's per-service lines become
// the play's `bootstrap <service>` tasks.
import type { LambdaApi } from '../aws/lambda.js';
import type { BootstrapReport, ServiceReport } from '../bootstrap/bootstrap.js';
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../runner.js';

export interface InvokeBootstrapArgs {
  /** The bootstrap stack's FunctionName output; none when the stack is not deployed (a first --check). */
  functionName: string | undefined;
  /** Services whose database password the function rotates (-e rotate=database), by alternating users. */
  rotate?: readonly string[] | undefined;
}

export interface InvokeBootstrapResult {
  outcome: TaskOutcome;
  report?: BootstrapReport;
}

export async function invokeBootstrap(args: InvokeBootstrapArgs, lambda: LambdaApi, ctx: TaskContext): Promise<InvokeBootstrapResult> {
  if (!args.functionName) {
    if (ctx.check) return { outcome: skipped('the bootstrap function is not deployed yet: a deploy creates it, then makes every database, user and schema') };
    throw new Error('the bootstrap stack has no FunctionName output: deploy the bootstrap stack first');
  }
  ctx.progress(`invoking ${args.functionName}${ctx.check ? ' in check mode' : ''}`);
  const answer = await lambda.invoke(args.functionName, args.rotate?.length ? { check: ctx.check, rotate: [...args.rotate] } : { check: ctx.check });
  if (answer.functionError) throw new Error(`${args.functionName} failed: ${errorMessageOf(answer.payload, answer.functionError)}`);
  const report = reportOf(answer.payload, args.functionName);
  const touched = report.services.filter((s) => s.status === 'changed').map((s) => s.service);
  const summary = touched.length ? `${ctx.check ? 'would change' : 'changed'} ${touched.join(', ')}` : 'every database, user and schema up to date';
  // The function ran; under check it changed nothing, and the services' tasks say what would change.
  return { outcome: touched.length && !ctx.check ? changed(summary) : ok(summary), report };
}

/** One service's line of the report as a task outcome. */
export function serviceOutcome(report: BootstrapReport | undefined, service: string): TaskOutcome {
  const line = report?.services.find((s) => s.service === service);
  if (!line) return skipped(report ? 'not in the bootstrap function\'s report (deploy the bootstrap stack again)' : 'the bootstrap did not run');
  return line.status === 'changed' ? changed(line.did.join('; ')) : ok('database, user and schema up to date');
}

function errorMessageOf(payload: unknown, functionError: string): string {
  if (payload && typeof payload === 'object' && 'errorMessage' in payload && typeof payload.errorMessage === 'string') return payload.errorMessage;
  return `${functionError} error${typeof payload === 'string' && payload ? `: ${payload.slice(0, 300)}` : ''}`;
}

function reportOf(payload: unknown, functionName: string): BootstrapReport {
  const bad = () => new Error(`${functionName} answered without a bootstrap report: deploy the bootstrap stack again`);
  if (!payload || typeof payload !== 'object' || !('services' in payload) || !Array.isArray(payload.services)) throw bad();
  const services: ServiceReport[] = payload.services.map((s: unknown) => {
    if (!s || typeof s !== 'object') throw bad();
    const r = s as Partial<ServiceReport>;
    if (typeof r.service !== 'string' || (r.status !== 'ok' && r.status !== 'changed') || !Array.isArray(r.did)) throw bad();
    return { service: r.service, status: r.status, did: r.did.map(String) };
  });
  return { check: 'check' in payload && payload.check === true, services };
}
