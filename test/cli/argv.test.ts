/** One argument parser decides every flag value: specs/cli/cli-honesty.spec.yaml (AC-04, AC-05). */
import { describe, expect, test } from "bun:test";
import { parseArgv } from "../../src/cli/argv.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { outputArgs, selectionArgs } from "../../src/cli/options.ts";

const DEF = {
  ...selectionArgs,
  ...outputArgs,
  txn: { type: "string", valueHint: "ID", description: "t" },
  offset: { type: "string", description: "a value that may be negative" },
  id: { type: "positional", description: "p" },
} as const;

function parse(argv: string[]) {
  return parseArgv(argv, DEF as any, "bulwark test");
}
function usage(argv: string[]): string {
  try {
    parse(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no usage error for ${JSON.stringify(argv)}`);
}

describe("one parse decides the values", () => {
  test.each([
    [["-q"], true],
    [["--quiet"], true],
    [["-q=false"], false],
    [["--quiet=false"], false],
    [["-q=true"], true],
    [["--no-quiet"], false],
    [[], false],
  ])("cli-honesty/AC-04: %j gives quiet=%p", (argv, quiet) => {
    expect(parse(argv).args.quiet).toBe(quiet);
  });

  test("cli-honesty/AC-04: defaults, enums, positionals and repeatable values come from the same parse", () => {
    const r = parse(["my-rule", "--format=json", "--rule", "a,b", "--rule", "c", "--tag", "x"]);
    expect(r.args.format).toBe("json");
    expect(r.args.id).toBe("my-rule");
    expect(r.multi.get("rule")).toEqual(["a,b", "c"]);
    expect(r.args.rule).toEqual("c");
    expect(parse([]).args.format).toBe("text");
  });

  test("cli-honesty/AC-04: a value that starts with a dash is taken as the value, never mistaken for a missing one", () => {
    expect(parse(["--txn", "-3"]).args.txn).toBe("-3");
    expect(parse(["--offset", "-1"]).args.offset).toBe("-1");
  });

  test("cli-honesty/AC-05: flag mistakes are usage errors naming the flag", () => {
    expect(usage(["--rule"])).toContain("--rule needs a value");
    expect(usage(["--rule", "--format", "json"])).toContain("--rule needs a value");
    expect(usage(["--quiet=loud"])).toContain("--quiet takes no value");
    expect(usage(["-q=1"])).toContain("-q takes no value");
    expect(usage(["--no-quiet=true"])).toContain("--no-quiet takes no value");
    expect(usage(["--format", "xml"])).toContain("--format must be one of text, json, jsonl");
    expect(usage(["--format", "json", "--format", "text"])).toContain("--format given twice");
    expect(usage(["--bogus"])).toContain("unknown flag --bogus");
    expect(usage(["--no-format"])).toContain("unknown flag --no-format");
    expect(usage(["a", "b"])).toContain('unexpected argument "b"');
    expect(usage(["--rulesDir", "x"])).toContain("unknown flag --rulesDir");
  });
});

describe("subcommand names", () => {
  // Object.prototype's names once resolved to a function: `bulwark constructor` exited 0 having done nothing.
  test("cli/AC-05: a command name that is only an Object.prototype key (constructor, __proto__, toString) is an unknown command", async () => {
    const { main } = await import("../../src/cli/main.ts");
    const { resolveInvocation } = await import("../../src/cli/argv.ts");
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      await expect(resolveInvocation(main, "bulwark", [name])).rejects.toThrow(`unknown command "${name}" for "bulwark"`);
      await expect(resolveInvocation(main, "bulwark", ["rules", name])).rejects.toThrow(`unknown command "${name}" for "bulwark rules"`);
    }
  });

  test("cli/AC-05: dispatch loads only the chosen subcommand; an unknown one is refused without loading any", async () => {
    const { resolveInvocation } = await import("../../src/cli/argv.ts");
    const loaded: string[] = [];
    const leaf = (name: string) => () => {
      loaded.push(name);
      return { meta: { name }, run: () => 0 };
    };
    const root = { meta: { name: "t" }, subCommands: { a: leaf("a"), b: leaf("b"), c: leaf("c") } };
    const inv = await resolveInvocation(root, "t", ["b", "--x"]);
    expect(inv.path).toEqual(["t", "b"]);
    expect(inv.rest).toEqual(["--x"]);
    expect(loaded).toEqual(["b"]);
    await expect(resolveInvocation(root, "t", ["d"])).rejects.toThrow('unknown command "d" for "t" (commands: a, b, c)');
    expect(loaded).toEqual(["b"]);
  });
});
