/**
 * Saved device filters: the criteria language and matching (pure — no database, no clock).
 *
 * ## Criteria language
 *
 * A filter's criteria are a JSON group:
 *
 *     { "match": "all" | "any", "rules": [ rule, ... ] }
 *
 * `match` defaults to "all". A rule tests one device field:
 *
 *     { "field": "operating_system", "operator": "contains", "value": "linux" }
 *
 * Fields: hostname, operating_system, device_type, status, agent_id, connection_type,
 * internal_ip, external_ip (strings) and site_id (the device's site from device_sites).
 *
 * Operators:
 * - equals / not_equals — whole value;
 * - contains / not_contains / starts_with / ends_with — substring tests (value must not be "");
 * - in — equals any element of a non-empty array;
 * - is_empty / is_not_empty — the field is null or blank (any `value` is ignored).
 *
 * Values are strings or numbers (numbers compare as their decimal text); `in` takes an array of
 * them. Every comparison is case-insensitive. A field with no value (null) compares as "" — so
 * `not_equals` and `not_contains` are true for it, the positive tests false. site_id accepts
 * only equals, not_equals, in, is_empty and is_not_empty, with positive integers (or digit
 * strings) as values.
 *
 * An empty `rules` array is allowed: "all" of nothing matches every device (in the filter's site
 * scope), "any" of nothing matches none. Unknown keys are errors (they are usually typos).
 *
 * ## Columns of device_filters
 *
 * - criteria_mode "basic" (default when null) uses basic_criteria_json: the group above, with
 *   rules only. "advanced" uses advanced_criteria_json: the same shape, but an element of `rules`
 *   may itself be a group `{ "match", "rules" }`, nested up to MAX_GROUP_DEPTH levels.
 * - site_mode "all" (default when null): devices of any site, and devices without one.
 *   "specific": only devices whose site is one of the filter's device_filter_sites rows (a
 *   filter with no rows there matches nothing).
 * - A missing (null) criteria column is invalid, not "match everything": a filter meant to match
 *   every device says so with `{ "match": "all", "rules": [] }`.
 *
 * A filter whose criteria are invalid matches nothing; `validateFilter` lists why, each message
 * naming the path and the accepted values, e.g.
 * `basic_criteria_json.rules.0.operator: unknown value "like"; expected one of equals, …`.
 * An archived filter matches nothing either (the resolver reports it as archived).
 */
import { InvalidJson } from '../db/dialect.js';
import type { InventoryDevice, InventoryFilter } from './snapshot.js';

export const CRITERIA_FIELDS = [
  'hostname',
  'operating_system',
  'device_type',
  'status',
  'agent_id',
  'connection_type',
  'internal_ip',
  'external_ip',
  'site_id',
] as const;
export type CriteriaField = (typeof CRITERIA_FIELDS)[number];

export const CRITERIA_OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'in',
  'is_empty',
  'is_not_empty',
] as const;
export type CriteriaOperator = (typeof CRITERIA_OPERATORS)[number];

/** The operators site_id accepts (substring tests make no sense on an id). */
export const SITE_ID_OPERATORS: readonly CriteriaOperator[] = ['equals', 'not_equals', 'in', 'is_empty', 'is_not_empty'];

export const MATCH_MODES = ['all', 'any'] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

export const CRITERIA_MODES = ['basic', 'advanced'] as const;
export type CriteriaMode = (typeof CRITERIA_MODES)[number];

export const SITE_MODES = ['all', 'specific'] as const;
export type SiteMode = (typeof SITE_MODES)[number];

/** Groups nest at most this deep (the top-level group is depth 1). */
export const MAX_GROUP_DEPTH = 8;

export type CriteriaValue = string | number | Array<string | number>;

export interface CriteriaRule {
  field: CriteriaField;
  operator: CriteriaOperator;
  value?: CriteriaValue;
}

export interface CriteriaGroup {
  match?: MatchMode;
  rules: CriteriaNode[];
}

export type CriteriaNode = CriteriaRule | CriteriaGroup;

const RULE_KEYS = ['field', 'operator', 'value'];
const GROUP_KEYS = ['match', 'rules'];
const VALUELESS: readonly CriteriaOperator[] = ['is_empty', 'is_not_empty'];
const SUBSTRING: readonly CriteriaOperator[] = ['contains', 'not_contains', 'starts_with', 'ends_with'];

