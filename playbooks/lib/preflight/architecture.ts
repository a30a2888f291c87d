// Instance types against the AMI's architecture: a service's launch template takes the Amazon
// Linux AMI of its instanceType's architecture (cloudformation/service.ts), so every type of its
// Spot mix must be of that architecture too (a Graviton type cannot boot an x86_64 AMI, and back).
import { architectureOf, SHOP_SERVICES, settingsOf, type Environment, type ServiceCatalogue } from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';

export function checkArchitecture(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): CheckReport {
  const r = reporter('architecture');
  for (const { name } of services) {
    const s = settingsOf(inv, name);
    const arch = architectureOf(s.instanceType);
    const types = s.spot?.instanceTypes ?? [];
    const others = types.map((t, i) => ({ t, i })).filter(({ t }) => architectureOf(t) !== arch);
    for (const { t, i } of others) {
      const same = types.filter((x) => architectureOf(x) === arch);
      r.error(
        `services.${name}.spot.instanceTypes[${i}]`,
        `${t} is ${architectureOf(t)}, but the group boots the ${arch} AMI of its instanceType ${s.instanceType}; one AMI serves the whole Spot mix`,
        `replace ${t} with an ${arch} type (${arch === 'arm64' ? 'Graviton, e.g. c7g.large, m7g.large, c6g.large' : 'e.g. c7i.large, m7i.large, c6a.large'})` +
          `${same.length ? `, or drop it and keep ${same.join(', ')}` : ''}; or change instanceType and every Spot type to ${architectureOf(t)}`,
      );
    }
    r.summary(`${name}: ${arch} (${[s.instanceType, ...types.filter((t) => t !== s.instanceType)].join(', ')})`);
  }
  return r.report;
}
