/**
 * Runs a service's command-line entry point: `main` gets the arguments and returns the exit
 * code; a failure prints one line, `<name>: <message>`, and exits 1.
 */
export function runCommand(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
