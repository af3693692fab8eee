/**
 * The dashboard's job form, pure: the posted fields become the job definition the CLI's
 * `jobs create --file` reads (validated afterwards by the same domain function), a definition
 * becomes the fields again (edit, import), and each validation problem is placed next to the
 * field it names. Scalars are fields; components and the onboarding scope are JSON text, since
 * their shape depends on the component kind.
 */
import { jsonSyntaxProblem } from '../../cli/options.js';
import { isSecretKey } from '../../secrets.js';

/** The form's fields, as strings (checkboxes: "on" when checked, absent otherwise). */
export type JobFormFields = Record<(typeof FORM_FIELDS)[number], string>;

export const FORM_FIELDS = [
  'name',
  'job_kind',
  'schedule_type',
  'cron_expression',
  'time_zone',
  'start_ts',
  'expiration',
  'missed_policy',
  'enabled',
  'hostnames',
  'sites',
  'filters',
  'onboarding_scope',
  'components',
  'execution_context',
  'credential_id',
  'use_service_account',
] as const;

/** Where the problems no field owns are shown (the top of the form). */
export const GENERAL = '_';

/** The fields of a new job: enabled, skipping missed runs, one command component to fill in. */
export function blankForm(): JobFormFields {
  return {
    name: '',
    job_kind: 'automation',
    schedule_type: 'daily',
    cron_expression: '',
    time_zone: 'UTC',
    start_ts: '',
    expiration: '',
    missed_policy: 'skip',
    enabled: 'on',
    hostnames: '',
    sites: '',
    filters: '',
    onboarding_scope: '',
    components: JSON.stringify([{ kind: 'command', name: 'uptime', argv: ['uptime'] }], null, 2),
    execution_context: '',
    credential_id: '',
    use_service_account: '',
  };
}

/** The posted form as strings (a repeated field keeps its first value). */
export function formFields(posted: Record<string, string | string[] | File | undefined>): JobFormFields {
  const out = {} as JobFormFields;
  for (const f of FORM_FIELDS) {
    const v = posted[f];
    const one = Array.isArray(v) ? v[0] : v;
    out[f] = typeof one === 'string' ? one : '';
  }
  return out;
}

const list = (text: string): string[] => text.split(/[\s,]+/).filter((s) => s !== '');
/** Digits become numbers; anything else stays text so the validator names it. */
const idOrText = (s: string): number | string => (/^\d{1,15}$/.test(s) ? Number(s) : s);
const orNull = (s: string): string | null => (s.trim() === '' ? null : s);

/**
 * The definition the fields describe, and the problems of the JSON fields (the validator never
 * sees a field that is not JSON; its own problem for that field is the JSON one).
 */
