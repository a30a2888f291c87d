// What compiling a profile section needs besides its YAML: the problem list, and the conversions
// (durations, ratios) that report a bad value at its place and go on, so that every problem of a
// profile is found in one pass.
import type { PathKey, YamlProblems } from '../../../environment/index.js';
import { parseDuration, parseRatio } from '../units.js';
import { DURATION_HELP } from './shapes.js';

export class ProfileCompiler {
  constructor(readonly problems: YamlProblems) {}

  /** Records a problem at `path`; `atKey` points at the key (a bad name) rather than its value. */
  add(path: PathKey[], problem: string, fix: string, atKey = false): void {
    this.problems.add(path, problem, fix, { atKey });
  }

  /** Milliseconds; 0 (and a problem) when `value` is not a duration, or not positive when it must be. */
  duration(value: unknown, path: PathKey[], what: string, positive = false): number {
    const ms = parseDuration(value);
    if (ms === undefined || (positive && ms <= 0)) {
      this.add(path, `${JSON.stringify(value)} is not ${positive ? 'a positive duration' : 'a duration'}`, `write ${what} as ${DURATION_HELP}`);
      return 0;
    }
    return ms;
  }

  /** A fraction from 0 to 1; 0 (and a problem) when `value` is not one. */
  ratio(value: unknown, path: PathKey[]): number {
    const v = parseRatio(value);
    if (v === undefined) this.add(path, `${JSON.stringify(value)} is not a ratio from 0 to 100%`, 'write a percentage such as 1% or a fraction such as 0.01');
    return v ?? 0;
  }

  /** A problem for each name used before. */
  unique(names: string[], path: (i: number) => PathKey[], what: string): void {
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) this.add(path(i), `${what} "${n}" is defined twice`, `give every ${what} its own name`);
    });
  }
}
