/**
 * Validates a job definition as an operator writes it (job.json) and turns it into the columns of
 * a `scheduled_jobs` row. Pure: no database, no clock (the caller passes `now`).
 *
 * Every problem is reported at once as `field: message` (dotted paths for nested fields, e.g.
 * `components.0.argv`); messages about an enum name the accepted values. Secret-named keys are
 * refused anywhere: credentials are fetched by `credential_id` while executing, never stored here.
 */
import type { Insertable } from 'kysely';
import { z } from 'zod';
import { toJson } from '../db/dialect.js';
import type { ScheduledJobsTable } from '../db/schema.js';
import { findSecretKeys } from '../queue/payload.js';
import { formatIssue, issueMessage, show, typeName } from './definition-messages.js';
import { MISSED_POLICIES, recurrenceOf } from './occurrences.js';
import { firstOccurrence, nextOccurrenceAfter, SCHEDULE_TYPES, validateRecurrence } from './recurrence.js';

export const JOB_KINDS = ['automation', 'onboarding', 'agent_maintenance'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
/** Largest id an `integer` column holds on PostgreSQL. */
const MAX_ID = 2_147_483_647;

/** Limits of a definition (README, "A job definition"): far above real use, far below what hurts. */
export const JOB_LIMITS = {
  nameLength: 200,
  components: 100,
  /** The definition as JSON, in bytes (UTF-8). */
  definitionBytes: 1024 * 1024,
  /** Times from 1970 to the end of 9999: what ISO-8601 and both databases' readers handle. */
  latestInstant: Date.UTC(9999, 11, 31, 23, 59, 59, 999),
} as const;

/**
 * Control characters (C0, DEL, C1) in a one-line value (a name, a zone, a hostname) are a
 * mistake or an attack on the terminal that lists it; NUL cannot be stored by PostgreSQL at all.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const line = () => z.string().trim().min(1).refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' });

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const expected = `expected one of ${values.join(', ')}`;
  return z.enum(values, {
    error: (iss) => (iss.input === undefined ? `required; ${expected}` : `unknown value ${show(iss.input)}; ${expected}`),
  });
}

function positiveId() {
  const error = (iss: { input?: unknown }): string => `must be a positive integer up to ${MAX_ID}, got ${show(iss.input)}`;
  return z.int({ error }).min(1, { error }).max(MAX_ID, { error });
}

/** ISO-8601 with a zone or offset, or epoch milliseconds → epoch milliseconds. */
const instant = z.unknown().transform((value, ctx) => {
  const ms = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? value : null)
    : typeof value === 'string' ? parseIsoInstant(value)
    : null;
  if (ms !== null && ms <= JOB_LIMITS.latestInstant) return ms;
  ctx.addIssue({
    code: 'custom',
    message: `must be an ISO-8601 time with a zone or offset (e.g. "2026-12-01T02:30:00Z") or epoch milliseconds, from 1970 to 9999, got ${show(value)}`,
  });
  return z.NEVER;
});

const BUILTIN_COMPONENTS: Record<string, z.ZodType> = {
  // The same rules the worker applies when it runs the component (executors/components).
  command: z.looseObject({
    argv: z.array(z.string().min(1)).min(1),
    timeout_seconds: z.number().positive().optional(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string({ error: (iss) => `must be a string, got ${typeName(iss.input)}` })).optional(),
    shell: z.boolean().optional(),
    // Remote (execution_context ssh) only: run it through sudo.
    become: z.boolean().optional(),
    become_user: z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, { error: 'must be a user name' }).optional(),
  }),
  // Shell text run on the target (execution_context ssh); locally through /bin/sh -c.
  script: z.looseObject({
    script: z.string().trim().min(1),
    timeout_seconds: z.number().positive().optional(),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string({ error: (iss) => `must be a string, got ${typeName(iss.input)}` })).optional(),
    become: z.boolean().optional(),
    become_user: z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, { error: 'must be a user name' }).optional(),
  }),
  // Inline playbook YAML run by ansible-playbook on the worker against the frozen targets
  // (execution_context ssh only; executors/ansible).
  ansible_playbook: z.looseObject({
    playbook: z.string().trim().min(1),
    timeout_seconds: z.number().positive().optional(),
    become: z.boolean().optional(),
  }),
  http: z.looseObject({
    url: z.url({ protocol: /^https?$/, error: (iss) => (iss.input === undefined ? 'required' : 'must be an http:// or https:// URL') }),
    method: z.string().regex(/^[A-Za-z]+$/, { error: 'must be an HTTP method name' }).optional(),
    headers: z.record(z.string(), z.string({ error: (iss) => `must be a string, got ${typeName(iss.input)}` })).optional(),
    timeout_seconds: z.number().positive().optional(),
  }),
};
/** Kinds the executors know without a plug-in (device_onboarding only in onboarding jobs). */
const BUILTIN_KINDS = ['command', 'script', 'http', 'device_onboarding', 'ansible_playbook'];

