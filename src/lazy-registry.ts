/**
 * A table of named entries whose modules register them the first time a name
 * is looked up (the check methods, the remediation mechanisms): a command
 * evaluates only the modules its rules name. Module loaders use require(), not
 * import(): a lookup is synchronous, and a module already evaluated is not
 * evaluated again, so each registers once.
 */
export class LazyRegistry<T extends { name: string }> {
  private readonly entries = new Map<string, T>();

  /** KIND names an entry in errors ("check method"); MODULES maps each shipped name to the loader of the module that registers it. */
  constructor(
    private readonly kind: string,
    private readonly modules: Readonly<Record<string, () => unknown>>,
  ) {}

  private load(name: string): void {
    if (!this.entries.has(name) && Object.hasOwn(this.modules, name)) this.modules[name]!();
  }

  /** Add ENTRY; a name registered twice throws, naming the kind and the name. */
  register(entry: T): void {
    if (this.entries.has(entry.name)) throw new Error(`${this.kind} ${entry.name} registered twice`);
    this.entries.set(entry.name, entry);
  }

  /** The entry called NAME, its module evaluated first if it is a shipped one; undefined for an unknown name. */
  get(name: string): T | undefined {
    this.load(name);
    return this.entries.get(name);
  }

  /** Every name, sorted, the shipped ones all loaded. */
  names(): string[] {
    for (const name of Object.keys(this.modules)) this.load(name);
    return [...this.entries.keys()].sort();
  }
}
