import type { Command } from "commander";
import type { Hex } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { InputError } from "../internal/errors.ts";
import { createKeystore, SecretError } from "../internal/keystore.ts";

/**
 * `vigil keystore create`: writes the sentinel key as an encrypted JSON keystore (Web3 Secret
 * Storage v3, ethers' scrypt), from a key in an environment variable or a new random one. The
 * password comes from an environment variable or a prompt that does not echo. Only the address
 * is printed: never the key, never the password.
 */

export const DEFAULT_PASSWORD_ENV = "VIGIL_KEYSTORE_PASSWORD";

export type KeystoreCreateOptions = {
  out: string;
  keyEnv?: string;
  passwordEnv?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Asks for the password (twice) when the variable is not set; undefined: no terminal, fail. */
  prompt?: (questions: readonly string[]) => Promise<string[]>;
  /** Tests only: a lower scrypt cost. */
  scryptN?: number;
};

export async function createKeystoreFile(
  options: KeystoreCreateOptions,
): Promise<{ address: string; path: string; generated: boolean }> {
  const env = options.env ?? process.env;
  const passwordEnv = options.passwordEnv ?? DEFAULT_PASSWORD_ENV;

  let key: Hex;
  let generated = false;
  if (options.keyEnv) {
    const raw = env[options.keyEnv];
    if (raw === undefined) {
      throw new SecretError(`Environment variable ${options.keyEnv} is not set (--key-env)`, {
        hint: `set ${options.keyEnv} to the private key to encrypt, or leave out --key-env to generate a new key`,
      });
    }
    key = raw.trim() as Hex; // createKeystore validates it without ever showing it
  } else {
    key = generatePrivateKey();
    generated = true;
  }

  let password = env[passwordEnv];
  if (password === undefined) {
    if (!options.prompt) {
      throw new InputError(`${passwordEnv} is not set and there is no terminal to ask for a password`, {
        hint: `set ${passwordEnv} (the daemon reads the password from the variable named by sentinel.passwordEnv)`,
      });
    }
    const [first, again] = await options.prompt(["Keystore password: ", "Repeat the password: "]);
    if (first !== again) throw new InputError("the two passwords differ; nothing was written");
    password = first ?? "";
  }
  if (password.length < 8) {
    throw new SecretError(
      "the keystore password is too short (fewer than 8 characters); nothing was written",
      {
        hint: "use a long passphrase: the keystore is only as strong as its password",
      },
    );
  }
  const address = await createKeystore(key, password, options.out, {
    ...(options.scryptN === undefined ? {} : { scryptN: options.scryptN }),
  });
  return { address, path: options.out, generated };
}

/**
 * Asks each question on the terminal and reads one line per question without echoing it (raw
 * mode; backspace edits, Ctrl-C or Ctrl-D abort). Typed-ahead input is kept for the next question.
 */
export function promptHidden(questions: readonly string[]): Promise<string[]> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const answers: string[] = [];
    let value = "";
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.setEncoding("utf8");
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      if (error) {
        process.stderr.write("\n");
        reject(error);
      } else resolve(answers);
    };
    const ask = () => process.stderr.write(questions[answers.length] ?? "");
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          process.stderr.write("\n");
          answers.push(value);
          value = "";
          if (answers.length === questions.length) return finish();
          ask();
        } else if (ch === "\u0003" || ch === "\u0004") {
          return finish(new InputError("cancelled; nothing was written"));
        } else if (ch === "\u007f" || ch === "\b") {
          value = value.slice(0, -1);
        } else if (ch >= " ") {
          value += ch;
        }
      }
    };
    stdin.on("data", onData);
    stdin.resume();
    ask();
  });
}

export function registerKeystore(program: Command): void {
  const keystore = program.command("keystore").description("encrypted key files for the sentinel");
  keystore
    .command("create")
    .description("encrypt the sentinel key (from --key-env, or a new random key) into a JSON keystore")
    .requiredOption("--out <file>", "where to write the keystore (never overwritten; mode 0600)")
    .option(
      "--key-env <VAR>",
      "environment variable holding the private key to encrypt (default: generate one)",
    )
    .option(
      "--password-env <VAR>",
      "environment variable holding the password (else a prompt on a terminal)",
      DEFAULT_PASSWORD_ENV,
    )
    .option("--json", "print one JSON document")
    .action(async (opts: { out: string; keyEnv?: string; passwordEnv: string; json?: boolean }) => {
      const result = await createKeystoreFile({
        out: opts.out,
        passwordEnv: opts.passwordEnv,
        ...(opts.keyEnv ? { keyEnv: opts.keyEnv } : {}),
        ...(process.stdin.isTTY ? { prompt: promptHidden } : {}),
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      // stdout holds only the address (scripts read it); the guidance goes to stderr.
      process.stdout.write(`${result.address}\n`);
      process.stderr.write(
        `Wrote ${result.path} (${result.generated ? "a new random key" : `the key from $${opts.keyEnv}`}).\n` +
          "Register the address as a sentinel (vigil governance add-sentinel), fund it for gas, and point\n" +
          `sentinel.keystore at the file with sentinel.passwordEnv naming the password variable.\n`,
      );
    });
}
