import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findJsonError } from "../src/internal/config/json-errors.ts";
import {
  ConfigError,
  configSchema,
  configVersion,
  editDistance,
  loadConfig,
  parseConfig,
  suggest,
} from "../src/internal/config.ts";
import { VigilError } from "../src/internal/errors.ts";

const EXAMPLE = "examples/vigil.devnet.json";
const GUARDIAN = "0x322813Fd9A801c5507c9de605d63CEA4f2CE6c44";
const MARKET = "0xa85233C63b9Ee964Add6F2cffe00Fd84eb32338f";
const PAIR = "0xFa803697c45c71b3f0a249DB2a17D9bF2507eEEA";

/** The smallest valid config; each bad case changes one thing. */
function minimal(): Record<string, unknown> {
  return {
    chain: { rpcUrl: "http://127.0.0.1:8545", wsUrl: "ws://127.0.0.1:8545", chainId: 31337 },
    guardian: GUARDIAN,
    targets: [{ address: MARKET }],
    sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
    relays: [{ url: "http://127.0.0.1:8550" }],
  };
}

function withChanges(change: (c: Record<string, unknown>) => void): Record<string, unknown> {
  const c = minimal();
  change(c);
  return c;
}

/** The problems of an invalid config (fails the test if it is valid). */
function problems(json: unknown): readonly string[] {
  try {
    parseConfig(json, "config.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("valid configs", () => {
  it("parses the devnet example, checksums addresses and resolves paths against the file", () => {
    const config = loadConfig(EXAMPLE);
    expect(config.chain).toEqual({
      rpcUrl: "http://127.0.0.1:8545",
      wsUrl: "ws://127.0.0.1:8545",
      chainId: 31337,
    });
    expect(config.guardian).toBe(GUARDIAN);
    expect(config.targets).toEqual([{ address: MARKET, name: "market", hints: { priceSources: [PAIR] } }]);
    expect(config.sentinel).toEqual({ privateKeyEnv: "VIGIL_SENTINEL_KEY" });
    expect(config.relays).toEqual([{ url: "http://127.0.0.1:8550", name: "devnet" }]);
    expect(config.record.path).toBe(resolve(".vigil/incidents.jsonl"));
    expect(config).not.toHaveProperty("$schema");
  });

  it("applies every default", () => {
    expect(parseConfig(minimal())).toEqual({
      chain: { rpcUrl: "http://127.0.0.1:8545", wsUrl: "ws://127.0.0.1:8545", chainId: 31337 },
      guardian: GUARDIAN,
      targets: [{ address: MARKET, hints: { priceSources: [] } }],
      sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
      relays: [{ url: "http://127.0.0.1:8550" }],
      detection: {
        alertThreshold: 0.4,
        pauseThreshold: 0.7,
        modelWeight: 0.5,
        baseline: { enabled: true, warmBlocks: 512, minObservations: 20, window: 2000 },
      },
      simulator: { forks: 2, timeoutMs: 2000, gasLimit: 30_000_000 },
      response: {
        mode: "active",
        blocksAhead: 3,
        publicFallback: false,
        maxPriorityFeeGwei: 500,
        tipMarginGwei: 2,
      },
      record: { path: ".vigil/incidents.jsonl" },
      alerts: { webhooks: [] },
      queue: { capacity: 10_000 },
      log: { level: "info" },
    });
    const hooked = parseConfig(
      withChanges((c) => {
        c.alerts = { webhooks: [{ url: "https://example.com/hook" }] };
      }),
    );
    expect(hooked.alerts.webhooks).toEqual([
      { url: "https://example.com/hook", format: "json", minSeverity: "alert" },
    ]);
  });

  it("accepts lowercase and uppercase addresses and returns them checksummed", () => {
    const config = parseConfig(
      withChanges((c) => {
        c.guardian = GUARDIAN.toLowerCase();
        c.targets = [
          { address: `0x${MARKET.slice(2).toUpperCase()}`, hints: { priceSources: [PAIR.toLowerCase()] } },
        ];
      }),
    );
    expect(config.guardian).toBe(GUARDIAN);
    expect(config.targets[0]?.address).toBe(MARKET);
    expect(config.targets[0]?.hints.priceSources).toEqual([PAIR]);
  });

  it("allows no relays in shadow mode, and a keystore sentinel", () => {
    const config = parseConfig(
      withChanges((c) => {
        delete c.relays;
        c.response = { mode: "shadow" };
        c.sentinel = { keystore: "keys/sentinel.json", passwordEnv: "VIGIL_KEYSTORE_PASSWORD" };
      }),
      "config.json",
      { baseDir: "/etc/vigil" },
    );
    expect(config.relays).toEqual([]);
    expect(config.sentinel).toEqual({
      keystore: "/etc/vigil/keys/sentinel.json",
      passwordEnv: "VIGIL_KEYSTORE_PASSWORD",
    });
  });

  it("returns a deeply frozen config and does not modify its input", () => {
    const input = minimal();
    const before = JSON.stringify(input);
    const config = parseConfig(input);
    expect(JSON.stringify(input)).toBe(before);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.detection)).toBe(true);
    expect(Object.isFrozen(config.targets[0]?.hints.priceSources)).toBe(true);
  });

  it("configVersion is a short hash that ignores key order and follows values", () => {
    const a = parseConfig(minimal());
    const reordered = Object.fromEntries(Object.entries(minimal()).reverse());
    const b = parseConfig(reordered);
    const c = parseConfig(
      withChanges((x) => {
        x.detection = { pauseThreshold: 0.75 };
      }),
    );
    expect(configVersion(a)).toMatch(/^[0-9a-f]{12}$/);
    expect(configVersion(b)).toBe(configVersion(a));
    expect(configVersion(c)).not.toBe(configVersion(a));
    // Writing a default explicitly is the same configuration.
    const explicit = parseConfig(
      withChanges((x) => {
        x.simulator = { forks: 2 };
      }),
    );
    expect(configVersion(explicit)).toBe(configVersion(a));
  });
});

