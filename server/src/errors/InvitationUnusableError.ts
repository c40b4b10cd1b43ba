import { ValidationError } from "./ValidationError.ts";

/** The link cannot be used: the same words whatever the reason, so it reveals nothing more. */
export class InvitationUnusableError extends ValidationError {
  override name = "InvitationUnusableError";
  constructor(reason: "expired" | "used" | "revoked") {
    super(
      reason === "expired"
        ? "This invitation has expired; ask an administrator for a new one"
        : reason === "used"
          ? "This invitation was already used"
          : "This invitation was withdrawn; ask an administrator for a new one",
    );
  }
}
