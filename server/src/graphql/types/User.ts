import type { User } from "../../generated/prisma/client.ts";
import { builder } from "../builder.ts";

export type UserShape = Pick<User, "id" | "email" | "name">;

export const UserRef = builder.objectRef<UserShape>("User").implement({
  description: "A person who signs in to the console",
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
  }),
});
