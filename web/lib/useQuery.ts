"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { Document } from "./document.ts";
import { RequestError, request } from "./graphql.ts";

export type QueryState<TData> = {
  data: TData | undefined;
  error: RequestError | undefined;
  /** True while a request is in flight (also during a reload, when `data` is still shown). */
  loading: boolean;
  /** Fetches again; settles once the new answer (or error) is in `data` (or `error`). */
  reload: () => Promise<void>;
};

/**
 * Runs a query when the component mounts and whenever its variables change. Data stays on
 * screen while a reload is in flight, so pages do not flash back to a spinner after a change.
 */
export function useQuery<TData, TVariables>(
  document: Document<TData, TVariables>,
  variables: TVariables,
  { skip = false }: { skip?: boolean } = {},
): QueryState<TData> {
  const key = JSON.stringify(variables);
  const [nonce, setNonce] = useState(0);
  // Callers of reload() waiting for the answer of the fetch it started.
  const waiting = useRef<(() => void)[]>([]);
  const [state, setState] = useState<Omit<QueryState<TData>, "reload">>({
    data: undefined,
    error: undefined,
    loading: !skip,
  });

  useEffect(() => {
    if (skip) {
      for (const done of waiting.current.splice(0)) done();
      return;
    }
    let cancelled = false;
    setState((previous) => ({ ...previous, loading: true }));
    request(
      document,
      // The variables of a generic document: the compile-time check happened at the call site.
      ...([JSON.parse(key)] as Parameters<typeof request<TData, TVariables>> extends [
        unknown,
        ...infer Rest,
      ]
        ? Rest
        : never),
    ).then(
      (data) => {
        if (cancelled) return;
        setState({ data, error: undefined, loading: false });
        for (const done of waiting.current.splice(0)) done();
      },
      (error: unknown) => {
        if (cancelled) return;
        setState((previous) => ({
          data: previous.data,
          error: toRequestError(error),
          loading: false,
        }));
        for (const done of waiting.current.splice(0)) done();
      },
    );
    return () => {
      cancelled = true;
    };
  }, [document, key, nonce, skip]);

  const reload = useCallback(
    () =>
      new Promise<void>((resolve) => {
        waiting.current.push(resolve);
        setNonce((n) => n + 1);
      }),
    [],
  );
  return { ...state, reload };
}

export function toRequestError(error: unknown): RequestError {
  return error instanceof RequestError
    ? error
    : new RequestError("SERVER", "Something unexpected went wrong. Try again.");
}
