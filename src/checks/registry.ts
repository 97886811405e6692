/** The one table of check methods, keyed by the name rules use. */
import type { CheckMethod } from "./check-method.ts";

const methods = new Map<string, CheckMethod>();

export function registerCheck(m: CheckMethod): void {
  if (methods.has(m.name)) throw new Error(`check method ${m.name} registered twice`);
  methods.set(m.name, m);
}

export function getCheck(name: string): CheckMethod | undefined {
  return methods.get(name);
}

export function checkNames(): string[] {
  return [...methods.keys()].sort();
}
