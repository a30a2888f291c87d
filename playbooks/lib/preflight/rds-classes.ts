// RDS for MySQL's default max_connections, {DBInstanceClassMemory/12582880}, from the memory of
// the instance class. RDS takes DBInstanceClassMemory a little below the class's nominal memory
// (what the OS and RDS's own processes keep), so the real default is slightly lower: the budget
// treats these figures as the ceiling, not as a target.

const GIB = 1024 ** 3;

/** GiB of memory per size, by family shape. */
const BURSTABLE = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, '2xlarge': 32 };
const GENERAL = { large: 8, xlarge: 16, '2xlarge': 32, '4xlarge': 64, '8xlarge': 128, '12xlarge': 192, '16xlarge': 256, '24xlarge': 384 };
const MEMORY = { large: 16, xlarge: 32, '2xlarge': 64, '4xlarge': 128, '8xlarge': 256, '12xlarge': 384, '16xlarge': 512, '24xlarge': 768 };

const FAMILIES: Record<string, Record<string, number>> = {
  t3: BURSTABLE, t4g: BURSTABLE,
  m5: GENERAL, m6g: GENERAL, m6i: GENERAL, m7g: GENERAL, m7i: GENERAL, m8g: GENERAL,
  r5: MEMORY, r6g: MEMORY, r6i: MEMORY, r7g: MEMORY, r7i: MEMORY, r8g: MEMORY,
};

/** The nominal memory of an RDS instance class in bytes, or undefined for a class this table does not know. */
export function classMemoryBytes(instanceClass: string): number | undefined {
  const [db, family, size] = instanceClass.split('.');
  if (db !== 'db' || !family || !size) return undefined;
  const gib = FAMILIES[family]?.[size];
  return gib === undefined ? undefined : gib * GIB;
}

/** RDS for MySQL's default max_connections for a class, or undefined when its memory is not known. */
export function defaultMaxConnections(instanceClass: string): number | undefined {
  const bytes = classMemoryBytes(instanceClass);
  return bytes === undefined ? undefined : Math.floor(bytes / 12_582_880);
}

/** The families the table knows, for the message about one it does not. */
export const KNOWN_CLASS_FAMILIES = Object.keys(FAMILIES).map((f) => `db.${f}`);
