/**
 * Reading a password for the CLI without it ever reaching argv (visible in `ps`) or the terminal:
 * from standard input when piped, otherwise prompted twice with echo off.
 */
import { CliError } from "./context";

/** The first line of standard input (a trailing newline is not part of the password). */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const line = text.split(/\r?\n/)[0] ?? "";
  if (!line) throw new CliError("No password on standard input: pipe it in, one line.", 2);
  return line;
}

/** Prompts on the terminal with echo off; Ctrl-C cancels. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = "";
    process.stderr.write(question);
    const done = (err: Error | null) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done(null);
        if (ch === "\u0003") return done(new CliError("Cancelled.", 130));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** `--password-stdin`, or a prompt (twice, must match) on a terminal, or piped standard input. */
export async function readNewPassword(opts: { passwordStdin?: boolean }): Promise<string> {
  if (opts.passwordStdin || !process.stdin.isTTY) return readPasswordFromStdin();
  const first = await promptHidden("Password (12 characters or more): ");
  const second = await promptHidden("Password again: ");
  if (first !== second) throw new CliError("The two passwords differ; nothing was created.", 1);
  return first;
}
