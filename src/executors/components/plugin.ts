/**
 * Plug-in components: any kind other than `command` and `http`. `config.plugins[kind]` is a
 * module path (absolute, or relative to the working directory); the module is imported once per
 * process and its exported `run(component, { target, signal, logger })` is called and must
 * resolve to `{ ok: boolean, output?: string }`. A plug-in that throws, returns anything else or
 * cannot be loaded fails the component with a message saying so. A kind without a plug-in fails
 * with `component kind "x" has no executor; configure a plug-in`.
 *
 * Plug-ins are operator-configured code running inside the worker: `target.env` carries the same
 * JOBYARD_* variables a command gets, credential variables included. Their `output` is masked and
 * capped before it is stored, like a command's.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface PluginTarget {
  hostname: string | null;
  guid: string | null;
  siteId: number | null;
  runId: number | null;
  jobId: number | null;
  /** Onboarding targets: the IP address. */
  address?: string;
  /** The JOBYARD_* variables of this target (credential variables included). */
  env: Record<string, string>;
}

export interface PluginContext {
  target: PluginTarget;
  signal: AbortSignal;
  logger: Logger;
}

export interface PluginResult {
  ok: boolean;
  output?: string;
}

export interface PluginModule {
  run(component: Record<string, unknown>, context: PluginContext): PluginResult | Promise<PluginResult>;
}

export interface PluginRunResult extends PluginResult {
  durationMs: number;
  /** Why the component failed outside the plug-in's own verdict (missing, load error, throw, bad result). */
  error?: string;
}

export function noExecutorMessage(kind: string): string {
  return `component kind ${JSON.stringify(kind)} has no executor; configure a plug-in`;
}

const loaded = new Map<string, PluginModule>();

/** Imports (once) the plug-in module at `path`; throws a readable error when it is unusable. */
export async function loadPlugin(path: string): Promise<PluginModule> {
  const url = pathToFileURL(resolve(path)).href;
  const cached = loaded.get(url);
  if (cached) return cached;
  const mod = (await import(url)) as Partial<PluginModule> & { default?: Partial<PluginModule> };
  const run = typeof mod.run === 'function' ? mod.run : typeof mod.default?.run === 'function' ? mod.default.run : undefined;
  if (!run) throw new Error(`plug-in module ${path} does not export a run(component, context) function`);
  const plugin: PluginModule = { run };
  loaded.set(url, plugin);
  return plugin;
}

export async function runPlugin(
  kind: string,
  component: Record<string, unknown>,
  options: { plugins: Record<string, string>; target: PluginTarget; signal: AbortSignal; logger: Logger },
): Promise<PluginRunResult> {
  const started = performance.now();
  const done = (fields: Omit<PluginRunResult, 'durationMs'>): PluginRunResult => ({ ...fields, durationMs: Math.round(performance.now() - started) });
  const path = Object.hasOwn(options.plugins, kind) ? options.plugins[kind] : undefined;
  if (!path) return done({ ok: false, error: noExecutorMessage(kind) });
  let plugin: PluginModule;
  try {
    plugin = await loadPlugin(path);
  } catch (err) {
    return done({ ok: false, error: `plug-in for component kind ${JSON.stringify(kind)} could not be loaded: ${describeError(err)}` });
  }
  if (options.signal.aborted) return done({ ok: false, error: 'aborted' });
  try {
    const result: unknown = await plugin.run(component, { target: options.target, signal: options.signal, logger: options.logger.child({ plugin: kind }) });
    if (typeof result !== 'object' || result === null || typeof (result as PluginResult).ok !== 'boolean') {
      return done({ ok: false, error: `plug-in for component kind ${JSON.stringify(kind)} returned ${describeValue(result)}; expected { ok: boolean, output?: string }` });
    }
    const { ok, output } = result as PluginResult;
    return done({ ok, ...(output !== undefined && output !== null ? { output: String(output) } : {}) });
  } catch (err) {
    return done({ ok: false, error: `plug-in for component kind ${JSON.stringify(kind)} failed: ${describeError(err)}` });
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without a boolean ok' : `a ${typeof value}`;
}
