import type { Env } from '../ci/gitstate.js';
import type { Logger } from '../output/logger.js';
import type { RegistryClient } from '../registry/client.js';

/** What signing may touch: the environment, the logger (which masks secrets), and the run's stop signal. */
export interface SignIO {
  env: Env;
  log: Logger;
  signal: AbortSignal;
}

/** SignIO plus the run's one registry client, shared by all signers so tokens are fetched once. */
export interface SignContext extends SignIO {
  registry: RegistryClient;
}

export interface SignResult {
  signer: string;
  ok: boolean;
  /** The images signed: all of them on success, none otherwise (one request signs all). */
  signed: string[];
  /** One line for people saying what failed. */
  error?: string;
}

/** One configured signer, its secret already read and checked: signs a list of images in one go. */
export interface ImageSigner {
  readonly name: string;
  /** Never throws for a failed signing: it returns ok=false with the reason. */
  sign(images: string[], io: SignContext): Promise<SignResult>;
}
