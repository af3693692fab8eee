/**
 * Evaluates parsed criteria (criteria.ts) against a device (pure). Comparisons are
 * case-insensitive (parsed values are already lowercased) and a field with no value reads as "".
 */
import type { CriteriaField, ParsedGroup, ParsedNode } from './criteria.js';
import type { InventoryDevice } from './devices.js';

/** True when `device` satisfies the criteria: every rule ("all") or at least one ("any"). */
export function matchesCriteria(criteria: ParsedGroup, device: InventoryDevice): boolean {
  const test = (node: ParsedNode): boolean => ('rules' in node ? matchesCriteria(node, device) : matchesRule(node, device));
  return criteria.match === 'all' ? criteria.rules.every(test) : criteria.rules.some(test);
}

/** A device field as the criteria read it (null reads as ""), for explanations. */
export function fieldText(field: CriteriaField, device: InventoryDevice): string {
  return FIELD_READERS[field](device);
}

function matchesRule(rule: Exclude<ParsedNode, ParsedGroup>, device: InventoryDevice): boolean {
  const text = FIELD_READERS[rule.field](device);
  switch (rule.operator) {
    case 'is_empty':
      return text.trim() === '';
    case 'is_not_empty':
      return text.trim() !== '';
    case 'in':
      return rule.values.has(text.toLowerCase());
    case 'equals':
      return text.toLowerCase() === rule.value;
    case 'not_equals':
      return text.toLowerCase() !== rule.value;
    case 'contains':
      return text.toLowerCase().includes(rule.value);
    case 'not_contains':
      return !text.toLowerCase().includes(rule.value);
    case 'starts_with':
      return text.toLowerCase().startsWith(rule.value);
    case 'ends_with':
      return text.toLowerCase().endsWith(rule.value);
  }
}

/** A device field as text; null reads as "". */
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
