"use client";

import { useEffect, useState } from "react";
import type { Document } from "./document.ts";
import { request, type RequestError } from "./graphql.ts";
import { toRequestError, useQuery } from "./useQuery.ts";

type Page<T> = {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

/**
 * A cursor connection shown as one growing list: the first page loads with the variables,
 * "Load more" appends the next. Changing the variables starts over.
 */
export function usePaged<TData, TVariables extends { after: string | null }, TNode>(
  document: Document<TData, TVariables>,
  variables: Omit<TVariables, "after">,
  select: (data: TData) => Page<TNode> | undefined,
) {
  const first = useQuery(document, { ...variables, after: null } as TVariables);
  const key = JSON.stringify(variables);
  const [more, setMore] = useState<{ key: string; pages: Page<TNode>[] }>({ key, pages: [] });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<RequestError>();

  // New variables or a reload of the first page: the extra pages are stale.
  useEffect(() => {
    setMore({ key, pages: [] });
  }, [key, first.data]);

  const firstPage = first.data ? select(first.data) : undefined;
  const pages = firstPage ? [firstPage, ...(more.key === key ? more.pages : [])] : [];
  const last = pages[pages.length - 1];

  async function loadMore() {
    if (!last?.pageInfo.endCursor) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const data = await request(
        document,
        ...([{ ...variables, after: last.pageInfo.endCursor }] as unknown as Parameters<
          typeof request<TData, TVariables>
        > extends [unknown, ...infer Rest]
          ? Rest
          : never),
      );
      const page = select(data);
      if (page) setMore((m) => ({ key, pages: [...(m.key === key ? m.pages : []), page] }));
    } catch (caught) {
      setMoreError(toRequestError(caught));
    }
    setLoadingMore(false);
  }

  return {
    data: first.data,
    nodes: pages.flatMap((p) => p.edges.map((e) => e.node)),
    error: first.error ?? moreError,
    loading: first.loading || loadingMore,
    hasMore: last?.pageInfo.hasNextPage ?? false,
    loadMore,
    reload: first.reload,
  };
}
