/**
 * Runs a bench's `main` and exits explicitly (an embedded PostgreSQL must not keep the
 * process alive): with the code `main` returns (0 when none), or 2 when it throws.
 */
export function runBench(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
