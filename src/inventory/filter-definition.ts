/**
 * A device filter as operators write it (a JSON file or an API body), and its check (pure):
 *
 *     { "name": "Linux servers", "description": "…", "criteria_mode": "basic",
 *       "site_mode": "specific", "sites": [1, 2], "archived": false,
 *       "criteria": { "match": "all", "rules": [ { "field": "operating_system", "operator": "contains", "value": "linux" } ] } }
 *
 * `criteria` is written in the criteria language (criteria.ts) and checked by its own parser, so
 * problems name the rule and field (`criteria.rules.0.operator: unknown value "like"; …`).
 * criteria_mode defaults to "basic", site_mode to "all"; `sites` is required with "specific" and
 * refused with "all". Every problem is reported; unknown keys are problems.
 */
import { CRITERIA_MODES, type CriteriaMode } from './criteria.js';
import { parseCriteria } from './criteria-parse.js';
import { SITE_MODES, type SiteMode } from './filters.js';
import { checkSiteName } from './site-admin.js';

export const FILTER_KEYS = ['name', 'description', 'criteria_mode', 'site_mode', 'sites', 'criteria', 'archived'] as const;

export interface FilterInput {
  name: string;
  description: string | null;
  criteria_mode: CriteriaMode;
  site_mode: SiteMode;
  sites: number[];
  criteria: unknown;
  archived: boolean;
}

export function checkFilterDefinition(raw: unknown): { definition: FilterInput | null; problems: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { definition: null, problems: ['filter: expected a JSON object with name, criteria and optionally description, criteria_mode, site_mode, sites, archived'] };
  }
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(r)) if (!(FILTER_KEYS as readonly string[]).includes(key)) problems.push(`${key}: unknown key; expected one of ${FILTER_KEYS.join(', ')}`);
  // A filter name follows the same rules as a site name.
  problems.push(...checkSiteName(r.name).map((p) => p.replace('site name', 'filter name')));
  if (r.description !== undefined && r.description !== null && (typeof r.description !== 'string' || r.description.length > 2000)) {
    problems.push('description: expected a string of at most 2000 characters');
  }
  const criteriaMode = r.criteria_mode ?? 'basic';
  if (!(CRITERIA_MODES as readonly unknown[]).includes(criteriaMode)) problems.push(`criteria_mode: unknown value ${JSON.stringify(criteriaMode)}; expected one of ${CRITERIA_MODES.join(', ')}`);
  const siteMode = r.site_mode ?? 'all';
  if (!(SITE_MODES as readonly unknown[]).includes(siteMode)) problems.push(`site_mode: unknown value ${JSON.stringify(siteMode)}; expected one of ${SITE_MODES.join(', ')}`);
  let sites: number[] = [];
  if (r.sites !== undefined && r.sites !== null) {
    if (!Array.isArray(r.sites) || r.sites.some((s) => typeof s !== 'number' || !Number.isSafeInteger(s) || s <= 0)) problems.push('sites: expected an array of site ids (positive integers)');
    else sites = [...new Set(r.sites as number[])].sort((a, b) => a - b);
  }
  if (siteMode === 'specific' && sites.length === 0) problems.push('sites: required with site_mode "specific"; list at least one site id');
  if (siteMode === 'all' && sites.length > 0) problems.push('sites: only with site_mode "specific"; site_mode "all" matches devices of every site');
  if (r.archived !== undefined && typeof r.archived !== 'boolean') problems.push('archived: expected true or false');
  if (r.criteria === undefined || r.criteria === null) {
    problems.push('criteria: required; an object { "match": "all" | "any", "rules": [...] } (use "rules": [] to match every device)');
  } else if ((CRITERIA_MODES as readonly unknown[]).includes(criteriaMode)) {
    for (const p of parseCriteria(r.criteria, criteriaMode as CriteriaMode).problems) problems.push(`criteria${p.path.length > 0 ? `.${p.path.join('.')}` : ''}: ${p.message}`);
  }
  if (problems.length > 0) return { definition: null, problems };
  return {
    definition: {
      name: r.name as string,
      description: (r.description as string | undefined) ?? null,
      criteria_mode: criteriaMode as CriteriaMode,
      site_mode: siteMode as SiteMode,
      sites,
      criteria: r.criteria,
      archived: (r.archived as boolean | undefined) ?? false,
    },
    problems: [],
  };
}
