import { createGraphQLError, type Plugin } from "graphql-yoga";

/**
 * Refuses a JSON or GraphQL request body that is not valid UTF-8. Decoding it leniently
 * would turn each bad byte into U+FFFD, so a secret value sent in another encoding would be
 * stored altered, and the caller would learn only when the credential fails to work.
 */
export function useStrictUtf8Body(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const type = request.headers.get("content-type") ?? "";
      if (
        !requestParser ||
        request.method !== "POST" ||
        !/^application\/(graphql|json)/i.test(type)
      )
        return;
      setRequestParser(async (req) => {
        const bytes = await req.arrayBuffer();
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        } catch {
          throw createGraphQLError("The request body is not valid UTF-8", {
            extensions: { code: "BAD_REQUEST", http: { status: 400 } },
          });
        }
        return requestParser(
          new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, body: bytes }),
        );
      });
    },
  };
}
