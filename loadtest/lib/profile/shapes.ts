// The building blocks of the profile's YAML shape (TypeBox): every schema of the profile, its
// threshold kinds, feeder kinds and steps is written with these, so a kind reads like the rest.
// Each description is the "fix" a problem at that place shows.
import { Type, type TObject, type TProperties } from '@sinclair/typebox';

export const DURATION_HELP = 'a duration such as 30s, 2m, 1h or 500ms (a bare number is seconds)';

export const Dur = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: ${DURATION_HELP}` });
export const Ratio = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: a percentage such as 1% or a fraction such as 0.01` });
export const Latency = (what: string) => Type.Union([Type.String(), Type.Number()], { description: `${what}: a latency such as 250ms or 1.5s (a bare number is milliseconds)` });
export const Name = (what: string) => Type.String({ minLength: 1, pattern: '^[A-Za-z0-9][\\w.-]*$', description: `${what}: letters, digits, - _ . (e.g. flash-spike)` });
/** A mapping with exactly these keys; `description` is what the whole mapping should look like. */
export const Obj = <T extends TProperties>(props: T, description: string): TObject<T> => Type.Object(props, { additionalProperties: false, description });