type Predicate = (device: InventoryDevice) => boolean;

interface Problem {
  path: (string | number)[];
  message: string;
}

/**
 * Checks criteria in the language above. `mode` "basic" (default) refuses nested groups;
 * "advanced" allows them. Returns problems as `path: message` strings (paths relative to the
 * criteria, the root itself named "criteria"); empty when valid.
 */
export function validateCriteria(criteria: unknown, mode: CriteriaMode = 'basic'): string[] {
  const problems: Problem[] = [];
  compileGroup(criteria, mode, [], 1, problems);
  return problems.map((p) => formatProblem('criteria', p));
}

/**
 * Checks a whole filter: criteria_mode, site_mode and the criteria column the mode selects.
 * Paths start with the column name (`basic_criteria_json.rules.0.field: …`).
 */
export function validateFilter(filter: Pick<InventoryFilter, 'criteriaMode' | 'siteMode' | 'basicCriteria' | 'advancedCriteria'>): string[] {
  return analyse(filter).problems;
}

export interface CompiledFilter {
  readonly filter: InventoryFilter;
  /** Validation problems; the filter matches nothing when there are any. */
  readonly problems: string[];
  readonly archived: boolean;
  /** True when the device satisfies the criteria and the site scope (always false when archived or invalid). */
  matches(device: InventoryDevice): boolean;
  /** Site ids the filter is restricted to (site_mode "specific"), or null for any site. */
  readonly siteScope: ReadonlySet<number> | null;
}

/** Validates a filter once and returns a matcher for many devices (what the resolver uses). */
export function compileFilter(filter: InventoryFilter): CompiledFilter {
  const { problems, predicate, siteScope } = analyse(filter);
  const usable = problems.length === 0 && !filter.archived && predicate !== null;
  const matches = (device: InventoryDevice): boolean => {
    if (!usable) return false;
    if (siteScope !== null && (device.siteId === null || !siteScope.has(device.siteId))) return false;
    return predicate!(device);
  };
  return { filter, problems, archived: filter.archived, matches, siteScope };
}

/**
 * True when `device` matches the saved filter. Archived filters and filters with invalid
 * criteria match nothing. Validates on every call; to test many devices use `compileFilter`.
 */
export function filterMatches(filter: InventoryFilter, device: InventoryDevice): boolean {
  return compileFilter(filter).matches(device);
}

/** `filter "Linux servers" (#4)` — how reasons and messages name a filter. */
export function describeFilter(filter: Pick<InventoryFilter, 'id' | 'name'>): string {
  return `filter ${JSON.stringify(filter.name)} (#${filter.id})`;
}

// ---------------------------------------------------------------------------------------------

function analyse(filter: Pick<InventoryFilter, 'criteriaMode' | 'siteMode' | 'basicCriteria' | 'advancedCriteria'> & {
  siteIds?: number[];
}): { problems: string[]; predicate: Predicate | null; siteScope: ReadonlySet<number> | null } {
  const problems: string[] = [];

  const criteriaMode = filter.criteriaMode ?? 'basic';
  if (!(CRITERIA_MODES as readonly string[]).includes(criteriaMode)) {
    problems.push(`criteria_mode: unknown value ${show(criteriaMode)}; expected one of ${CRITERIA_MODES.join(', ')}`);
  }
  const siteMode = filter.siteMode ?? 'all';
  if (!(SITE_MODES as readonly string[]).includes(siteMode)) {
    problems.push(`site_mode: unknown value ${show(siteMode)}; expected one of ${SITE_MODES.join(', ')}`);
  }
  if (problems.length > 0) return { problems, predicate: null, siteScope: null };

  const mode = criteriaMode as CriteriaMode;
  const column = mode === 'advanced' ? 'advanced_criteria_json' : 'basic_criteria_json';
  const criteria = mode === 'advanced' ? filter.advancedCriteria : filter.basicCriteria;
  const found: Problem[] = [];
  let predicate: Predicate | null = null;
  if (criteria === null || criteria === undefined) {
    found.push({
      path: [],
      message: `missing for criteria_mode "${mode}"; expected an object { "match": "all" | "any", "rules": [...] } (use "rules": [] to match every device)`,
    });
  } else {
    predicate = compileGroup(criteria, mode, [], 1, found);
  }
  problems.push(...found.map((p) => formatProblem(column, p)));
  const siteScope = siteMode === 'specific' ? new Set(filter.siteIds ?? []) : null;
  return { problems, predicate: problems.length === 0 ? predicate : null, siteScope };
}

