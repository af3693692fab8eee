/**
 * Why a saved filter matches the devices it matches (pure): `filters test <id>`. The verdict for
 * each device is the resolver's own (compileFilter), so the explanation can never disagree with
 * what a job would target; the reasons come from evaluating each rule alone with the same matcher.
 *
 * For a matching device the reasons are the rules that made it match (all of them under "all",
 * the ones that held under "any") and the site scope. A near miss is a device that fails by one
 * thing only: one top-level rule of an "all" group, or the site scope while the criteria hold.
 */
import type { CriteriaField, ParsedGroup, ParsedNode, ParsedRule } from './criteria.js';
import { fieldText, matchesCriteria } from './criteria-match.js';
import { parseCriteria } from './criteria-parse.js';
import type { InventoryDevice } from './devices.js';
import { compileFilter, describeFilter, type InventoryFilter } from './filters.js';
import { deviceState, type DeviceState } from './presence.js';

export interface ExplainedDevice {
  guid: string;
  hostname: string;
  site_id: number | null;
  state: DeviceState;
  /** Matching device: the rules (and scope) that made it match. Near miss: what failed. */
  reasons: string[];
}

export interface FilterExplanation {
  filter: { id: number; name: string; archived: boolean };
  /** Why the filter matches nothing at all (archived, invalid criteria); empty when usable. */
  problems: string[];
  /** Devices examined. */
  examined: number;
  matches: ExplainedDevice[];
  near_misses: ExplainedDevice[];
}

export function explainFilter(filter: InventoryFilter, devices: readonly InventoryDevice[], clock: { now: number; offlineAfterMs: number }): FilterExplanation {
  const compiled = compileFilter(filter);
  const problems = [...compiled.problems];
  if (filter.archived) problems.unshift(`${describeFilter(filter)} is archived; it matches no devices`);
  const out: FilterExplanation = { filter: { id: filter.id, name: filter.name, archived: filter.archived }, problems, examined: devices.length, matches: [], near_misses: [] };
  if (compiled.problems.length > 0) return out;
  const mode = filter.criteriaMode === 'advanced' ? 'advanced' : 'basic';
  const criteria = parseCriteria(mode === 'advanced' ? filter.advancedCriteria : filter.basicCriteria, mode).criteria!;
  const scope = compiled.siteScope;

  for (const device of devices) {
    const inScope = scope === null || (device.siteId !== null && scope.has(device.siteId));
    const scopeText =
      scope === null ? 'any site (site_mode all)' : `site ${device.siteId ?? 'none'} ${inScope ? 'is' : 'is not'} in the filter's sites (${[...scope].sort((a, b) => a - b).join(', ') || 'none'})`;
    const base = { guid: device.guid, hostname: device.hostname, site_id: device.siteId, state: deviceState(device.lastSeen, clock.now, clock.offlineAfterMs) };
    const criteriaHold = matchesCriteria(criteria, device);
    if (!filter.archived && compiled.matches(device)) {
      out.matches.push({ ...base, reasons: [...explainMatch(criteria, device, 'criteria'), scopeText] });
    } else if (criteriaHold && !inScope) {
      out.near_misses.push({ ...base, reasons: [scopeText] });
    } else if (inScope && criteria.match === 'all') {
      const failed = criteria.rules.map((node, i) => ({ node, i })).filter(({ node }) => !holds(node, device));
      if (failed.length === 1) out.near_misses.push({ ...base, reasons: [`fails ${describeNode(failed[0]!.node, device, `criteria.rules.${failed[0]!.i}`)}`] });
    }
  }
  return out;
}

/** The rules that made a group hold, each as `path: field operator value (device has "x")`. */
function explainMatch(group: ParsedGroup, device: InventoryDevice, path: string): string[] {
  if (group.rules.length === 0) return [`${path}: "all" of no rules matches every device`];
  const reasons: string[] = [];
  group.rules.forEach((node, i) => {
    if (!holds(node, device)) return;
    const at = `${path}.rules.${i}`;
    if ('rules' in node) reasons.push(...explainMatch(node, device, at));
    else reasons.push(describeNode(node, device, at));
  });
  return reasons;
}

function holds(node: ParsedNode, device: InventoryDevice): boolean {
  return matchesCriteria('rules' in node ? node : { match: 'all', rules: [node] }, device);
}

function describeNode(node: ParsedNode, device: InventoryDevice, path: string): string {
  if ('rules' in node) return `${path}: a group (${node.match} of ${node.rules.length} rules)`;
  return `${path}: ${describeRule(node)} (device has ${JSON.stringify(fieldText(node.field as CriteriaField, device))})`;
}

/** `operating_system contains "linux"`, `site_id in [1, 2]`, `agent_id is_empty`. */
export function describeRule(rule: ParsedRule): string {
  if (rule.operator === 'in') return `${rule.field} in [${[...rule.values].map((v) => JSON.stringify(v)).join(', ')}]`;
  if ('value' in rule) return `${rule.field} ${rule.operator} ${JSON.stringify(rule.value)}`;
  return `${rule.field} ${rule.operator}`;
}
