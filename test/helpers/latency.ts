import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from "kysely";
import type { Store } from "../../packages/engine/src/store/port.js";

/** What a query does and to which table, as a latency rule sees it. */
export interface QueryInfo {
  kind: "select" | "insert" | "update" | "delete" | "other";
  table: string | undefined;
}

const KINDS: Record<string, QueryInfo["kind"]> = {
  SelectQueryNode: "select",
  InsertQueryNode: "insert",
  UpdateQueryNode: "update",
  DeleteQueryNode: "delete",
};

function tableOf(node: RootOperationNode): string | undefined {
  const n = node as unknown as {
    from?: { froms?: { table?: { identifier?: { name?: string } } }[] };
    into?: { table?: { identifier?: { name?: string } } };
    table?: { table?: { identifier?: { name?: string } } };
  };
  return n.from?.froms?.[0]?.table?.identifier?.name ?? n.into?.table?.identifier?.name ?? n.table?.table?.identifier?.name;
}

/**
 * The same store (same database, same connections) with extra latency on the queries `delayMs` picks:
 * a loaded database, on demand, so a race that a busy machine hits by chance is hit every run.
 * The result is delayed after the query ran; nothing about the query or its result changes.
 */
export function withLatency(store: Store, delayMs: (q: QueryInfo) => number): Store {
  const delays = new WeakMap<object, number>();
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const ms = delayMs({ kind: KINDS[args.node.kind] ?? "other", table: tableOf(args.node) });
      if (ms > 0) delays.set(args.queryId, ms);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const ms = delays.get(args.queryId);
      if (ms) await new Promise((r) => setTimeout(r, ms));
      return args.result;
    },
  };
  return { ...store, db: store.db.withPlugin(plugin) };
}
