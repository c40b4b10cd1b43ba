import type { Logger } from "../logger.ts";
import type { InvitationService } from "./invitations.ts";

/**
 * A worker's timer that records InvitationExpired for every pending invitation whose time
 * is up, so the organization's log says when a link stopped working even if nobody tried
 * it. Several workers may sweep at once: the invitation's stream version makes the second
 * recording of one expiry a no-op (the decider sees it already expired).
 */
export function createInvitationSweep(deps: {
  invitations: Pick<InvitationService, "expireDue">;
  logger: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  return {
    start(intervalMs = 60_000) {
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = deps.invitations
          .expireDue()
          .catch((error: unknown) =>
            deps.logger.error({ err: String(error) }, "invitation expiry sweep failed"),
          )
          .finally(() => (sweeping = undefined));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
    },
  };
}