/** Built-in kinds are checked here; other kinds need a plug-in (checked in validateJobDefinition). */
const component = z.looseObject({ kind: line(), name: line().optional() }).superRefine((c, ctx) => {
  const rules = BUILTIN_COMPONENTS[c.kind];
  const result = rules?.safeParse(c, { error: issueMessage });
  for (const iss of result?.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: iss.path, message: iss.message });
});

const TARGET_FIELDS = ['hostnames', 'sites', 'filters', 'onboarding_scope'] as const;
const targets = z.strictObject({
  hostnames: z.array(line()).optional(),
  sites: z.array(positiveId()).optional(),
  filters: z.array(positiveId()).optional(),
  onboarding_scope: z.record(z.string(), z.unknown()).optional(),
});

const nullableString = z
  .string({ error: 'must be a string or null' })
  .trim()
  .min(1)
  .refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' })
  .nullable()
  .default(null);

export const jobDefinitionShape = {
  name: line().max(JOB_LIMITS.nameLength, { error: `must be at most ${JOB_LIMITS.nameLength} characters` }),
  job_kind: oneOf(JOB_KINDS).default('automation'),
  schedule_type: oneOf(SCHEDULE_TYPES),
  start_ts: instant.nullable().default(null),
  time_zone: line().default('UTC'),
  cron_expression: nullableString,
  duration_stop_enabled: z.boolean().default(false),
  expiration: instant.nullable().default(null),
  missed_policy: oneOf(MISSED_POLICIES).default('skip'),
  enabled: z.boolean().default(true),
  targets,
  components: z.array(component).min(1).max(JOB_LIMITS.components, { error: `must have at most ${JOB_LIMITS.components} components` }),
  execution_context: nullableString,
  credential_id: positiveId().nullable().default(null),
  use_service_account: z.boolean().default(false),
};
const FIELDS = Object.keys(jobDefinitionShape);
export const jobDefinitionSchema = z.strictObject(jobDefinitionShape);

/** A job definition after validation: defaults applied, times as epoch milliseconds. */
export type JobDefinition = z.output<typeof jobDefinitionSchema>;
/** The columns to insert into `scheduled_jobs`. */
export type NewScheduledJob = Insertable<ScheduledJobsTable>;
export type JobDefinitionResult = { ok: true; values: NewScheduledJob; definition: JobDefinition } | { ok: false; problems: string[] };

export interface ValidateOptions {
  now: number;
  /** Component kinds with a configured plug-in, accepted besides the built-in ones (default none). */
  pluginKinds?: readonly string[];
}

