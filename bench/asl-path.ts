import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The parts of an Amazon States Language definition the path walk reads. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/** One state, as far as the walk needs it. */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Choices?: { Variable?: string; BooleanEquals?: boolean; Next: string }[];
  Default?: string;
  [field: string]: unknown;
}

/** Reads a shared ASL file (`${Placeholder}`s are left as they are: the walk never looks at resources). */
export function readAsl(projectRoot: string, aslPath: string): AslDefinition {
  return JSON.parse(readFileSync(resolve(projectRoot, aslPath), 'utf8')) as AslDefinition;
}

/**
 * The states one execution enters, in order, when every Choice is decided by `data` (the values the Task results would
 * put at the Choice's `Variable`, e.g. `{ result: { done: true } }`). Step Functions Standard bills one transition per
 * state entered, so `path.length` is the execution's billed transitions. Only `BooleanEquals` rules are evaluated: a
 * Choice that needs any other rule to decide makes the walk fail instead of guessing.
 */
export function aslPath(definition: AslDefinition, data: Record<string, unknown>, maxStates = 100): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: AslState | undefined = definition.States[name];
    if (!state) throw new Error(`ASL walk: no state named ${name}`);
    path.push(name);
    if (path.length > maxStates)
      throw new Error(`ASL walk: more than ${maxStates} states (a loop?): ${path.join(' → ')}`);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) break;
    name = state.Type === 'Choice' ? choose(name, state, data) : state.Next;
    if (name === undefined) throw new Error(`ASL walk: state ${path.at(-1)} has neither Next nor End`);
  }
  return path;
}

function choose(name: string, state: AslState, data: Record<string, unknown>): string {
  for (const rule of state.Choices ?? []) {
    if (rule.Variable === undefined || rule.BooleanEquals === undefined) {
      throw new Error(`ASL walk: choice ${name} has a rule the walk cannot evaluate: ${JSON.stringify(rule)}`);
    }
    const value = valueAt(data, rule.Variable);
    if (typeof value !== 'boolean') throw new Error(`ASL walk: no boolean at ${rule.Variable} for choice ${name}`);
    if (value === rule.BooleanEquals) return rule.Next;
  }
  if (!state.Default) throw new Error(`ASL walk: choice ${name} matched nothing and has no Default`);
  return state.Default;
}

/** The value at a simple JSONPath (`$.a.b`). */
function valueAt(data: Record<string, unknown>, path: string): unknown {
  if (!path.startsWith('$.')) throw new Error(`ASL walk: unsupported path ${path}`);
  let value: unknown = data;
  for (const key of path.slice(2).split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}
