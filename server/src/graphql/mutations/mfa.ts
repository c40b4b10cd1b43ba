import { UnauthenticatedError } from "../../errors/UnauthenticatedError.ts";
import { builder } from "../builder.ts";
import { callerOf } from "../context.ts";
import { COMMAND_ERRORS } from "../errors.ts";

const TotpEnrollment = builder
  .objectRef<{ secret: string; otpauthUri: string }>("TotpEnrollment")
  .implement({
    description:
      "A new TOTP seed for your authenticator app, shown this once; confirm it with confirmTotpEnrollment",
    fields: (t) => ({
      secret: t.exposeString("secret", { description: "Base32, for typing into the app" }),
      otpauthUri: t.exposeString("otpauthUri", { description: "otpauth://totp/… for a QR code" }),
    }),
  });

const RecoveryCodes = builder.objectRef<{ recoveryCodes: string[] }>("RecoveryCodes").implement({
  description:
    "Ten single-use codes that stand in for the app's code at sign-in, shown this once (only their hashes are kept)",
  fields: (t) => ({ codes: t.exposeStringList("recoveryCodes") }),
});

const BeginInput = builder.inputType("BeginTotpEnrollmentInput", {
  fields: (t) => ({ password: t.string({ description: "Your current password" }) }),
});
const CodeInput = builder.inputType("TotpCodeInput", {
  fields: (t) => ({ code: t.string({ description: "The app's current 6-digit code" }) }),
});
const DisableInput = builder.inputType("DisableTotpInput", {
  fields: (t) => ({
    password: t.string(),
    code: t.string({ description: "The app's current code, or a recovery code" }),
  }),
});

builder.mutationField("beginTotpEnrollment", (t) =>
  t.field({
    type: TotpEnrollment,
    description: "Step one of turning on two-factor sign-in (TOTP) for the signed-in user",
    authScopes: { user: true },
    errors: { types: [...COMMAND_ERRORS, UnauthenticatedError] },
    args: { input: t.arg({ type: BeginInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.mfa.beginEnrollment(callerOf(ctx), input.password),
  }),
);

builder.mutationField("confirmTotpEnrollment", (t) =>
  t.field({
    type: RecoveryCodes,
    description:
      "Step two: the app's current code turns two-factor sign-in on; answers the recovery codes",
    authScopes: { user: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: CodeInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.mfa.confirmEnrollment(callerOf(ctx), input.code),
  }),
);

builder.mutationField("regenerateRecoveryCodes", (t) =>
  t.field({
    type: RecoveryCodes,
    description: "Ten new recovery codes; the old ones stop working. Needs the app's current code",
    authScopes: { user: true },
    errors: { types: COMMAND_ERRORS },
    args: { input: t.arg({ type: CodeInput }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.mfa.regenerateRecoveryCodes(callerOf(ctx), input.code),
  }),
);

builder.mutationField("disableTotp", (t) =>
  t.boolean({
    description: "Turns two-factor sign-in off: your password and a current or recovery code",
    authScopes: { user: true },
    errors: { types: [...COMMAND_ERRORS, UnauthenticatedError] },
    args: { input: t.arg({ type: DisableInput }) },
    resolve: async (_root, { input }, ctx) => {
      await ctx.services.mfa.disable(callerOf(ctx), input.password, input.code);
      return true;
    },
  }),
);
