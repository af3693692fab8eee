/**
 * Checks criteria written in the criteria language (criteria.ts) and parses them (pure).
 *
 * Every problem is reported, not just the first, each naming its path and the accepted values,
 * e.g. `rules.0.operator: unknown value "like"; expected one of equals, …`. Criteria with any
 * problem parse to nothing: a half-understood filter must not match devices.
 */
import { InvalidJson } from '../db/dialect.js';
import {
  CRITERIA_FIELDS,
  CRITERIA_OPERATORS,
  MATCH_MODES,
  MAX_GROUP_DEPTH,
  SITE_ID_OPERATORS,
  SUBSTRING_OPERATORS,
  VALUELESS_OPERATORS,
  type CriteriaField,
  type CriteriaMode,
  type CriteriaOperator,
  type MatchMode,
  type ParsedGroup,
  type ParsedNode,
  type ParsedRule,
  type ScalarOperator,
  type ValuelessOperator,
} from './criteria.js';

/** One problem: where (keys and indexes below the criteria root) and what. */
export interface CriteriaProblem {
  path: (string | number)[];
  message: string;
}

export interface ParsedCriteria {
  /** The parsed criteria; null when there is any problem. */
  criteria: ParsedGroup | null;
  problems: CriteriaProblem[];
}

const RULE_KEYS = ['field', 'operator', 'value'];
const GROUP_KEYS = ['match', 'rules'];

/** Parses criteria; `mode` "basic" (default) refuses nested groups, "advanced" allows them. */
export function parseCriteria(criteria: unknown, mode: CriteriaMode = 'basic'): ParsedCriteria {
  const problems: CriteriaProblem[] = [];
  const parsed = parseGroup(criteria, mode, [], 1, problems);
  return { criteria: problems.length === 0 ? parsed : null, problems };
}

/**
 * Checks criteria. Returns problems as `path: message` strings (paths relative to the criteria,
 * the root itself named "criteria"); empty when valid.
 */
export function validateCriteria(criteria: unknown, mode: CriteriaMode = 'basic'): string[] {
  return formatProblems('criteria', parseCriteria(criteria, mode).problems);
}

/**
 * Problems as `path: message` lines. `root` names the criteria: "criteria" gives paths relative
 * to it (`rules.0.field`); a column name prefixes them (`basic_criteria_json.rules.0.field`).
 */
export function formatProblems(root: string, problems: readonly CriteriaProblem[]): string[] {
  return problems.map((problem) => {
    const path = problem.path.length === 0 ? root : root === 'criteria' ? problem.path.join('.') : `${root}.${problem.path.join('.')}`;
    return `${path}: ${problem.message}`;
  });
}

/** A value as JSON, shortened for messages. */
export function show(x: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = String(x);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------

/** Checks a group and parses it; returns null (and records problems) when invalid. */
function parseGroup(
  node: unknown,
  mode: CriteriaMode,
  path: (string | number)[],
  depth: number,
  problems: CriteriaProblem[],
): ParsedGroup | null {
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
  const rules: ParsedNode[] = [];
  if (!Array.isArray(node.rules)) {
    problems.push({
      path: [...path, 'rules'],
      message: node.rules === undefined ? 'missing; expected an array of rules' : `expected an array of rules, got ${describeType(node.rules)}`,
    });
  } else {
    node.rules.forEach((child: unknown, i: number) => {
      const childPath = [...path, 'rules', i];
      let parsed: ParsedNode | null;
      if (isPlainObject(child) && 'rules' in child) {
        if (mode === 'basic') {
          problems.push({ path: childPath, message: 'nested groups are only allowed with criteria_mode "advanced"; basic criteria hold rules only' });
          return;
        }
        if (depth >= MAX_GROUP_DEPTH) {
          problems.push({ path: childPath, message: `groups nest at most ${MAX_GROUP_DEPTH} deep` });
          return;
        }
        parsed = parseGroup(child, mode, childPath, depth + 1, problems);
      } else {
        parsed = parseRule(child, mode, childPath, problems);
      }
      if (parsed) rules.push(parsed);
    });
  }
  if (problems.length > before) return null;
  return { match, rules };
}

function parseRule(node: unknown, mode: CriteriaMode, path: (string | number)[], problems: CriteriaProblem[]): ParsedRule | null {
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

  if ((VALUELESS_OPERATORS as readonly string[]).includes(op)) return { field: f, operator: op as ValuelessOperator };

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
    const values = new Set<string>();
    value.forEach((v: unknown, i: number) => {
      const text = scalarText(f, v, [...valuePath, i], problems);
      if (text !== null) values.add(text);
    });
    if (problems.length > before) return null;
    return { field: f, operator: 'in', values };
  }

  const expected = scalarText(f, value, valuePath, problems);
  if (expected === null) return null;
  if ((SUBSTRING_OPERATORS as readonly string[]).includes(op) && expected === '') {
    problems.push({ path: valuePath, message: `must not be empty for "${op}"; use is_empty or is_not_empty to test for a blank field` });
    return null;
  }
  return { field: f, operator: op as ScalarOperator, value: expected };
}

/** A rule value as lowercased text, or null (with a problem recorded) when it is not acceptable. */
function scalarText(field: CriteriaField, value: unknown, path: (string | number)[], problems: CriteriaProblem[]): string | null {
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
