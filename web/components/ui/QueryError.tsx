import Link from "next/link";
import type { RequestError } from "../../lib/graphql.ts";
import { Notice } from "./Notice.tsx";

/** What a failed page load says, in words a person can act on. */
export function QueryError({ error, retry }: { error: RequestError; retry?: () => void }) {
  if (error.code === "UNAUTHENTICATED")
    return (
      <Notice tone="warning" title="Your session has ended">
        <Link href="/">Sign in again</Link> to continue.
      </Notice>
    );
  if (error.code === "FORBIDDEN")
    return (
      <Notice tone="warning" title="You are not allowed to see this">
        {error.message}. Ask an organization owner or admin if you need access.
      </Notice>
    );
  return (
    <Notice tone="danger" title="This page could not be loaded">
      {error.message}{" "}
      {retry ? (
        <button type="button" onClick={retry} className="linkButton">
          Try again
        </button>
      ) : null}
    </Notice>
  );
}
