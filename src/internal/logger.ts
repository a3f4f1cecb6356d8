import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * Structured logs (pino). Messages are past tense ("Built block"), fields snake_case.
 * Anything that could hold a key is redacted even if a caller passes it by mistake.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  // Logs go to stderr so that a command's stdout holds only its result (a summary or --json).
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
    pino.destination(2),
  );
}

/** A logger that writes nothing (tests, `--json` runs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