export function definitionFromForm(f: JobFormFields): { definition: Record<string, unknown>; problems: string[]; unparsed: string[] } {
  const problems: string[] = [];
  const unparsed: string[] = [];
  const json = (field: 'components' | 'onboarding_scope', path: string): unknown => {
    try {
      return JSON.parse(f[field]) as unknown;
    } catch (err) {
      problems.push(`${path}: ${jsonSyntaxProblem(err, f[field])}`);
      unparsed.push(path);
      return undefined;
    }
  };
  const targets: Record<string, unknown> = {};
  if (list(f.hostnames).length > 0) targets.hostnames = list(f.hostnames);
  if (list(f.sites).length > 0) targets.sites = list(f.sites).map(idOrText);
  if (list(f.filters).length > 0) targets.filters = list(f.filters).map(idOrText);
  if (f.onboarding_scope.trim() !== '') {
    const scope = json('onboarding_scope', 'targets.onboarding_scope');
    if (scope !== undefined) targets.onboarding_scope = scope;
  }
  const definition: Record<string, unknown> = {
    name: f.name,
    job_kind: f.job_kind,
    schedule_type: f.schedule_type,
    start_ts: orNull(f.start_ts),
    time_zone: f.time_zone.trim() === '' ? 'UTC' : f.time_zone,
    cron_expression: orNull(f.cron_expression),
    // One field for both: a stop time given means the schedule stops then.
    duration_stop_enabled: f.expiration.trim() !== '',
    expiration: orNull(f.expiration),
    missed_policy: f.missed_policy,
    enabled: f.enabled !== '',
    targets,
    execution_context: orNull(f.execution_context),
    credential_id: f.credential_id.trim() === '' ? null : idOrText(f.credential_id.trim()),
    use_service_account: f.use_service_account !== '',
  };
  const components = f.components.trim() === '' ? undefined : json('components', 'components');
  if (components !== undefined) definition.components = components;
  return { definition, problems, unparsed };
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const joined = (v: unknown): string => (Array.isArray(v) ? v.map(text).join(', ') : text(v));

/** The fields showing a definition (an export, or one pasted in); values of the wrong type are shown as JSON. */
export function formFromDefinition(d: Record<string, unknown>): JobFormFields {
  const targets = (d.targets !== null && typeof d.targets === 'object' ? d.targets : {}) as Record<string, unknown>;
  return {
    name: text(d.name),
    job_kind: text(d.job_kind ?? 'automation'),
    schedule_type: text(d.schedule_type),
    cron_expression: text(d.cron_expression),
    time_zone: text(d.time_zone ?? 'UTC'),
    start_ts: text(d.start_ts),
    expiration: d.duration_stop_enabled === true ? text(d.expiration) : '',
    missed_policy: text(d.missed_policy ?? 'skip'),
    enabled: d.enabled === false ? '' : 'on',
    hostnames: joined(targets.hostnames),
    sites: joined(targets.sites),
    filters: joined(targets.filters),
    onboarding_scope: targets.onboarding_scope === undefined ? '' : JSON.stringify(targets.onboarding_scope, null, 2),
    components: d.components === undefined ? '' : JSON.stringify(d.components, null, 2),
    execution_context: text(d.execution_context),
    credential_id: text(d.credential_id),
    use_service_account: d.use_service_account === true ? 'on' : '',
  };
}

const TARGET_FIELDS: Record<string, keyof JobFormFields> = { hostnames: 'hostnames', sites: 'sites', filters: 'filters', onboarding_scope: 'onboarding_scope' };

/** The form field a problem (`path: message`) belongs to, or GENERAL. */
export function fieldOfProblem(problem: string): string {
  const path = /^([A-Za-z_][\w.]*):/.exec(problem)?.[1];
  if (!path) return GENERAL;
  const [head, second] = path.split('.');
  if (head === 'targets') return (second && TARGET_FIELDS[second]) || 'hostnames';
  if (head === 'duration_stop_enabled') return 'expiration';
  return (FORM_FIELDS as readonly string[]).includes(head!) ? head! : GENERAL;
}

/** Problems grouped by field, each kept in the CLI's words; duplicates dropped. */
export function problemsByField(problems: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of new Set(problems)) {
    const key = fieldOfProblem(p);
    out.set(key, [...(out.get(key) ?? []), p]);
  }
  return out;
}

/**
 * The JSON problems first, then the validator's, leaving out the validator's word on a field
 * that was not JSON (it only saw the field missing).
 */
export function mergeProblems(jsonProblems: readonly string[], unparsed: readonly string[], validator: readonly string[]): string[] {
  return [...jsonProblems, ...validator.filter((p) => !unparsed.some((u) => p.startsWith(`${u}:`)))];
}

/** The value shown instead of what was typed under a secret-named key. */
export const REDACTED = '(removed: secrets never enter job definitions)';

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : redact(v)]));
}

/**
 * JSON text with the values under secret-named keys replaced, so a refused form never echoes a
 * secret back into the page; text that is not JSON (or holds no such key) is returned unchanged.
 */
export function redactJsonText(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const clean = redact(parsed);
  return JSON.stringify(clean) === JSON.stringify(parsed) ? text : JSON.stringify(clean, null, 2);
}

/** The fields as shown again after a refusal: secrets typed into the JSON fields removed. */
export function redactForm(f: JobFormFields): JobFormFields {
  return { ...f, components: redactJsonText(f.components), onboarding_scope: redactJsonText(f.onboarding_scope) };
}
