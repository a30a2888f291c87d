// One-command rehearsal: ./playbooks/rehearse.mjs -i <inventory> --profile <profile>
//   deletion protection (refused up front when the teardown would be) → the target's deploy (its
//   preflight first, with the profile's peak; review and approval as usual) → the load, from the
//   generators (./loadtest/run.mjs --generators N) with the verdict, the report and the scaling
//   probes on the environment's groups → the target's destroy unless --keep, also after a failed
//   deploy or load → under the recap, the verdict and the cost in instance-hours from the fleet
//   samples. The local inventory rehearses on this machine with local generators (CI runs it).
import { resolve } from 'node:path';
import { localApis } from '../local/local-apis.js';
import { RefusedError } from '../errors.js';
import { fleetSamples, nodeProcess, runLoad, type LoadRunApi } from '../modules/load-run.js';
import { formatInstanceHours, instanceHours } from '../modules/instance-hours.js';
import { ok, skipped } from '../runner.js';
import type { TargetModule, TargetPlaybook, TargetRun } from '../targets.js';

export interface RehearsalDeps {
  /** how the harness runs (a process; tests may script it) */
  load?: LoadRunApi;
}

export function rehearsal(target: TargetModule, deps: RehearsalDeps = {}): TargetPlaybook {
  return async (run: TargetRun): Promise<void> => {
    const { play, environment: inv, root } = run;
    const o = play.options;
    const deploy = target.deploy;
    const destroy = target.destroy;
    if (!deploy || !destroy) throw new RefusedError(`rehearse needs deploy and destroy, which the ${inv.target} target does not both have`);
    const profile = o.profile;
    if (!profile) throw new RefusedError('rehearse needs --profile <load profile> (e.g. --profile loadtest/profiles/smoke.yaml)');
    const teardown = !o.keep && !o.check;

    await play.task({
      name: 'deletion protection',
      tags: ['always'],
      run: () => {
        if (o.keep) return Promise.resolve(ok('--keep: the environment stays up after the rehearsal'));
        if (o.allowDestroy !== undefined && o.allowDestroy !== inv.environment) {
          throw new RefusedError(`--allow-destroy ${o.allowDestroy} does not name this inventory's environment (${inv.environment}): nothing deployed`);
        }
        if (!inv.database.deletionProtection) return Promise.resolve(ok('the rehearsal tears the environment down afterwards (database.deletionProtection: false)'));
        if (o.allowDestroy === inv.environment) return Promise.resolve(ok(`database.deletionProtection is on; --allow-destroy ${inv.environment} allows the teardown afterwards`));
        if (o.check) return Promise.resolve(ok('database.deletionProtection is on: --check tears nothing down'));
        throw new RefusedError(
          `${run.inventoryFile} sets database.deletionProtection: true and a rehearsal ends by destroying ${inv.environment}: ` +
            `re-run with --keep to leave it up, or with --allow-destroy ${inv.environment} to tear it down. Nothing was deployed`,
        );
      },
    });

    let deployStarted = false;
    let resultFile: string | undefined;
    let reportFile = '';
    let verdict = '';
    try {
      deployStarted = true;
      await deploy(run);
      const stamp = run.now.toISOString().replace(/[:.]/g, '-');
      await play.task({
        name: 'load',
        tags: ['load'],
        run: async (ctx) => {
          if (ctx.check) return skipped(`--check: would load ${inv.environment} with ${profile}${o.generators ? ` from ${o.generators} generators` : ''}`);
          const outcome = await runLoad(
            {
              root,
              profile: resolve(profile),
              target: inv.target === 'local' ? 'local' : run.inventoryFile,
              stateDir: inv.target === 'local' ? localApis(root).dir : undefined,
              url: inv.target === 'aws' && inv.domain?.aliases[0] ? `https://${inv.domain.aliases[0]}` : undefined,
              generators: o.generators,
              // An AWS environment is loaded from generators beside it (ECS Fargate), not from this machine.
              generatorsOn: inv.target === 'aws' ? { aws: run.inventoryFile } : undefined,
              outDir: o.results ? resolve(o.results) : resolve(root, 'build', 'loadtest'),
              runId: `rehearsal-${inv.environment}-${stamp}`,
            },
            deps.load ?? nodeProcess,
            ctx,
          );
          resultFile = outcome.data?.result;
          reportFile = outcome.data?.report ?? '';
          verdict = outcome.data?.verdict ?? '';
          return outcome;
        },
      });
    } finally {
      if (resultFile) {
        const cost = instanceHours(await fleetSamples(resultFile).catch(() => []));
        play.summary.push(`rehearsal: ${verdict || 'no verdict'} · cost ${formatInstanceHours(cost)}${inv.target === 'local' ? ' (local workers)' : ''}`);
        play.summary.push(`rehearsal report: ${reportFile}`);
      }
      if (deployStarted && teardown) {
        if (play.interrupted) play.notice(`interrupted: ${inv.environment} may still be up: ./playbooks/destroy.mjs -i ${run.inventoryFile}`);
        else await destroy(run);
      } else if (deployStarted && o.keep) {
        play.summary.push(`rehearsal: ${inv.environment} stays up (--keep): ./playbooks/destroy.mjs -i ${run.inventoryFile} tears it down`);
      }
    }
  };
}
