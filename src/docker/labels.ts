import { SCHEMA_VERSION } from '../desired/schema.js';
import type { ContainerRole } from '../model/types.js';
import { memoize } from '../memo/memo.js';

/** Every label the reconciler writes lives under this prefix (docker compose style). */
export const LABEL_PREFIX = 'io.mcp-reconciler';
export const Labels = {
  /** Always "mcp-reconciler". Ownership = this label + matching instance. */
  ManagedBy: `${LABEL_PREFIX}.managed-by`,
  /** Settings `instance`: two stacks on one engine never touch each other's assets. */
  Instance: `${LABEL_PREFIX}.instance`,
  /** server | gateway | edge */
  Role: `${LABEL_PREFIX}.role`,
  /** Server name (role server only). */
  Server: `${LABEL_PREFIX}.server`,
  /** Desired file the container came from. */
  Source: `${LABEL_PREFIX}.source`,
  /** Hash of the canonical spec (incl. keyed digest of secrets); drift = mismatch. */
  SpecHash: `${LABEL_PREFIX}.spec-hash`,
  /** Canonical JSON of the spec (no secret values: env files appear only as a keyed digest). */
  Spec: `${LABEL_PREFIX}.spec`,
  SchemaVersion: `${LABEL_PREFIX}.schema-version`,
  /** On images the reconciler built (ADR 0023): the context hash. With the owner labels it marks the image as ours. */
  BuildContext: `${LABEL_PREFIX}.build-context`,
} as const;
export const MANAGED_BY = 'mcp-reconciler';

export function ownerLabels(
  instance: string,
  role: ContainerRole | 'network' | 'volume',
  extra: { server?: string; source?: string } = {},
): Record<string, string> {
  const l: Record<string, string> = {
    [Labels.ManagedBy]: MANAGED_BY,
    [Labels.Instance]: instance,
    [Labels.Role]: role,
    [Labels.SchemaVersion]: SCHEMA_VERSION,
  };
  if (extra.server) l[Labels.Server] = extra.server;
  if (extra.source) l[Labels.Source] = extra.source;
  return l;
}

export function isOwned(labels: Record<string, string> | undefined, instance: string): boolean {
  return !!labels && labels[Labels.ManagedBy] === MANAGED_BY && labels[Labels.Instance] === instance;
}

export function parseRole(v: string | undefined): ContainerRole | null {
  return v === 'server' || v === 'gateway' || v === 'edge' || v === 'edge-docker' || v === 'front' ? v : null;
}

/**
 * The spec label (canonical JSON of what a container was created from) as an object; null when
 * absent or not an object. Remembered by the label's text: every pass observes every container.
 */
export const parseSpecLabel: (v: string | undefined) => Record<string, unknown> | null = memoize(
  (v: string | undefined): Record<string, unknown> | null => {
    // Stryker disable next-line ConditionalExpression: equivalent; JSON.parse of a missing or empty label throws, which returns null too
    if (!v) return null;
    try {
      const x = JSON.parse(v) as unknown;
      return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  },
  // Stryker disable next-line StringLiteral: equivalent; a missing label's key only needs to be text that parses to no object
  (v) => v ?? '',
  4096,
);
