/**
 * The criteria language device filters (and device searches) are written in: its vocabulary and
 * the two forms a criteria value takes — as written (JSON) and as parsed (criteria-parse.ts checks
 * the first and produces the second; criteria-match.ts evaluates the second against a device).
 *
 * ## Criteria language
 *
 * Criteria are a JSON group:
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
 * Criteria mode "basic" holds rules only; "advanced" lets an element of `rules` be a group
 * `{ "match", "rules" }` itself, nested up to MAX_GROUP_DEPTH levels.
 */

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

/** Operators that test the field alone; a rule's `value` is ignored for them. */
export const VALUELESS_OPERATORS = ['is_empty', 'is_not_empty'] as const;
export type ValuelessOperator = (typeof VALUELESS_OPERATORS)[number];

/** Substring tests: their value must not be "" (every field contains ""). */
export const SUBSTRING_OPERATORS = ['contains', 'not_contains', 'starts_with', 'ends_with'] as const;

/** Operators that compare the field with one value. */
export type ScalarOperator = Exclude<CriteriaOperator, ValuelessOperator | 'in'>;

export const MATCH_MODES = ['all', 'any'] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

export const CRITERIA_MODES = ['basic', 'advanced'] as const;
export type CriteriaMode = (typeof CRITERIA_MODES)[number];

/** Groups nest at most this deep (the top-level group is depth 1). */
export const MAX_GROUP_DEPTH = 8;

// ---------------------------------------------------------------------------------------------
// Criteria as written (the JSON stored in device_filters).

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

// ---------------------------------------------------------------------------------------------
// Criteria as parsed: checked, defaults filled in, values lowercased text ready to compare.

export type ParsedRule =
  | { field: CriteriaField; operator: ValuelessOperator }
  | { field: CriteriaField; operator: 'in'; values: ReadonlySet<string> }
  | { field: CriteriaField; operator: ScalarOperator; value: string };

export interface ParsedGroup {
  match: MatchMode;
  rules: ParsedNode[];
}

export type ParsedNode = ParsedRule | ParsedGroup;
