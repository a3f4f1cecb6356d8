import { pino } from "pino";
import { PinoPretty } from "pino-pretty";

export type Logger = pino.Logger;

/**
 * Structured logs (pino). Messages are past tense ("Built block"), fields snake_case.
 * Anything that could hold a key is redacted even if a caller passes it by mistake.
 */
export function createLogger(
  options: {
    level?: string;
    name?: string;
    format?: "json" | "pretty" | "auto";
    /** Write JSON lines to this file instead of stderr. */
    file?: string;
  } = {},
): Logger {
  // Logs go to stderr so that a command's stdout holds only its result (a summary or --json).
  // On a terminal they are pretty-printed for people; piped (journald, files) they stay JSON.
  const format = options.format ?? (process.env.VIGIL_LOG_FORMAT as "json" | "pretty" | undefined) ?? "auto";
  const pretty =
    options.file === undefined &&
    (format === "pretty" || (format === "auto" && process.stderr.isTTY === true));
  const destination = options.file
    ? pino.destination({ dest: options.file, sync: false })
    : pretty
      ? PinoPretty({ destination: 2, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "name" })
      : pino.destination(2);
  return pino(
    {
      name: options.name ?? "vigil",
      level: options.level ?? process.env.VIGIL_LOG_LEVEL ?? "info",
      base: null,
      redact: {
        paths: [
          "privateKey",
          "*.privateKey",
          "key",
          "*.key",
          "password",
          "*.password",
          "mnemonic",
          "*.mnemonic",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

/** A logger that writes nothing (tests, `--json` runs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
