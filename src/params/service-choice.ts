/**
 * Parameters of `service_choice` (check) and `service_choice_set`
 * (mechanism): a set of interchangeable units by choice name, and the one the
 * site chose (`choose: "{{ time_sync_daemon }}"`). Shared so the check and the
 * fix read the same choice the same way.
 */
import * as v from "valibot";
import { UnitName } from "./unit-name.ts";

const ChoiceKey = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "a choice name is a lowercase slug"));

/**
 * `{choose, units}`: UNITS maps each choice (2 to 8) to a distinct unit; CHOOSE
 * must be one of its keys, so a mistyped variable is refused at rule load,
 * naming the field and the choices.
 *
 * @example parse(ServiceChoiceParams, { choose: "chrony", units: { chrony: "chronyd", "systemd-timesyncd": "systemd-timesyncd.service" } })
 *   // → { choose: "chrony", units: { chrony: "chronyd.service", "systemd-timesyncd": "systemd-timesyncd.service" } }
 */
export const ServiceChoiceParams = v.pipe(
  v.strictObject(
    {
      choose: v.string("choose must be a string"),
      units: v.pipe(
        v.record(ChoiceKey, UnitName, "units must map each choice to a unit name"),
        v.check((u) => Object.keys(u).length >= 2 && Object.keys(u).length <= 8, "units must name 2 to 8 choices"),
        v.check((u) => new Set(Object.values(u)).size === Object.values(u).length, "units must name distinct units"),
      ),
    },
    "takes only {choose, units}",
  ),
  v.check((p) => Object.hasOwn(p.units, p.choose), (i) => {
    const p = i.input as { choose: string; units: Record<string, string> };
    return `choose: ${JSON.stringify(p.choose)} is not one of ${Object.keys(p.units).join(", ")}`;
  }),
);
export type ServiceChoiceParams = v.InferOutput<typeof ServiceChoiceParams>;

/** The chosen unit and the others, in the order the rule lists them. */
export function splitChoice(p: ServiceChoiceParams): { chosen: string; others: string[] } {
  return { chosen: p.units[p.choose]!, others: Object.entries(p.units).filter(([k]) => k !== p.choose).map(([, u]) => u) };
}
