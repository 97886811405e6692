/** The one table of remediation mechanisms, keyed by the name rules use. */
import type { Mechanism } from "./mechanism.ts";

const mechanisms = new Map<string, Mechanism>();

export function registerMechanism(m: Mechanism): void {
  if (mechanisms.has(m.name)) throw new Error(`mechanism ${m.name} registered twice`);
  mechanisms.set(m.name, m);
}

export function getMechanism(name: string): Mechanism | undefined {
  return mechanisms.get(name);
}

export function mechanismNames(): string[] {
  return [...mechanisms.keys()].sort();
}
