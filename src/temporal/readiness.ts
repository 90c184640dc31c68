// Start-up check of the Temporal side, for the worker and the ingress, on any server (DESIGN "Production
// topology"): the namespace exists and the incident search attributes are registered on it. Without them
// every incident's workflow task fails with BadSearchAttributes and nothing says so. What is missing is
// registered where the server allows it (a self-hosted cluster, the dev server); otherwise (Temporal Cloud,
// or no operator permission) start-up stops with the exact command to run.
import type { ConnectionLike } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

const { IndexedValueType } = temporal.api.enums.v1;

/** Namespace retention when start-up registers the namespace itself: closed incidents browsable 30 days. */
export const DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600;

export class TemporalNotReadyError extends Error {
  constructor(
    message: string,
    /** What the operator runs to fix it. */
    readonly commands: string[],
  ) {
    super(`${message}\nRun:\n${commands.map((c) => `  ${c}`).join('\n')}`);
    this.name = 'TemporalNotReadyError';
  }
}

export interface ReadinessReport {
  namespace: string;
  /** True when this check registered the namespace. */
  namespaceCreated: boolean;
  /** Search attributes this check registered (empty when all were there). */
  registered: string[];
}

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC = {
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAUTHENTICATED: 16,
};
const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;
const denied = (err: unknown) =>
  [GRPC.PERMISSION_DENIED, GRPC.UNIMPLEMENTED, GRPC.UNAUTHENTICATED].includes(codeOf(err) ?? -1);

export function searchAttributeCommands(namespace: string, names: string[]): string[] {
  return names.map(
    (name) =>
      `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${SEARCH_ATTRIBUTES[name as keyof typeof SEARCH_ATTRIBUTES]}`,
  );
}

/**
 * Checks (and where allowed, fixes) the namespace and the search attributes. Throws TemporalNotReadyError
 * with the commands to run when it cannot; any other error (the server unreachable) is thrown as it is.
 */
export async function ensureTemporalReady(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  namespace: string,
  log: (line: string) => void = () => undefined,
): Promise<ReadinessReport> {
  let namespaceCreated = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (codeOf(err) !== GRPC.NOT_FOUND) throw err;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(DEFAULT_RETENTION_SECONDS * 1000),
        description: 'incident-response',
      });
      namespaceCreated = true;
      log(`registered namespace ${namespace} (retention 30 days)`);
    } catch (regErr) {
      // ALREADY_EXISTS: another process registered it in between, which is as good.
      if (codeOf(regErr) !== GRPC.ALREADY_EXISTS) {
        if (denied(regErr))
          throw new TemporalNotReadyError(
            `namespace ${namespace} does not exist and this connection may not create it (${(regErr as Error).message})`,
            [`temporal operator namespace create --namespace ${namespace} --retention 720h`],
          );
        throw regErr;
      }
    }
  }

  // A namespace just registered reaches the frontends' registry within its refresh (about 10 s).
  let missing: string[];
  for (let attempt = 0; ; attempt++) {
    try {
      missing = await missingSearchAttributes(connection, namespace);
      break;
    } catch (err) {
      if (!namespaceCreated || codeOf(err) !== GRPC.NOT_FOUND || attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (missing.length === 0) return { namespace, namespaceCreated, registered: [] };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    if (denied(err))
      throw new TemporalNotReadyError(
        `search attributes ${missing.join(', ')} are not registered on namespace ${namespace}, and this connection may not register them (${(err as Error).message}); incidents would fail every workflow task with BadSearchAttributes`,
        searchAttributeCommands(namespace, missing),
      );
    throw err;
  }
  // Registration is visible to the frontend at once on SQL visibility; give a cache a few seconds anyway.
  for (let attempt = 0; ; attempt++) {
    const still = await missingSearchAttributes(connection, namespace);
    if (still.length === 0) break;
    if (attempt >= 20)
      throw new TemporalNotReadyError(
        `search attributes ${still.join(', ')} were registered on ${namespace} but the server does not list them`,
        searchAttributeCommands(namespace, still),
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`registered search attributes ${missing.join(', ')} on namespace ${namespace}`);
  return { namespace, namespaceCreated, registered: missing };
}

async function missingSearchAttributes(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  let listed: Record<string, unknown>;
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    listed = { ...(res.systemAttributes ?? {}), ...(res.customAttributes ?? {}) };
  } catch (err) {
    if (!denied(err)) throw err;
    // No operator access to list them (a Cloud API key without the namespace admin role).
    throw new TemporalNotReadyError(
      `cannot list the search attributes of ${namespace} (${(err as Error).message}); make sure they exist`,
      searchAttributeCommands(namespace, Object.keys(SEARCH_ATTRIBUTES)),
    );
  }
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in listed));
}