export function validateJobDefinition(input: unknown, options: ValidateOptions): JobDefinitionResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: [`job definition: must be a JSON object, got ${typeName(input)}`] };
  }
  // Checked first: a huge definition is refused without walking it.
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > JOB_LIMITS.definitionBytes) {
    return { ok: false, problems: [`job definition: ${bytes} bytes as JSON; the limit is ${JOB_LIMITS.definitionBytes} (1 MiB)`] };
  }
  const nul = findNul(input, '');
  if (nul !== null) return { ok: false, problems: [`${nul || 'job definition'}: contains a NUL character (\\u0000), which cannot be stored`] };
  const raw = input as Record<string, unknown>;
  const parsed = jobDefinitionSchema.safeParse(raw, { error: issueMessage });
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((iss) => formatIssue(iss, { '': FIELDS, targets: TARGET_FIELDS }));
  // Rules across fields use whichever fields are valid on their own, so every problem shows at once.
  const fields = parsed.success ? parsed.data : validFields(raw);
  problems.push(...crossFieldProblems(fields, raw), ...componentKindProblems(raw, options.pluginKinds ?? []));
  for (const path of findSecretKeys(input)) {
    problems.push(`${path.replace(/\[(\d+)\]/g, '.$1')}: secrets never enter job definitions; use credential_id`);
  }
  const recurrence = recurrenceProblems(fields);
  problems.push(...recurrence);

  let first: number | null = null;
  if (parsed.success && recurrence.length === 0) {
    const spec = recurrenceOf(parsed.data);
    first = firstOccurrence(spec, options.now);
    // A recurring job anchored in the past starts with its first occurrence from now on:
    // occurrences before the job existed were never due, so they are not "missed".
    if (first !== null && first < options.now && spec.scheduleType !== 'once' && spec.scheduleType !== 'immediately') {
      first = nextOccurrenceAfter(spec, options.now - 1);
    }
    if (spec.scheduleType === 'once' && spec.startTs != null && spec.startTs < options.now) {
      problems.push(`start_ts: ${new Date(spec.startTs).toISOString()} is in the past; a once job runs at start_ts, so it must be later than now`);
    } else if (first === null && parsed.data.enabled && spec.expiresAt != null) {
      problems.push(`expiration: ${new Date(spec.expiresAt).toISOString()} is not after the first occurrence; the job would never run`);
    }
  }
  if (!parsed.success || problems.length > 0) {
    // One line each, whatever odd key names the input had.
    return { ok: false, problems: [...new Set(problems.map((p) => p.replace(/[\u0000-\u001f\u007f]+/g, ' ')))] };
  }

  const d = parsed.data;
  const values: NewScheduledJob = {
    name: d.name,
    job_kind: d.job_kind,
    schedule_type: d.schedule_type,
    // The first occurrence anchors the series when no start was given (see recurrence.ts).
    start_ts: d.start_ts ?? first,
    time_zone: d.time_zone,
    cron_expression: d.cron_expression,
    duration_stop_enabled: d.duration_stop_enabled,
    expiration: d.expiration,
    missed_policy: d.missed_policy,
    enabled: d.enabled,
    targets_json: toJson(d.targets),
    components_json: toJson(d.components),
    execution_context: d.execution_context,
    credential_id: d.credential_id,
    use_service_account: d.use_service_account,
    created_at: options.now,
    updated_at: options.now,
    next_run_at: d.enabled ? first : null,
  };
  return { ok: true, values, definition: d };
}

function validFields(input: Record<string, unknown>): Partial<JobDefinition> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(jobDefinitionShape)) {
    const r = schema.safeParse(input[key]);
    if (r.success) out[key] = r.data;
  }
  return out as Partial<JobDefinition>;
}

/** Each component's kind must be one an executor runs: built in, or with a configured plug-in. */
function componentKindProblems(raw: Record<string, unknown>, pluginKinds: readonly string[]): string[] {
  if (!Array.isArray(raw.components)) return [];
  const known = [...BUILTIN_KINDS, ...pluginKinds];
  const accepted = `expected one of ${known.join(', ')}${pluginKinds.length === 0 ? ' (other kinds need a plug-in; none is configured)' : ''}`;
  return (raw.components as unknown[]).flatMap((c, i) => {
    const kind = (c as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || kind.trim() === '' || CONTROL.test(kind) || known.includes(kind)) return [];
    return [`components.${i}.kind: unknown kind ${show(kind)}; ${accepted}`];
  });
}

/** The dotted path of the first key or string holding a NUL character, or null. */
function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at.replace(/\u0000/g, '\\u0000');
    const found = findNul(child, at);
    if (found !== null) return found;
  }
  return null;
}

