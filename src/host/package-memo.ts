/**
 * The run cache's package answers (performance/AC-17): one query of the
 * root's database for every name a check run will ask about, then each
 * names-only query answered from it. A check of thirty package rules started
 * two `sh` and one `dpkg-query` per rule; now it starts them once.
 *
 * Why filtering one answer gives each name's own answer: dpkg-query -W and
 * rpm -qa print every package that matches ANY of their arguments, once, and
 * whether a package matches one argument does not depend on the others (dpkg:
 * exact name or fnmatch over the bare name, every architecture; rpm: patterns
 * on NAME are OR-ed). So the packages matching NAME in the batch are exactly
 * those a query of NAME alone lists. A name nothing matches is simply absent
 * from the batch (dpkg-query's "no packages found matching" is not an error).
 * The one spelling that differs is rpm's `?` (a regex `?`, not one character,
 * in rpm's default match mode): such names are never answered from here.
 *
 * Staleness is the owner's: forget() on any package change and before a
 * transaction judges anything (CachedHost.revalidate).
 */
import { isPackagePattern, matchesPackagePattern, type PackageFormat } from "../params/package-name.ts";
import type { Host } from "./host.ts";
import type { KnownPackage, PackageQuery, PackageReport } from "./packages-types.ts";

const byNameArch = (a: KnownPackage, b: KnownPackage) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1);

/** What a root's database said about a set of names, and which names it can answer for. */
export class PackageMemo {
  private format: PackageFormat | null = null;
  private known: KnownPackage[] = [];
  private readonly names = new Set<string>();
  /** Bumped by forget(): a prefetch that was in flight across it keeps nothing. */
  private epoch = 0;

  /** Drop every answer: the next query of any name goes to the database. */
  forget(): void {
    this.epoch++;
    this.format = null;
    this.known = [];
    this.names.clear();
  }

  /**
   * Ask INNER once for NAMES not held yet and keep the answer. When the batch
   * is refused (one name outside the root's grammar refuses all), ask which
   * grammar, keep the names that fit it and try once more; any other failure
   * keeps nothing, and each name's own query meets and reports it.
   */
  async prefetch(inner: Host, names: readonly string[]): Promise<void> {
    const epoch = this.epoch;
    let want = [...new Set(names)].filter((n) => !this.names.has(n));
    if (want.length === 0) return;
    let report: PackageReport;
    try {
      report = await inner.queryPackages({ names: want });
    } catch {
      try {
        const { format } = await inner.queryPackages({ names: [] });
        want = want.filter((n) => isPackagePattern(n, format));
        if (want.length === 0) return;
        report = await inner.queryPackages({ names: want });
      } catch {
        return;
      }
    }
    if (epoch !== this.epoch) return;
    if (this.format !== null && this.format !== report.format) this.forget();
    this.format = report.format;
    const merged = new Map(this.known.map((k) => [`${k.name}\t${k.arch}`, k]));
    for (const k of report.known) merged.set(`${k.name}\t${k.arch}`, k);
    this.known = [...merged.values()].sort(byNameArch);
    for (const n of want) if (report.format === "dpkg" || !n.includes("?")) this.names.add(n);
  }

  /**
   * QUERY's answer as the database gave it at prefetch, when QUERY asks for
   * package states only and every one of its names was prefetched; else null.
   * Fresh objects: a caller may change what it gets.
   */
  answer(query: PackageQuery): PackageReport | null {
    if (this.format === null || query.sourcesOf || query.installPlan || !query.names.every((n) => this.names.has(n))) return null;
    const known = this.known.filter((k) => query.names.some((n) => matchesPackagePattern(n, k.name))).map((k) => ({ ...k }));
    return { format: this.format, known };
  }
}