describe("invalid configs: one message per problem", () => {
  it("a file that is not JSON, with line and column", () => {
    const path = join(dir, "broken.json");
    writeFileSync(path, '{\n  "guardian": "0x1",\n  "chain" {}\n}\n');
    expect(() => loadConfig(path)).toThrow(ConfigError);
    expect(() => loadConfig(path)).toThrow(
      `${path}: not valid JSON at line 3, column 11: expected ':' after the property name, found "{"`,
    );
    writeFileSync(path, '{"a": 1,}');
    expect(() => loadConfig(path)).toThrow(
      `${path}: not valid JSON at line 1, column 9: unexpected "}" (trailing commas are not allowed)`,
    );
    writeFileSync(path, "");
    expect(() => loadConfig(path)).toThrow(
      `${path}: not valid JSON at line 1, column 1: unexpected end of file`,
    );
  });

  it("JSON errors: the scanner agrees with JSON.parse and points at the first error", () => {
    const cases: [string, string | undefined][] = [
      ['{"a": [1, 2, {"b": null}], "c": "x\\u00e9"}', undefined],
      ["  true  ", undefined],
      ['{"a": 1} x', '1:10 unexpected "x" after the end of the JSON value'],
      [
        '{\n  // note\n  "a": 1\n}',
        "2:3 expected a property name in double quotes, found '/' (comments are not allowed in JSON)",
      ],
      ["{'a': 1}", '1:2 expected a property name in double quotes, found "\'" (strings need double quotes)'],
      ["[1, 2,]", '1:7 unexpected "]" (trailing commas are not allowed)'],
      ['{"a": 01}', "1:8 expected ',' or '}' after a property value, found \"1\""],
      ['{"a": "x', "1:7 unterminated string"],
      ['{"a": "\\q"}', "1:8 invalid escape sequence in string"],
      ["[1 2]", "1:4 expected ',' or ']' after a list item, found \"2\""],
      ['{"a": tru}', '1:7 unexpected "t"'],
    ];
    for (const [text, expected] of cases) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      const found = findJsonError(text);
      expect(found === undefined, text).toBe(parses);
      if (found && expected) {
        const before = text.slice(0, found.offset);
        const where = `${before.split("\n").length}:${found.offset - before.lastIndexOf("\n")}`;
        expect(`${where} ${found.reason}`, text).toBe(expected);
      }
    }
  });

  it("a missing file", () => {
    const path = join(dir, "nope.json");
    expect(() => loadConfig(path)).toThrow(`${path}: the config file does not exist (looked for ${path})`);
  });

  it("a config that is not an object", () => {
    expect(problems([])).toEqual(["the configuration must be an object, got a list"]);
  });

  it("missing guardian", () => {
    expect(() =>
      parseConfig(
        withChanges((c) => delete c.guardian),
        "config.json",
      ),
    ).toThrow(/config\.json: guardian is required: expected a 20-byte hex address like 0xAbC…$/m);
  });

  it("a malformed address", () => {
    const bad = withChanges((c) => {
      c.targets = [{ address: MARKET }, { address: "0x123" }];
    });
    expect(() => parseConfig(bad, "config.json")).toThrow(
      'config.json: targets[1].address must be a 20-byte hex address like 0xAbC…, got "0x123"',
    );
  });

  it("a mixed-case address with a bad EIP-55 checksum", () => {
    const typo = `${MARKET.slice(0, -1)}F`; // last letter upper-cased
    expect(problems(withChanges((c) => (c.targets = [{ address: typo }])))).toEqual([
      `targets[0].address "${typo}" has a bad EIP-55 checksum (its mixed-case letters do not match): ` +
        "check it for a typo, or write it all in lowercase if you are sure of it",
    ]);
  });

  it("the zero address as guardian", () => {
    expect(problems(withChanges((c) => (c.guardian = `0x${"0".repeat(40)}`)))).toEqual([
      "guardian must not be the zero address",
    ]);
  });

  it("a WebSocket URL with the wrong scheme, and an RPC URL whose path is not echoed", () => {
    const bad = withChanges((c) => {
      c.chain = {
        rpcUrl: "ftp://node.example/v2/SECRET-API-KEY",
        wsUrl: "http://127.0.0.1:8545",
        chainId: 1,
      };
    });
    const list = problems(bad);
    expect(list).toContain('chain.wsUrl must start with ws:// or wss://, got "http://127.0.0.1:8545"');
    expect(list).toContain('chain.rpcUrl must start with http:// or https://, got "ftp://node.example/…"');
    expect(list.join("\n")).not.toContain("SECRET-API-KEY");
  });

  it("thresholds in the wrong order (against a default)", () => {
    expect(() =>
      parseConfig(
        withChanges((c) => (c.detection = { alertThreshold: 0.8 })),
        "config.json",
      ),
    ).toThrow("config.json: detection.alertThreshold (0.8) must be below detection.pauseThreshold (0.7)");
  });

  it("a baseline window shorter than the history it needs (against a default)", () => {
    expect(problems(withChanges((c) => (c.detection = { baseline: { window: 10 } })))).toEqual([
      "detection.baseline.window (10) must be at least detection.baseline.minObservations (20)",
    ]);
    expect(
      problems(withChanges((c) => (c.detection = { baseline: { warmBlocks: -1, enabled: "yes" } }))),
    ).toEqual([
      'detection.baseline.enabled must be true or false, got "yes"',
      "detection.baseline.warmBlocks must be from 0 to 100000, got -1",
    ]);
  });

  it("thresholds out of range", () => {
    expect(
      problems(withChanges((c) => (c.detection = { alertThreshold: -0.1, pauseThreshold: 1.5 }))),
    ).toEqual([
      "detection.alertThreshold must be between 0 and 1, got -0.1",
      "detection.pauseThreshold must be between 0 and 1, got 1.5",
    ]);
  });

  it("no targets", () => {
    expect(problems(withChanges((c) => (c.targets = [])))).toEqual([
      "targets must list at least one target (a contract to protect)",
    ]);
    expect(problems(withChanges((c) => delete c.targets))).toEqual([
      'targets is required: expected a list of contracts to protect, like [{"address": "0x…"}]',
    ]);
  });

  it("a target listed twice (in another case)", () => {
    const bad = withChanges((c) => (c.targets = [{ address: MARKET }, { address: MARKET.toLowerCase() }]));
    expect(problems(bad)).toEqual([
      `targets[1].address ${MARKET.toLowerCase()} duplicates targets[0].address: list each contract once`,
    ]);
  });

  it("two targets with the same name", () => {
    const bad = withChanges(
      (c) =>
        (c.targets = [
          { address: MARKET, name: "market" },
          { address: PAIR, name: "market" },
        ]),
    );
    expect(problems(bad)).toEqual([
      'targets[1].name "market" is already used by targets[0]: names must be unique',
    ]);
  });

  it("an unknown key, with a suggestion (and no second message for the key it misspells)", () => {
    const bad = withChanges((c) => {
      c.sentinal = c.sentinel;
      delete c.sentinel;
    });
    expect(problems(bad)).toEqual(['unknown field "sentinal" at the top level (did you mean "sentinel"?)']);
    expect(problems(withChanges((c) => (c.detection = { pauseThresold: 0.9 })))).toEqual([
      'unknown field "pauseThresold" in detection (did you mean "pauseThreshold"?)',
    ]);
    expect(problems(withChanges((c) => (c.targets = [{ address: MARKET, nmae: "x" }])))).toEqual([
      'unknown field "nmae" in targets[0] (did you mean "name"?)',
    ]);
    expect(problems(withChanges((c) => (c.queue = { size: 5 })))).toEqual([
      'unknown field "size" in queue (expected one of "capacity")',
    ]);
  });

  it("a private key written into the file", () => {
    const key = `0x${"ab".repeat(32)}`;
    const list = problems(
      withChanges((c) => (c.sentinel = { privateKeyEnv: "VIGIL_SENTINEL_KEY", privateKey: key })),
    );
    expect(list).toEqual([
      'unknown field "privateKey" in sentinel (did you mean "privateKeyEnv"?); ' +
        "secrets never go in the config file: name an environment variable instead",
    ]);
    const pasted = problems(withChanges((c) => (c.sentinel = { privateKeyEnv: key })));
    expect(pasted).toEqual([
      'sentinel.privateKeyEnv must be the NAME of an environment variable (like "VIGIL_SENTINEL_KEY"), not a key: ' +
        "the value looks like a private key (not shown); remove it from the file and treat that key as exposed",
    ]);
    // Without 0x the value even fits the variable-name pattern; it is still caught and not shown.
    const bare = problems(withChanges((c) => (c.sentinel = { privateKeyEnv: "ab".repeat(32) })));
    expect(bare).toHaveLength(1);
    expect([...list, ...pasted, ...bare].join("\n")).not.toContain("abab");
  });

  it("a sentinel with both key sources, with neither, or with half a keystore", () => {
    const both = withChanges(
      (c) => (c.sentinel = { privateKeyEnv: "K", keystore: "k.json", passwordEnv: "P" }),
    );
    expect(problems(both)).toEqual([
      'sentinel must name one key source, not both: either "privateKeyEnv" or "keystore" with "passwordEnv"',
    ]);
    expect(problems(withChanges((c) => (c.sentinel = {})))).toEqual([
      'sentinel must name a key source: {"privateKeyEnv": "VIGIL_SENTINEL_KEY"} or ' +
        '{"keystore": "key.json", "passwordEnv": "VIGIL_KEYSTORE_PASSWORD"}',
    ]);
    expect(problems(withChanges((c) => (c.sentinel = { keystore: "k.json" })))).toEqual([
      'sentinel.passwordEnv is required with sentinel.keystore: expected the name of an environment variable, like "VIGIL_SENTINEL_KEY"',
    ]);
    expect(problems(withChanges((c) => (c.sentinel = { privateKeyEnv: "1BAD" })))).toEqual([
      'sentinel.privateKeyEnv must be the name of an environment variable, like "VIGIL_SENTINEL_KEY" ' +
        "(letters, digits and _, not starting with a digit); the value is not shown",
    ]);
  });

  it("no relays in active mode", () => {
    expect(() =>
      parseConfig(
        withChanges((c) => (c.relays = [])),
        "config.json",
      ),
    ).toThrow('config.json: relays must list at least one relay unless response.mode is "shadow"');
    expect(problems(withChanges((c) => delete c.relays))).toEqual([
      'relays must list at least one relay unless response.mode is "shadow"',
    ]);
  });

  it("the same relay twice", () => {
    const bad = withChanges(
      (c) => (c.relays = [{ url: "http://127.0.0.1:8550" }, { url: "http://127.0.0.1:8550" }]),
    );
    expect(problems(bad)).toEqual(["relays[1].url duplicates relays[0].url: list each relay once"]);
  });

  it("forks out of range", () => {
    expect(problems(withChanges((c) => (c.simulator = { forks: 17 })))).toEqual([
      "simulator.forks must be from 1 to 16, got 17",
    ]);
    expect(problems(withChanges((c) => (c.simulator = { forks: 0 })))).toEqual([
      "simulator.forks must be from 1 to 16, got 0",
    ]);
  });

  it("wrong types: a string for a number, a fraction for an integer, a string for a boolean", () => {
    const bad = withChanges((c) => {
      c.chain = { rpcUrl: "http://127.0.0.1:8545", wsUrl: "ws://127.0.0.1:8545", chainId: "31337" };
      c.simulator = { timeoutMs: 2.5 };
      c.response = { publicFallback: "no" };
    });
    expect(problems(bad)).toEqual([
      'chain.chainId must be an integer of at least 1, got the string "31337"',
      "simulator.timeoutMs must be an integer from 50 to 60000, got 2.5",
      'response.publicFallback must be true or false, got "no"',
    ]);
  });

  it("a value outside an enum", () => {
    expect(problems(withChanges((c) => (c.response = { mode: "passive" })))).toEqual([
      'response.mode must be one of "active", "shadow", got "passive"',
    ]);
  });

  it("a tip margin above the highest tip", () => {
    expect(problems(withChanges((c) => (c.response = { tipMarginGwei: 600 })))).toEqual([
      "response.tipMarginGwei (600) must not exceed response.maxPriorityFeeGwei (500)",
    ]);
  });

  it("the relay-auth key in the sentinel's variable", () => {
    expect(problems(withChanges((c) => (c.relayAuthKeyEnv = "VIGIL_SENTINEL_KEY")))).toEqual([
      "relayAuthKeyEnv must name a different variable than sentinel.privateKeyEnv: " +
        "the relay-auth key only signs requests to relays, keep it separate from the sentinel key",
    ]);
  });

  it("a webhook URL is never echoed beyond its host", () => {
    const bad = withChanges(
      (c) =>
        (c.alerts = {
          webhooks: [{ url: "hxxps://hooks.example.com/services/T0/B0/TOKEN", minSeverity: "all" }],
        }),
    );
    const list = problems(bad);
    expect(list).toEqual([
      'alerts.webhooks[0].url must start with http:// or https://, got "hxxps://hooks.example.com/…"',
      'alerts.webhooks[0].minSeverity must be one of "alert", "pause", got "all"',
    ]);
  });

  it("reports every problem of a config together, in one error, one per line", () => {
    const bad = {
      chain: { rpcUrl: "http://127.0.0.1:8545", wsUrl: "https://127.0.0.1:8545", chainId: 31337 },
      targets: [{ address: MARKET }, { address: "0x123" }, { address: MARKET }],
      sentinal: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
      relays: [],
      detection: { alertThreshold: 0.9, pauseThreshold: 0.5 },
      simulator: { forks: 40, timeoutMs: "fast" },
    };
    let error: unknown;
    try {
      parseConfig(bad, "vigil.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(VigilError);
    const e = error as ConfigError;
    expect([...e.problems].sort()).toEqual(
      [
        "guardian is required: expected a 20-byte hex address like 0xAbC…",
        'unknown field "sentinal" at the top level (did you mean "sentinel"?)',
        'chain.wsUrl must start with ws:// or wss://, got "https://127.0.0.1:8545"',
        'targets[1].address must be a 20-byte hex address like 0xAbC…, got "0x123"',
        `targets[2].address ${MARKET} duplicates targets[0].address: list each contract once`,
        'relays must list at least one relay unless response.mode is "shadow"',
        "detection.alertThreshold (0.9) must be below detection.pauseThreshold (0.5)",
        "simulator.forks must be from 1 to 16, got 40",
        'simulator.timeoutMs must be an integer from 50 to 60000, got "fast"',
      ].sort(),
    );
    expect(e.shortMessage).toBe("Invalid configuration vigil.json (9 problems)");
    const lines = e.message.split("\n").filter((l) => l.startsWith("  vigil.json: "));
    expect(lines).toHaveLength(9);
    expect(e.message).toMatch(/What to do: fix the fields above/);
  });
});

describe("the schema", () => {
  it("describes every property, so an editor can show help", () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => {
          walk(n, `${at}[${i}]`);
        });
        return;
      }
      if (typeof node !== "object" || node === null) return;
      const n = node as Record<string, unknown>;
      if (typeof n.properties === "object" && n.properties !== null) {
        for (const [k, v] of Object.entries(n.properties)) {
          const child = v as Record<string, unknown>;
          if (child !== null && typeof child === "object" && typeof child.description !== "string") {
            missing.push(`${at}.${k}`);
          }
        }
      }
      for (const [k, v] of Object.entries(n)) walk(v, `${at}.${k}`);
    };
    walk(configSchema(), "#");
    expect(missing).toEqual([]);
  });

  it("is the one the example points its editor at", () => {
    const example = JSON.parse(readFileSync(EXAMPLE, "utf8")) as { $schema: string };
    expect(resolve("examples", example.$schema)).toBe(resolve("schema/vigil.config.schema.json"));
  });
});

describe("suggestions", () => {
  it("uses a small edit distance, transpositions included", () => {
    expect(editDistance("sentinal", "sentinel")).toBe(1);
    expect(editDistance("chian", "chain")).toBe(1);
    expect(suggest("Relays", ["relays", "targets"])).toBe("relays");
    expect(suggest("foo", ["relays", "targets"])).toBeUndefined();
  });
});