function crossFieldProblems(d: Partial<JobDefinition>, raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const kind = d.job_kind;
  if (kind !== undefined && kind !== 'onboarding') {
    const t = d.targets;
    if (t && !t.hostnames?.length && !t.sites?.length && !t.filters?.length) {
      problems.push(`targets: an ${kind} job needs at least one of hostnames, sites or filters`);
    }
    if (t?.onboarding_scope !== undefined) problems.push('targets.onboarding_scope: only onboarding jobs have an onboarding scope');
    (Array.isArray(raw.components) ? (raw.components as unknown[]) : []).forEach((c, i) => {
      if ((c as { kind?: unknown } | null)?.kind === 'device_onboarding') {
        problems.push(`components.${i}.kind: "device_onboarding" is only for onboarding jobs`);
      }
    });
  }
  if (d.execution_context === 'ssh' && d.credential_id == null) {
    problems.push('credential_id: an ssh job logs in with a credential (a username with a password or private key); name one');
  }
  if (d.execution_context !== 'ssh') {
    (Array.isArray(raw.components) ? (raw.components as unknown[]) : []).forEach((c, i) => {
      const comp = c as { kind?: unknown; become?: unknown; become_user?: unknown } | null;
      if (comp?.become !== undefined || comp?.become_user !== undefined) problems.push(`components.${i}.become: only for jobs whose execution_context is ssh`);
    });
  }
  problems.push(...ansibleProblems(d, raw));
  if (d.schedule_type !== undefined && d.schedule_type !== 'cron' && d.cron_expression != null) {
    problems.push('cron_expression: only used when schedule_type is cron; set it to null');
  }
  if (d.duration_stop_enabled === true && d.expiration === null) problems.push('expiration: required when duration_stop_enabled is true');
  if (d.duration_stop_enabled === false && d.expiration != null) {
    problems.push('expiration: only used when duration_stop_enabled is true; set both or neither');
  }
  return problems;
}

/** ansible_playbook components: only on ssh jobs, and not mixed with other kinds (one run per playbook). */
function ansibleProblems(d: Partial<JobDefinition>, raw: Record<string, unknown>): string[] {
  const kinds = (Array.isArray(raw.components) ? (raw.components as unknown[]) : []).map((c) => (c as { kind?: unknown } | null)?.kind);
  const first = kinds.indexOf('ansible_playbook');
  if (first < 0) return [];
  if (d.execution_context !== 'ssh') return [`components.${first}.kind: "ansible_playbook" needs execution_context "ssh"`];
  const other = kinds.findIndex((k) => k !== 'ansible_playbook');
  return other < 0 ? [] : [`components.${other}.kind: a job with ansible_playbook components has only ansible_playbook components`];
}

/** validateRecurrence's problems for the fields that are valid on their own (the rest are reported already). */
function recurrenceProblems(d: Partial<JobDefinition>): string[] {
  const spec = recurrenceOf({
    schedule_type: d.schedule_type ?? 'once', // still checks the zone and times when the type is bad
    start_ts: d.start_ts ?? null,
    time_zone: d.time_zone ?? 'UTC',
    cron_expression: d.cron_expression ?? null,
    duration_stop_enabled: d.duration_stop_enabled ?? false,
    expiration: d.expiration ?? null,
  });
  return validateRecurrence(spec).map((p) => p.replace(/^expires_at:/, 'expiration:'));
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(\.\d{1,9})?(Z|([+-])(\d{2}):?(\d{2}))$/i;

/** `2026-12-01T02:30:00Z`, `…+01:00`, `…+0100`; seconds and fraction optional. Null when invalid. */
export function parseIsoInstant(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const wallText = `${m[1]}${m[2] ?? ':00'}`.toUpperCase();
  const wall = Date.parse(`${wallText}${(m[3] ?? '').slice(0, 4)}Z`);
  // Date.parse rolls 30 February over into March: the round trip catches impossible dates and times.
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 19) !== wallText) return null;
  const [hours, minutes] = [Number(m[6] ?? 0), Number(m[7] ?? 0)];
  if (hours > 23 || minutes > 59) return null;
  return wall - (m[5] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}
