import type { KeyObject } from 'node:crypto';
import type { RegistryClient } from '../registry/client.js';
import type { RunContext } from '../support/context.js';

export interface SignResult {
  signer: string;
  ok: boolean;
  /** The images signed: all of them on success, none otherwise (one request signs all). */
  signed: string[];
  /** One line for people saying what failed. */
  error?: string;
}

/** A signed statement to attach to a pushed image (SLSA provenance). */
export interface Attestation {
  /** `registry/repository@sha256:…`: the pushed image. */
  image: string;
  /** The in-toto statement, signed as its JSON text. */
  statement: { readonly predicateType: string };
}

/** One configured signer, its secret already read and checked: signs a list of images in one go. */
export interface ImageSigner {
  readonly name: string;
  /**
   * Never throws for a failed signing: it returns ok=false with the reason. `registry` is the run's one registry
   * client, shared by all signers so tokens are fetched once.
   */
  sign(images: string[], registry: RegistryClient, ctx: Pick<RunContext, 'log' | 'signal' | 'sleep'>): Promise<SignResult>;
  /** Signers that attach attestations (cosign): signs each statement and stores it beside its image. */
  attest?(attestations: readonly Attestation[], registry: RegistryClient, ctx: Pick<RunContext, 'log' | 'signal'>): Promise<SignResult>;
  /**
   * Signers with a key (cosign): its public key, and the repository it stores signatures and attestations in when not
   * beside the image; reuse trusts what the run's own key attested.
   */
  trustKey?: { publicKey: KeyObject; repository?: { registry: string; repository: string } };
}
