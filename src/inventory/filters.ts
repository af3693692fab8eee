/**
 * Saved device filters: how a row of device_filters selects devices (pure — no database, no
 * clock). The criteria themselves are written in the criteria language (criteria.ts).
 *
 * ## Columns of device_filters
 *
 * - criteria_mode "basic" (default when null) uses basic_criteria_json: a group with rules only.
 *   "advanced" uses advanced_criteria_json: the same shape, but an element of `rules` may itself
 *   be a group `{ "match", "rules" }`, nested up to MAX_GROUP_DEPTH levels.
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
import { CRITERIA_MODES, type CriteriaMode, type ParsedGroup } from './criteria.js';
import { matchesCriteria } from './criteria-match.js';
import { formatProblems, parseCriteria, show, type CriteriaProblem } from './criteria-parse.js';
import type { InventoryDevice } from './devices.js';

export const SITE_MODES = ['all', 'specific'] as const;
export type SiteMode = (typeof SITE_MODES)[number];

/** A saved filter as the inventory reads it (filter-store.ts), columns kept raw. */
export interface InventoryFilter {
  id: number;
  name: string;
  archived: boolean;
  /** Raw column value: "basic" (or null) or "advanced"; anything else makes the filter invalid. */
  criteriaMode: string | null;
  /** Raw column value: "all" (or null) or "specific"; anything else makes the filter invalid. */
  siteMode: string | null;
  /** Parsed basic_criteria_json (see criteria.ts for the language); null when unset. */
  basicCriteria: unknown;
  /** Parsed advanced_criteria_json; null when unset. */
  advancedCriteria: unknown;
  /** Sites from device_filter_sites, ascending; used when siteMode is "specific". */
  siteIds: number[];
}

/** The columns that decide whether a filter is valid. */
export type FilterDefinition = Pick<InventoryFilter, 'criteriaMode' | 'siteMode' | 'basicCriteria' | 'advancedCriteria'>;

/**
 * Checks a whole filter: criteria_mode, site_mode and the criteria column the mode selects.
 * Paths start with the column name (`basic_criteria_json.rules.0.field: …`).
 */
export function validateFilter(filter: FilterDefinition): string[] {
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
  const { problems, criteria, siteScope } = analyse(filter);
  const usable = problems.length === 0 && !filter.archived && criteria !== null;
  const matches = (device: InventoryDevice): boolean => {
    if (!usable) return false;
    if (siteScope !== null && (device.siteId === null || !siteScope.has(device.siteId))) return false;
    return matchesCriteria(criteria!, device);
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

function analyse(filter: FilterDefinition & { siteIds?: number[] }): {
  problems: string[];
  criteria: ParsedGroup | null;
  siteScope: ReadonlySet<number> | null;
} {
  const problems: string[] = [];

  const criteriaMode = filter.criteriaMode ?? 'basic';
  if (!(CRITERIA_MODES as readonly string[]).includes(criteriaMode)) {
    problems.push(`criteria_mode: unknown value ${show(criteriaMode)}; expected one of ${CRITERIA_MODES.join(', ')}`);
  }
  const siteMode = filter.siteMode ?? 'all';
  if (!(SITE_MODES as readonly string[]).includes(siteMode)) {
    problems.push(`site_mode: unknown value ${show(siteMode)}; expected one of ${SITE_MODES.join(', ')}`);
  }
  if (problems.length > 0) return { problems, criteria: null, siteScope: null };

  const mode = criteriaMode as CriteriaMode;
  const column = mode === 'advanced' ? 'advanced_criteria_json' : 'basic_criteria_json';
  const raw = mode === 'advanced' ? filter.advancedCriteria : filter.basicCriteria;
  let found: CriteriaProblem[];
  let criteria: ParsedGroup | null = null;
  if (raw === null || raw === undefined) {
    found = [
      {
        path: [],
        message: `missing for criteria_mode "${mode}"; expected an object { "match": "all" | "any", "rules": [...] } (use "rules": [] to match every device)`,
      },
    ];
  } else {
    ({ criteria, problems: found } = parseCriteria(raw, mode));
  }
  problems.push(...formatProblems(column, found));
  const siteScope = siteMode === 'specific' ? new Set(filter.siteIds ?? []) : null;
  return { problems, criteria: problems.length === 0 ? criteria : null, siteScope };
}