/** Validates a group and builds its predicate; returns null (and records problems) when invalid. */
function compileGroup(
  node: unknown,
  mode: CriteriaMode,
  path: (string | number)[],
  depth: number,
  problems: Problem[],
): Predicate | null {
  if (node instanceof InvalidJson) {
    problems.push({ path, message: `not valid JSON: ${show(node.text)}` });
    return null;
  }
  if (!isPlainObject(node)) {
    problems.push({ path, message: `expected an object { "match": "all" | "any", "rules": [...] }, got ${describeType(node)}` });
    return null;
  }
  const before = problems.length;
  for (const key of Object.keys(node)) {
    if (!GROUP_KEYS.includes(key)) {
      const hint = RULE_KEYS.includes(key) ? ' (a group has match and rules; a rule has field, operator and value, not both)' : '';
      problems.push({ path: [...path, key], message: `unknown key; expected ${GROUP_KEYS.join(', ')}${hint}` });
    }
  }
  let match: MatchMode = 'all';
  if (node.match !== undefined) {
    if (typeof node.match === 'string' && (MATCH_MODES as readonly string[]).includes(node.match)) match = node.match as MatchMode;
    else problems.push({ path: [...path, 'match'], message: `unknown value ${show(node.match)}; expected one of ${MATCH_MODES.join(', ')}` });
  }
  const children: Predicate[] = [];
  if (!Array.isArray(node.rules)) {
    problems.push({
      path: [...path, 'rules'],
      message: node.rules === undefined ? 'missing; expected an array of rules' : `expected an array of rules, got ${describeType(node.rules)}`,
    });
  } else {
    node.rules.forEach((child: unknown, i: number) => {
      const childPath = [...path, 'rules', i];
      let predicate: Predicate | null;
      if (isPlainObject(child) && 'rules' in child) {
        if (mode === 'basic') {
          problems.push({ path: childPath, message: 'nested groups are only allowed with criteria_mode "advanced"; basic criteria hold rules only' });
          return;
        }
        if (depth >= MAX_GROUP_DEPTH) {
          problems.push({ path: childPath, message: `groups nest at most ${MAX_GROUP_DEPTH} deep` });
          return;
        }
        predicate = compileGroup(child, mode, childPath, depth + 1, problems);
      } else {
        predicate = compileRule(child, mode, childPath, problems);
      }
      if (predicate) children.push(predicate);
    });
  }
  if (problems.length > before) return null;
  return match === 'all' ? (d) => children.every((p) => p(d)) : (d) => children.some((p) => p(d));
}

