/**
 * When a long remediation run collects its garbage: each time the process's
 * resident memory has grown by STEP since the last full collection, before the
 * heap takes more pages, not on a fixed count of transactions. JavaScriptCore
 * left to itself collects the old generation only once the heap doubled, and
 * keeps the pages it grew into, so a run's resident memory climbed with what
 * each transaction left behind (issue 14: peak RSS). Collecting every K
 * transactions bounded that only as far as K was small, and each collection
 * marks the whole live heap (~50-100 ms at 5,000 rules), so a small K cost
 * seconds. Collecting on growth spends a collection only when memory is
 * actually about to grow: the garbage is reused instead. Measured at 5,000
 * synthetic rules (compiled binary, three interleaved runs each): every 250
 * transactions, 21 collections, peak RSS 140/153/161 MiB; on 6 MiB of growth,
 * 15-18 collections, 134/138/142 MiB. Every 50: 101 collections (5.4 s of
 * collecting), 115-121 MiB.
 */

/** Resident growth (bytes) since the last full collection that earns the next one. */
export const GROWTH_STEP = 6 * 2 ** 20;

/** What the policy needs from the process; the real one reads /proc/self/statm and runs Bun.gc(true). */
export interface HeapControl {
  rss(): number;
  collect(): void;
}

const processControl: HeapControl = {
  rss: () => process.memoryUsage.rss(),
  collect: () => Bun.gc(true),
};

/**
 * Decides, between two transactions, whether to run a full collection: the
 * first call always collects (the garbage of loading and selecting the rules),
 * later ones only once resident memory grew by STEP since the last. Never
 * called inside a transaction. Returns whether it collected.
 *
 * @example
 * const gc = new GrowthCollector();
 * for (const rule of rules) { gc.between(); await remediate(rule); }
 */
export class GrowthCollector {
  private base = -1;
  /** Full collections run so far (tests and the benchmark count them). */
  collections = 0;
  constructor(private readonly step = GROWTH_STEP, private readonly control: HeapControl = processControl) {}

  between(): boolean {
    if (this.base >= 0 && this.control.rss() - this.base < this.step) return false;
    this.control.collect();
    this.collections++;
    // Measured after: the pages the collection freed inside the heap stay resident, so growth
    // from here is what the live data and the next garbage really need.
    this.base = this.control.rss();
    return true;
  }
}
