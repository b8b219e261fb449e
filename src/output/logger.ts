import { redactText } from './redact.js';

/** Everything for people goes to stderr; known secrets are masked in every line. */
export class Logger {
  readonly secrets: Array<string | undefined> = [];

  constructor(private readonly stream: NodeJS.WritableStream, public debugEnabled: boolean) {}

  info(message: string): void {
    this.write(message);
  }

  warn(message: string): void {
    this.write(`warning: ${message}`);
  }

  error(message: string): void {
    this.write(message.startsWith('error:') ? message : `error: ${message}`);
  }

  debug(message: string): void {
    if (this.debugEnabled) this.write(`debug: ${message}`);
  }

  redact(text: string): string {
    return redactText(text, this.secrets);
  }

  private write(message: string): void {
    this.stream.write(`${this.redact(message)}\n`);
  }
}