function compileRule(node: unknown, mode: CriteriaMode, path: (string | number)[], problems: Problem[]): Predicate | null {
  if (!isPlainObject(node)) {
    const expected =
      mode === 'advanced'
        ? 'a rule { "field", "operator", "value" } or a group { "match", "rules" }'
        : 'a rule { "field", "operator", "value" }';
    problems.push({ path, message: `expected ${expected}, got ${describeType(node)}` });
    return null;
  }
  const before = problems.length;
  for (const key of Object.keys(node)) {
    if (!RULE_KEYS.includes(key)) problems.push({ path: [...path, key], message: `unknown key; expected ${RULE_KEYS.join(', ')}` });
  }

  const field = node.field;
  const fieldOk = typeof field === 'string' && (CRITERIA_FIELDS as readonly string[]).includes(field);
  if (!fieldOk) {
    problems.push({
      path: [...path, 'field'],
      message: `${field === undefined ? 'missing' : `unknown value ${show(field)}`}; expected one of ${CRITERIA_FIELDS.join(', ')}`,
    });
  }
  const operator = node.operator;
  const operatorOk = typeof operator === 'string' && (CRITERIA_OPERATORS as readonly string[]).includes(operator);
  if (!operatorOk) {
    problems.push({
      path: [...path, 'operator'],
      message: `${operator === undefined ? 'missing' : `unknown value ${show(operator)}`}; expected one of ${CRITERIA_OPERATORS.join(', ')}`,
    });
  }
  if (!fieldOk || !operatorOk) return null;

  const f = field as CriteriaField;
  const op = operator as CriteriaOperator;
  if (f === 'site_id' && !SITE_ID_OPERATORS.includes(op)) {
    problems.push({
      path: [...path, 'operator'],
      message: `${show(op)} does not apply to site_id; expected one of ${SITE_ID_OPERATORS.join(', ')}`,
    });
    return null;
  }

  const read = FIELD_READERS[f];
  if (VALUELESS.includes(op)) {
    const blank = (d: InventoryDevice): boolean => read(d).trim() === '';
    return op === 'is_empty' ? blank : (d) => !blank(d);
  }

  const valuePath = [...path, 'value'];
  const value = node.value;
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) {
      problems.push({
        path: valuePath,
        message: `${value === undefined ? 'missing' : `got ${describeType(value)}`}; "in" expects a non-empty array of ${f === 'site_id' ? 'site ids' : 'strings or numbers'}`,
      });
      return null;
    }
    const wanted = new Set<string>();
    value.forEach((v: unknown, i: number) => {
      const text = scalarText(f, v, [...valuePath, i], problems);
      if (text !== null) wanted.add(text);
    });
    if (problems.length > before) return null;
    return (d) => wanted.has(read(d).toLowerCase());
  }

  const expected = scalarText(f, value, valuePath, problems);
  if (expected === null) return null;
  if (SUBSTRING.includes(op) && expected === '') {
    problems.push({ path: valuePath, message: `must not be empty for "${op}"; use is_empty or is_not_empty to test for a blank field` });
    return null;
  }
  const actual = (d: InventoryDevice): string => read(d).toLowerCase();
  switch (op) {
    case 'equals':
      return (d) => actual(d) === expected;
    case 'not_equals':
      return (d) => actual(d) !== expected;
    case 'contains':
      return (d) => actual(d).includes(expected);
    case 'not_contains':
      return (d) => !actual(d).includes(expected);
    case 'starts_with':
      return (d) => actual(d).startsWith(expected);
    case 'ends_with':
      return (d) => actual(d).endsWith(expected);
    default:
      // Unreachable: every operator is handled above.
      problems.push({ path: [...path, 'operator'], message: `unsupported operator ${show(op)}` });
      return null;
  }
}

/** A rule value as lowercased text, or null (with a problem recorded) when it is not acceptable. */
function scalarText(field: CriteriaField, value: unknown, path: (string | number)[], problems: Problem[]): string | null {
  if (field === 'site_id') {
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return String(value);
    if (typeof value === 'string' && /^\s*[1-9][0-9]*\s*$/.test(value)) return String(Number(value));
    problems.push({
      path,
      message: `${value === undefined ? 'missing' : `got ${show(value)}`}; site_id expects a positive integer (a site id)`,
    });
    return null;
  }
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value).toLowerCase();
  problems.push({ path, message: `${value === undefined ? 'missing' : `got ${describeType(value)}`}; expected a string or number` });
  return null;
}

const FIELD_READERS: Record<CriteriaField, (d: InventoryDevice) => string> = {
  hostname: (d) => d.hostname ?? '',
  operating_system: (d) => d.operatingSystem ?? '',
  device_type: (d) => d.deviceType ?? '',
  status: (d) => d.status ?? '',
  agent_id: (d) => d.agentId ?? '',
  connection_type: (d) => d.connectionType ?? '',
  internal_ip: (d) => d.internalIp ?? '',
  external_ip: (d) => d.externalIp ?? '',
  site_id: (d) => (d.siteId === null ? '' : String(d.siteId)),
};

function formatProblem(root: string, problem: Problem): string {
  const path = problem.path.length === 0 ? root : root === 'criteria' ? problem.path.join('.') : `${root}.${problem.path.join('.')}`;
  return `${path}: ${problem.message}`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `the string ${show(x)}`;
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${show(x)}`;
}

/** A value as JSON, shortened for messages. */
function show(x: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = String(x);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
