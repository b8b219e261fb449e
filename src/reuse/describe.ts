import { canonicalLines, type ContextEntry, type Inputs } from '../inputs/index.js';
import { maskArgs } from '../output/redact.js';

/** Why an image found by its inputs tag matches this build, in one line: what the digest covers. */
export function describeInputs(inputs: Inputs): string {
  const args = Object.keys(inputs.buildArgs);
  const parts = [
    `Dockerfile ${inputs.dockerfile}`,
    `${inputs.files} context ${inputs.files === 1 ? 'file' : 'files'} (${inputs.bytes} bytes${inputs.ignoreFile ? `, ${inputs.ignoreFile} applied` : ''})`,
    args.length > 0 ? `declared build args ${args.join(', ')}` : 'no declared build args',
    ...(inputs.target ? [`target ${inputs.target}`] : []),
    ...(inputs.platforms.length > 0 ? [`platforms ${inputs.platforms.join(',')}`] : []),
    inputs.baseImages.length > 0 ? `base ${inputs.baseImages.map((b) => `${b.name}@${b.digest ?? 'unresolved'}`).join(', ')}` : 'no base image',
  ];
  return `its tag names the inputs digest of this build, ${inputs.digest}, over ${parts.join('; ')}`;
}

/** Every input with its hash, one line each (the canonical text), for --debug: secret-looking arguments' values masked. */
export function inputsListing(inputs: Inputs, entries: readonly ContextEntry[]): string[] {
  return [...canonicalLines({ ...inputs, buildArgs: maskArgs(inputs.buildArgs), entries })].map((line) => line.trimEnd());
}
