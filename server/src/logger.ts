import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Structured logs. Credentials that could ever reach a log object are redacted by path;
 * the code never logs request bodies, variables or headers wholesale.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "coffer" },
      redact: {
        paths: [
          "authorization",
          "cookie",
          "password",
          "token",
          "*.authorization",
          "*.cookie",
          "*.password",
          "*.token",
          "headers.authorization",
          "headers.cookie",
          'headers["set-cookie"]',
          "*.headers.authorization",
          "*.headers.cookie",
          "variables",
          "*.variables",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
