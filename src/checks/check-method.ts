/**
 * The check contract: one module per check method, pure reads through the Host.
 * A check that cannot reach a verdict returns `error`, which the engine treats
 * as failed when validating a remediation.
 */
import type * as v from "valibot";
import type { Capability, Host } from "../host/host.ts";

/** "skip": the rule does not apply to this host (the detail says why, e.g. the kernel has no such sysctl). */
export type CheckStatus = "pass" | "fail" | "error" | "skip";

export interface CheckResult {
  status: CheckStatus;
  /** The decisive fact: which file and line, which value, why no verdict. */
  detail: string;
}

export interface CheckMethod<P = any> {
  readonly name: string;
  readonly params: v.GenericSchema<unknown, P>;
  /** Capabilities whose absence makes part of the verdict unknowable (reported, not fatal). */
  readonly uses: readonly Capability[];
  run(host: Host, params: P): Promise<CheckResult>;
  /**
   * Is the thing this check is about on the host at all (the package
   * installed, the unit known to systemd)? Rules that name this check's rule
   * in `depends_on` are not applicable when it says `fail`; `pass` is
   * present, `error` is unknown (the dependent rule then runs as usual).
   * Absent, or returning null: this check states no presence, so a
   * dependency on it is not a precondition.
   */
  presence?(host: Host, params: P): Promise<CheckResult | null>;
  /**
   * Optional hint, before the engine runs this method (or its presence) once
   * for each of PARAMS: ask the Host for what they all need in one go (a
   * caching Host's prefetch). Never changes a verdict; errors wait for run.
   */
  prefetch?(host: Host, params: readonly P[]): Promise<void>;
}
