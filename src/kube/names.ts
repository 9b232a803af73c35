/**
 * Names both sides of a stdio server in a cluster agree on (docs/adr/0018): the export writes them,
 * the edge's pods/attach adapter (src/kube/attach.ts) relies on them. No I/O here.
 */

/** The container of a stdio server's pod that runs the server, unmodified, with stdin open. */
export const SERVER_CONTAINER = 'server';
/** Labels of a stdio server's pod; the edge attaches to no pod without them. */
export const STDIO_POD_LABELS = { 'io.mcp-reconciler/role': 'server', 'io.mcp-reconciler/transport': 'stdio' } as const;

/** The pod of a stdio server's StatefulSet (replicas: 1): `<name>-0`, a name a Role can list. */
export function stdioPodName(server: string): string {
  return `${server}-0`;
}
