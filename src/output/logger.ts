import { Secrets } from '../support/secrets.js';

/** Everything for people goes to stderr; known secrets are masked in every line. */
export class Logger {
  readonly secrets = new Secrets();

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
    return this.secrets.redact(text);
  }

  private write(message: string): void {
    this.stream.write(`${this.redact(message)}\n`);
  }
}
